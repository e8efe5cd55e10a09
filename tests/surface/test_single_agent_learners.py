"""ph.SingleAgentEnvAdapter with action masks, Gymnasium's env checker and real learners.

The adapter is a plain ``gymnasium.Env``: Gymnasium's ``check_env`` passes on the
bundled models (parallel and staged) and on the masked toy, SB3's PPO learns one shop
of the tutorial and the paper supply chains while the other shops follow fixed
order-up-to rules, and sb3-contrib's MaskablePPO trains on the masks the adapter
serves. The learner tests are skipped when SB3 (or sb3-contrib) is not installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from models import ConstantPolicy, PingEnv, TurnEnv

import phantomzoo as ph
from phantomzoo.envs.mask_toy import RefillPolicy
from phantomzoo.envs.supply_chain.heuristics import OrderUpToPolicy
from phantomzoo.envs.supply_chain_paper.heuristics import OrderUpToPolicy as PaperOrderUpTo
from phantomzoo.errors import ConfigError, NotResetError


# ------------------------------------------------------------------ action masks
class RecordingRefill(RefillPolicy):
    """Refills, and remembers the masks it was given."""

    def __init__(self, *args, **config):
        super().__init__(*args, **config)
        self.masks: list = []

    def compute_actions(self, observations, rng=None, action_masks=None):
        self.masks.append(action_masks)
        return [self.compute_action(o) for o in observations]


def test_masks_reach_the_learner_in_info_and_the_other_policies():
    env = ph.SingleAgentEnvAdapter("mask_toy_v0", "SHOP1", {"SHOP2": RecordingRefill})
    obs, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [1, 1, 1, 1, 1]  # empty warehouse
    np.testing.assert_array_equal(env.action_masks(), info["action_mask"])
    obs, _, _, _, info = env.step(3)  # 3 of 4 units ordered
    assert info["action_mask"][0] == 1 and info["action_mask"][-1] in (0, 1)
    stock = round(float(obs[0]) * 4)
    assert info["action_mask"].tolist() == [1] * (5 - stock) + [0] * stock
    recorded = env.other_policies["policy_0"].masks
    assert recorded[0][0].tolist() == [1, 1, 1, 1, 1]


def test_unmasked_learners_get_no_mask_in_info():
    env = ph.SingleAgentEnvAdapter(PingEnv, "A", {"B": ConstantPolicy})
    _, info = env.reset(seed=0)
    assert "action_mask" not in info
    assert env.action_masks().tolist() == [1, 1, 1, 1]  # Discrete(4): every action legal
    sc = supply_chain()
    with pytest.raises(NotResetError):
        sc.action_masks()
    sc.reset(seed=0)
    with pytest.raises(ConfigError, match="has no action mask"):
        sc.action_masks()


# ------------------------------------------------------------------ Gymnasium's checker
def supply_chain(**config) -> ph.SingleAgentEnvAdapter:
    others = {"SHOP2": (OrderUpToPolicy, {"level": 20})}
    return ph.SingleAgentEnvAdapter("supply_chain_v0", "SHOP1", others, {"num_shops": 2, **config})


def paper(**config) -> ph.SingleAgentEnvAdapter:
    others = {"SHOP2": (PaperOrderUpTo, {"level": 10})}
    return ph.SingleAgentEnvAdapter(
        "supply_chain_paper_v0", "SHOP1", others, {"num_shops": 2, **config}
    )


@pytest.mark.parametrize(
    "make",
    [
        supply_chain,
        paper,
        lambda: ph.SingleAgentEnvAdapter(TurnEnv, "B", {"A": ConstantPolicy}),
        lambda: ph.SingleAgentEnvAdapter("mask_toy_v0", "SHOP2", {"SHOP1": RefillPolicy}),
    ],
    ids=["supply_chain", "paper_supply_chain", "turns", "mask_toy"],
)
def test_gymnasiums_env_checker_passes(make):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # advice on the models' order sizes, not a contract
        warnings.filterwarnings("ignore", message=".*symmetric and normalized")
        check_env(make(), skip_render_check=True)


# ------------------------------------------------------------------ single-agent learners
def mean_return(env, model, seeds=(100, 101, 102)) -> float:
    totals = []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        totals.append(total)
    return float(np.mean(totals))


@pytest.mark.parametrize("make", [supply_chain, paper], ids=["supply_chain", "paper_staged"])
def test_sb3_ppo_learns_one_shop_against_fixed_ones(make):
    """4096 steps of plain PPO: the untrained shop orders nothing (return 0); the trained
    one sells (about 100 on the tutorial chain, 160 on the paper's, seeds 0-2)."""
    sb3 = pytest.importorskip("stable_baselines3")
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    env = make()
    model = sb3.PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=4, seed=0, device="cpu")
    before = mean_return(make(), model)
    model.learn(4096)
    after = mean_return(make(), model)
    assert after > before + 50.0, (before, after)


def test_sb3_contrib_maskable_ppo_trains_on_masks():
    contrib = pytest.importorskip("sb3_contrib")
    pytest.importorskip("torch")
    env = ph.SingleAgentEnvAdapter("mask_toy_v0", "SHOP1", {"SHOP2": RefillPolicy})
    model = contrib.MaskablePPO(
        "MlpPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(256)  # an illegal order would raise ActionError from the engine
    obs, info = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=info["action_mask"], deterministic=True)
    assert info["action_mask"][int(action)] == 1
