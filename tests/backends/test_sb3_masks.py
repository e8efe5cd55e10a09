"""The sb3 backend honours action masks: masked policies train with sb3-contrib's
MaskablePPO through either vector env (SuperSuit's and the adapter), never send an
illegal action (the mask toy raises ActionError at the default check level), beat the
uniform-legal baseline, export to an MLPPolicy that evaluates with masks, resume from
checkpoints; frozen models and fixed policies acting meanwhile are given the masks;
algorithms that ignore masks are refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

import phantomzoo as ph  # noqa: E402
from phantomzoo.backends import sb3_checkpoint, sb3_masks  # noqa: E402
from phantomzoo.backends import sb3_vec as vec  # noqa: E402
from phantomzoo.envs.mask_toy import MaskToyEnv, RefillPolicy, uniform_legal_returns  # noqa: E402
from phantomzoo.errors import ConfigError, TrainingInterrupted  # noqa: E402
from phantomzoo.experiments.evaluation import evaluate  # noqa: E402
from phantomzoo.training.checkpoint import CheckpointStore  # noqa: E402
from phantomzoo.training.mapping import compile_policy_mapping  # noqa: E402
from phantomzoo.training.trained import MLPPolicy  # noqa: E402

SHOPS = {"shop": ["SHOP1", "SHOP2"]}
TINY = {"n_envs": 2, "algorithm_kwargs": {"n_steps": 16, "batch_size": 32, "n_epochs": 1}}
LEARN = {"n_envs": 4, "algorithm_kwargs": {"n_steps": 64, "batch_size": 128, "learning_rate": 3e-3}}


def _train(out, policies=SHOPS, options=None, **kwargs):
    kwargs.setdefault("timesteps", 256)
    return ph.train(
        "mask_toy_v0",
        policies,
        backend="sb3",
        seed=0,
        results_dir=out,
        options=TINY if options is None else options,
        progress=False,
        **kwargs,
    )


# ---------------------------------------------------------------------- learning
@pytest.mark.parametrize("vec_env", ["supersuit", "adapter"])
def test_maskable_ppo_trains_the_mask_toy_legally_and_beats_uniform_legal(tmp_path, vec_env):
    # checks="first" (the default): a single illegal action in training would raise
    result = _train(tmp_path, options={**LEARN, "vec_env": vec_env}, timesteps=6000)
    policy = result.policies["shop"]
    assert isinstance(policy, MLPPolicy)
    env = MaskToyEnv()
    trained = evaluate(env, result.policies, num_episodes=50)["policies"]["shop"][0]
    uniform = float(uniform_legal_returns(env, 50).mean())
    refill = RefillPolicy(env.observation_space("SHOP1"), env.action_space("SHOP1"))
    heuristic = evaluate(env, refill, num_episodes=50)["agents"]["SHOP1"][0]
    # measured (seed 0, 6000 steps): 17.5 both ways; uniform-legal 13.7, refill 17.6
    assert trained > 1.15 * uniform, (trained, uniform, heuristic)
    assert trained > 0.9 * heuristic
    loaded = ph.load_policies(tmp_path / "policies")  # the saved policy honours masks too
    assert evaluate(env, loaded, num_episodes=5)["policies"]["shop"][0] > uniform


def test_exported_policy_needs_the_masks_it_is_given(tmp_path):
    policy = _train(tmp_path).policies["shop"]
    obs = [np.array([0.75, 0.5], np.float32)] * 3  # stock 3 of 4: orders 0 and 1 legal
    masks = [np.array([1, 1, 0, 0, 0])] * 3
    actions = policy.compute_actions(obs, rng=np.random.default_rng(0), action_masks=masks)
    assert set(actions) <= {0, 1}
    assert policy.compute_actions(obs[:1], action_masks=[np.array([0, 0, 0, 1, 0])]) == [3]


# ------------------------------------------------------------- several policies
class GreedyLegal(ph.Policy):
    """Orders the largest legal amount: legal only when it is given the masks."""

    def compute_action(self, observation: Any) -> int:
        return 4  # illegal whenever the warehouse is not empty

    def compute_actions(self, observations, rng=None, action_masks=None):
        if action_masks is None:
            return [4] * len(observations)
        return [int(np.flatnonzero(m)[-1]) for m in action_masks]


def test_frozen_models_and_fixed_policies_get_the_masks(tmp_path):
    policies = {"a": ["SHOP1"], "b": ["SHOP2"], "greedy": (GreedyLegal, ["SHOP3"])}
    env_config = {"num_shops": 3}
    result = ph.train(
        "mask_toy_v0",
        policies,
        backend="sb3",
        env_config=env_config,
        seed=0,
        results_dir=tmp_path,
        options=TINY,
        timesteps=256,
        progress=False,
    )  # "b" acts through its frozen MaskablePPO while "a" learns, and vice versa
    assert {h["policy"] for h in result.history} == {"a", "b"}
    assert isinstance(result.policies["a"], MLPPolicy)


def test_unmasked_models_keep_plain_ppo():
    learnt = ["masked", "plain"]
    chosen = sb3_masks.algorithms({}, "PPO", learnt, {"masked": 5})
    assert chosen == {"masked": "MaskablePPO", "plain": "PPO"}
    assert sb3_masks.algorithms({}, "PPO", learnt, {}) == {"masked": "PPO", "plain": "PPO"}
    explicit = sb3_masks.algorithms({"algorithm": "MaskablePPO"}, "MaskablePPO", learnt, {})
    assert explicit == {"masked": "MaskablePPO", "plain": "MaskablePPO"}


# ------------------------------------------------------------------ the vec env
def test_action_masks_rows_follow_the_env_copies():
    env = MaskToyEnv()
    mapping = compile_policy_mapping(env, SHOPS)
    codec = vec.ActionCodec(mapping.learnt["shop"].action_space)
    pool = vec.EnvPool(MaskToyEnv, mapping, 2, seed=0)
    venv = sb3_masks.MaskedVecEnv(
        vec.PolicyVecEnv(pool, "shop", codec), sb3_masks.pool_mask_rows(pool, "shop", 5)
    )
    venv.reset()
    assert venv.has_attr("action_masks")
    np.testing.assert_array_equal(venv.action_masks(), np.ones((4, 5)))  # empty warehouses
    venv.step(np.full(4, 4))  # refill fully: legal from an empty warehouse
    for _ in range(3):
        rows = np.stack(venv.env_method("action_masks"))
        assert not rows.all()  # some warehouse holds stock after the refill
        for k, (c, agent) in enumerate(pool.slots("shop")):
            engine = pool.copies[c].env.engine
            np.testing.assert_array_equal(rows[k], engine.action_mask(agent))
        venv.step(np.array([int(np.flatnonzero(r)[-1]) for r in rows]))  # the largest legal
    assert venv.env_method("action_masks", indices=[1])[0].shape == (5,)


# -------------------------------------------------------------------- refusals
@pytest.mark.parametrize("algorithm", ["PPO", "A2C", "SAC"])
def test_algorithms_that_ignore_masks_are_refused(tmp_path, algorithm):
    with pytest.raises(ConfigError, match=f"{algorithm} ignores masks.*MaskablePPO"):
        _train(tmp_path, options={"n_envs": 2, "algorithm": algorithm})


def test_maskable_ppo_on_box_actions_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="MaskablePPO needs Discrete actions"):
        ph.train(
            "supply_chain_v0",
            {"shop": ["SHOP"]},
            backend="sb3",
            timesteps=64,
            results_dir=tmp_path,
            options={**TINY, "algorithm": "MaskablePPO"},
            progress=False,
        )


def test_keywords_maskable_ppo_lacks_are_refused(tmp_path):
    options = {**TINY, "algorithm_kwargs": {"sde_sample_freq": 4}}
    with pytest.raises(ConfigError, match="MaskablePPO does not accept.*sde_sample_freq"):
        _train(tmp_path, options=options)


# ----------------------------------------------------------------- checkpoints
def test_maskable_ppo_stops_and_resumes_to_the_budget(tmp_path, monkeypatch):
    original, calls = sb3_checkpoint.Checkpointer.maybe_save, {"n": 0}

    def maybe_save(self):
        calls["n"] += 1
        if calls["n"] == 2:
            self.job.stop.request("SIGINT")
        return original(self)

    monkeypatch.setattr(sb3_checkpoint.Checkpointer, "maybe_save", maybe_save)
    with pytest.raises(TrainingInterrupted):
        _train(tmp_path, timesteps=320)
    checkpoint = CheckpointStore(tmp_path).latest()
    assert checkpoint.progress["timesteps"] < 320
    result = _train(tmp_path, timesteps=320, resume=True)
    assert result.history[-1]["timesteps"] >= 320
    assert result.history[: len(checkpoint.history)] == checkpoint.history
    env = MaskToyEnv()
    assert np.isfinite(evaluate(env, result.policies, num_episodes=3)["policies"]["shop"][0])
