"""The built-in PPO backend ("cleanrl"): smoke runs, learning, export, seeding, options."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from models import DelayedTurnEnv

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.training.mapping import PolicySpec
from phantomzoo.training.trained import MLPPolicy

cleanrl = pytest.importorskip("phantomzoo.backends.cleanrl")

TINY = {"num_envs": 2, "num_steps": 16, "update_epochs": 2, "num_minibatches": 2}


def _train(env, policies, tmp_path, env_config=None, **kwargs):
    kwargs.setdefault("iterations", 2)
    options = {**TINY, **kwargs.pop("options", {})}
    return ph.train(
        env,
        policies,
        backend="cleanrl",
        env_config=env_config,
        seed=kwargs.pop("seed", 0),
        results_dir=tmp_path,
        options=options,
        progress=False,
        **kwargs,
    )


def _check_result(result, tmp_path, learnt):
    assert result.backend == "cleanrl"
    assert result.results_dir == tmp_path
    assert (tmp_path / "policies" / "manifest.json").is_file()
    assert any((tmp_path / "tensorboard").iterdir())
    assert [h["iteration"] for h in result.history] == list(range(1, len(result.history) + 1))
    last = result.history[-1]
    assert last["timesteps"] > 0 and last["seconds"] > 0
    for policy_id in learnt:
        assert isinstance(result.policies[policy_id], MLPPolicy)
        assert set(last["losses"][policy_id]) >= {
            "policy_loss",
            "value_loss",
            "entropy",
            "approx_kl",
        }


# ------------------------------------------------------------------- smoke runs
def test_smoke_supply_chain(tmp_path):
    threads = torch.get_num_threads()
    result = _train("supply_chain_v0", {"shop": ["SHOP"]}, tmp_path)
    assert torch.get_num_threads() == threads  # restored after training on one thread
    assert not torch.are_deterministic_algorithms_enabled()
    _check_result(result, tmp_path, ["shop"])
    assert len(result.history) == 2
    assert result.history[-1]["timesteps"] == 2 * 2 * 16  # iterations x envs x steps
    env = ph.make("supply_chain_v0")
    observations, _ = env.acting_reset(seed=0)
    action = result.policies.compute_actions(observations)["SHOP"]
    assert env.action_space("SHOP").contains(action)


def test_smoke_type_toy(tmp_path):
    result = _train(
        "type_toy_v0",
        {"guessers": ["GUESSER1", "GUESSER2"]},
        tmp_path,
        env_config={"num_agents": 2},
    )
    _check_result(result, tmp_path, ["guessers"])


def test_smoke_paper_supply_chain_staged(tmp_path):
    pytest.importorskip("phantomzoo.envs.supply_chain_paper")
    from phantomzoo.envs.supply_chain_paper import ShopAgent

    config = {"num_shops": 2, "num_cycles": 10}
    result = _train("supply_chain_paper_v0", {"shops": ShopAgent}, tmp_path, env_config=config)
    _check_result(result, tmp_path, ["shops"])
    assert result.history[-1]["episodes"] > 0


def test_smoke_digital_ads_staged_with_terminations(tmp_path):
    pytest.importorskip("phantomzoo.envs.digital_ads")
    # Small budgets: advertisers run out of budget and terminate while the env goes on.
    config = {
        "advertisers_per_family": 2,
        "num_steps": 30,
        "travel_budget": (0.5, 1.0),
        "tech_budget": (0.5, 1.0),
        "sport_budget": (0.5, 1.0),
    }
    env = ph.make("digital_ads_v0", **config)
    families = {theme: ids for theme, ids in env.family_ids.items()}
    result = _train("digital_ads_v0", families, tmp_path, env_config=config)
    _check_result(result, tmp_path, list(families))
    # Early terminations: fewer transitions than every advertiser acting at every step.
    assert result.history[-1]["timesteps"] < 2 * 2 * 16 * 6


def test_fixed_policy_acts_but_does_not_learn(tmp_path):
    from phantomzoo.envs.supply_chain import OrderUpToPolicy

    policies = {
        "learnt": ["SHOP1"],
        "fixed": (OrderUpToPolicy, ["SHOP2"], {"level": 25}),
    }
    config = {"num_shops": 2, "num_steps": 10}
    metrics = {"stock": ph.metrics.SimpleAgentMetric("SHOP1", "stock", "mean")}
    result = _train("supply_chain_v0", policies, tmp_path, env_config=config, metrics=metrics)
    _check_result(result, tmp_path, ["learnt"])
    assert np.isfinite(result.history[-1]["metrics"]["stock"])  # user metrics per iteration
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    expected = {"returns/learnt", "returns/fixed", "episode/length", "metrics/stock"}
    assert expected | {"losses/learnt/policy_loss", "losses/learnt/approx_kl"} <= tags
    assert isinstance(result.policies["fixed"], OrderUpToPolicy)
    assert "fixed" not in result.history[-1]["losses"]
    assert result.history[-1]["timesteps"] == 2 * 2 * 16  # only SHOP1's transitions
    assert set(result.history[-1]["returns"]) == {"learnt", "fixed"}


def test_delayed_rewards_are_credited_to_the_action_that_earned_them(tmp_path):
    from models import ConstantPolicy

    policies = {"a": ["A"], "b": (ConstantPolicy, ["B"], {"value": 0})}
    # gamma = 0: an action's advantage is its own reward only, so credit must be exact.
    options = {"num_envs": 8, "num_steps": 32, "learning_rate": 3e-3, "gamma": 0.0}
    result = _train(DelayedTurnEnv, policies, tmp_path, iterations=30, options=options)
    # A's best action is 3 (its reward); only learnable if rewards reach the right action.
    logits = result.policies["a"].forward(np.arange(4.0).reshape(4, 1))  # obs: A's last ping
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert (probabilities[:, 3] > 0.9).all(), probabilities


def test_delayed_reward_bookkeeping():
    """Rewards go to the slot's last pending action; next values follow the slot's chain."""
    space = gym.spaces.Box(-1.0, 1.0, (1,))
    spec = PolicySpec("p", ["X", "Y"], space, space)
    args = cleanrl.make_args(
        {"num_steps": 4, "norm_reward": False, "norm_obs": False, "gamma": 1.0, "gae_lambda": 1.0}
    )
    learner = cleanrl.Learner(spec, args, num_envs=1, generator=torch.Generator().manual_seed(0))
    obs = np.zeros((2, 1))
    learner.act(obs, np.array([0, 1]), torch.Generator().manual_seed(1))  # X: 0, Y: 1
    learner.buffer.credit(np.array([0]), np.array([1.0]))  # X's reward for transition 0
    learner.act(obs[:1], np.array([0]), torch.Generator().manual_seed(2))  # X: 2 (Y waits)
    learner.buffer.credit(np.array([1, 0]), np.array([5.0, 2.0]))  # Y's late reward -> 1; X -> 2
    learner.buffer.end(np.array([0, 1]), np.array([0.0, 0.0]))  # both terminate
    advantages, returns = learner.advantages(np.zeros(0, np.int64), np.zeros((0, 1)))
    np.testing.assert_allclose(returns, [3.0, 5.0, 2.0], atol=1e-6)  # X: 1 + 2, Y: 5, X: 2
    np.testing.assert_allclose(advantages, returns - learner.buffer.values[:3], atol=1e-6)


def test_transitions_link_successors_into_later_chunks():
    """The buffer's invariant: a row's successor lies in a later chunk (GAE runs backwards)."""
    from phantomzoo.backends.cleanrl_buffer import Transitions

    buffer = Transitions(3, 12, 1, (), np.int64, gamma=0.5)
    for slots in ([0, 1, 2], [0], [1, 2], [0, 2]):
        n = len(slots)
        buffer.add(np.asarray(slots), np.zeros((n, 1)), np.zeros(n), np.zeros(n), np.ones(n))
    chunk_of = {row: k for k, (a, b) in enumerate(buffer.chunks) for row in range(a, b)}
    linked = [(row, int(nxt)) for row, nxt in enumerate(buffer.next[: buffer.size]) if nxt >= 0]
    assert linked == [(0, 3), (1, 4), (2, 5), (3, 6), (5, 7)]
    assert all(chunk_of[nxt] > chunk_of[row] for row, nxt in linked)
    buffer.credit(np.array([0, 0]), np.array([1.0, 2.0]))  # both to slot 0's open row 6
    assert buffer.rewards[6] == 3.0 and buffer.discounted[0] == 3.0
    buffer.bootstrap_open(np.array([1]), np.array([7.0]))  # slot 1 acts now: V = 7
    assert buffer.boot[4] == 7.0 and buffer.boot[6] == 1.0  # slot 0 open: its own value
    advantages, returns = buffer.gae(buffer.rewards[: buffer.size], gae_lambda=1.0)
    assert returns[6] == 3.0 + 0.5 * 1.0 and returns[3] == 0.5 * returns[6]
    buffer.clear()
    assert buffer.size == 0 and (buffer.pending == -1).all() and buffer.discounted[0] == 3.0


def test_max_seconds_stops_training(tmp_path):
    result = _train(
        "supply_chain_v0",
        {"shop": ["SHOP"]},
        tmp_path,
        iterations=10**6,
        options={"max_seconds": 0.5},
    )
    assert len(result.history) < 10**6
    assert 0.5 <= result.history[-1]["seconds"] < 0.5 + 2.0  # the budget, plus one update


# ------------------------------------------------------------------------- learning
def test_type_toy_shared_policy_learns_types(tmp_path):
    from phantomzoo.envs.type_toy import TYPE_VARIANCE, Guesser, type_mse

    options = {"num_envs": 4, "num_steps": 32}
    result = ph.train(
        "type_toy_v0",
        {"guessers": Guesser},
        env_config={"num_agents": 4},
        timesteps=16_000,
        seed=0,
        results_dir=tmp_path,
        options=options,
        progress=False,
    )
    mse = type_mse(ph.make("type_toy_v0", num_agents=4), result.policies.compute_actions)
    assert mse < 0.1 * TYPE_VARIANCE


# --------------------------------------------------------------------------- export
@pytest.mark.parametrize(
    "action_space",
    [
        gym.spaces.Box(np.array([0, -5], np.float32), np.array([100, 5], np.float32)),
        gym.spaces.Discrete(5, start=2),
    ],
    ids=["box", "discrete"],
)
@pytest.mark.parametrize("norm_obs", [True, False])
def test_exported_policy_equals_torch_deterministic_actions(action_space, norm_obs):
    obs_space = gym.spaces.Box(-10.0, 10.0, (6,))
    spec = PolicySpec("p", ["X"], obs_space, action_space)
    args = cleanrl.make_args({"hidden_sizes": [32, 16], "norm_obs": norm_obs, "obs_clip": 3.0})
    gen = torch.Generator().manual_seed(0)
    learner = cleanrl.Learner(spec, args, num_envs=1, generator=gen)
    rng = np.random.default_rng(0)
    with torch.no_grad():  # make the weights and normaliser non-trivial
        for param in learner.net.parameters():
            param.add_(torch.randn(param.shape, generator=gen))
    if learner.obs_rms is not None:
        learner.obs_rms.update(rng.normal(2.0, 3.0, (50, 6)))
    policy = cleanrl.export_policy(learner.net, spec, learner.obs_rms, args.obs_clip)

    raw = rng.normal(0.0, 6.0, (200, 6))
    with torch.no_grad():
        torch_actions = learner.net.deterministic(torch.from_numpy(learner.normalise(raw)))
    exported = np.asarray(policy.compute_actions(list(raw)))
    if isinstance(action_space, gym.spaces.Box):
        low, high = action_space.low, action_space.high
        expected = low + (torch_actions.numpy() + 1.0) * 0.5 * (high - low)
        np.testing.assert_allclose(exported, expected, rtol=1e-4, atol=1e-4)
    else:
        np.testing.assert_array_equal(exported, torch_actions.numpy() + 2)


def test_normaliser_refresh_keeps_the_policy_unchanged():
    """New observation statistics are absorbed by the first layers: no policy drift."""
    space = gym.spaces.Box(-10.0, 10.0, (3,))
    spec = PolicySpec("p", ["X"], space, gym.spaces.Box(-1.0, 1.0, (2,)))
    gen = torch.Generator().manual_seed(0)
    learner = cleanrl.Learner(spec, cleanrl.make_args({}), num_envs=1, generator=gen)
    rng = np.random.default_rng(0)
    raw = rng.normal(1.5, 0.5, (100, 3))  # stays inside the clip range
    for shift in (0.0, 3.0):
        before = cleanrl.export_policy(learner.net, spec, learner.obs_rms, 10.0)
        with torch.no_grad():
            values_before = learner.values_of(raw)
        learner.act(rng.normal(shift, 1.0, (64, 3)), np.zeros(64, np.int64), gen)
        learner.refresh_normaliser()
        after = cleanrl.export_policy(learner.net, spec, learner.obs_rms, 10.0)
        assert not np.allclose(before.obs_mean, after.obs_mean)
        np.testing.assert_allclose(before.forward(raw), after.forward(raw), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(learner.values_of(raw), values_before, rtol=1e-4, atol=1e-4)
        learner.buffer.clear()
        learner.raw_seen = []


def test_save_load_round_trip(tmp_path):
    from phantomzoo.envs.supply_chain import OrderUpToPolicy

    policies = {"learnt": ["SHOP1"], "fixed": (OrderUpToPolicy, ["SHOP2"], {"level": 25})}
    result = _train("supply_chain_v0", policies, tmp_path, env_config={"num_shops": 2})
    loaded = ph.load_policies(tmp_path / "policies")
    env = ph.make("supply_chain_v0", num_shops=2)
    for seed in range(3):
        observations, _ = env.acting_reset(seed=seed)
        mine = result.policies.compute_actions(observations)
        theirs = loaded.compute_actions(observations)
        for agent_id in mine:
            np.testing.assert_array_equal(mine[agent_id], theirs[agent_id])


# ---------------------------------------------------------------------- determinism
def test_same_seed_same_result(tmp_path):
    runs = [
        _train(
            "type_toy_v0",
            {"g": ["GUESSER1", "GUESSER2"]},
            tmp_path / str(n),
            seed=s,
            env_config={"num_agents": 2},
            iterations=3,
        )
        for n, s in enumerate([7, 7, 8])
    ]
    first, again, other = (r.policies["g"].arrays() for r in runs)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert [h["returns"] for h in runs[0].history] == [h["returns"] for h in runs[1].history]
    assert any(not np.array_equal(first[name], other[name]) for name in first)


# -------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"num_envs": 0}, "num_envs must be an int >= 1"),
        ({"num_steps": 2.5}, "num_steps must be an int >= 1"),
        ({"gamma": 1.5}, r"gamma must be a number in \[0, 1\]"),
        ({"learning_rate": -1e-3}, "learning_rate must be a finite number >= 0"),
        ({"obs_clip": 0}, "obs_clip must be a finite number > 0"),
        ({"norm_obs": "yes"}, "norm_obs must be True or False"),
        ({"target_kl": -0.1}, "target_kl must be None or a number > 0"),
        ({"max_seconds": 0}, "max_seconds must be None or a number > 0"),
        ({"activation": "sigmoid"}, "activation must be 'tanh' or 'relu'"),
        ({"hidden_sizes": []}, "hidden_sizes must be a non-empty list of ints"),
    ],
)
def test_bad_option_values(tmp_path, options, match):
    with pytest.raises(ConfigError, match=match):
        _train("supply_chain_v0", {"shop": ["SHOP"]}, tmp_path, options=options)


def test_unknown_option(tmp_path):
    with pytest.raises(ConfigError, match=r"does not accept option\(s\) \['num_env'\]"):
        _train("supply_chain_v0", {"shop": ["SHOP"]}, tmp_path, options={"num_env": 4})
    with pytest.raises(ConfigError, match="unknown option"):
        cleanrl.make_args({"num_env": 4})


@pytest.mark.parametrize(
    ("obs_space", "action_space", "match"),
    [
        (gym.spaces.Dict({"x": gym.spaces.Box(0, 1, (1,))}), gym.spaces.Discrete(2), "only Box"),
        (gym.spaces.Box(0, 1, (2,)), gym.spaces.MultiDiscrete([2, 3]), "only Box and Discrete"),
    ],
)
def test_unsupported_spaces(obs_space, action_space, match):
    spec = PolicySpec("p", ["X"], obs_space, action_space)
    with pytest.raises(ConfigError, match=match):
        cleanrl.Learner(spec, cleanrl.make_args({}), 1, torch.Generator().manual_seed(0))


def test_options_are_the_args_fields():
    assert cleanrl.OPTIONS == {f for f in cleanrl.Args.__dataclass_fields__}
