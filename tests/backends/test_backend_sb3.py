"""The sb3 backend: smoke runs on every bundled model, adapter semantics, export, options."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("supersuit")

from stable_baselines3 import A2C, PPO, SAC  # noqa: E402
from stable_baselines3.common.vec_env import VecNormalize  # noqa: E402
from torch import nn  # noqa: E402

import phantomzoo as ph  # noqa: E402
from phantomzoo.backends import sb3  # noqa: E402
from phantomzoo.backends.sb3_vec import ActionCodec, EnvPool, PolicyVecEnv  # noqa: E402
from phantomzoo.envs.supply_chain import OrderUpToPolicy  # noqa: E402
from phantomzoo.envs.type_toy import TYPE_VARIANCE, type_mse  # noqa: E402
from phantomzoo.errors import ConfigError, TrainingError  # noqa: E402
from phantomzoo.training.mapping import compile_policy_mapping  # noqa: E402

#: Tiny PPO: one small rollout per update, one epoch.
TINY = {"n_envs": 2, "algorithm_kwargs": {"n_steps": 16, "batch_size": 32, "n_epochs": 1}}
GUESSERS = ["GUESSER1", "GUESSER2", "GUESSER3", "GUESSER4"]


def _train(tmp_path, env, policies, env_config=None, options=None, **kwargs):
    kwargs.setdefault("iterations", 2)
    return ph.train(
        env,
        policies,
        backend="sb3",
        env_config=env_config,
        seed=0,
        results_dir=tmp_path / "run",
        options=TINY if options is None else options,
        progress=False,
        **kwargs,
    )


# --------------------------------------------------------------- tiny test models
class Echoer(ph.StrategicAgent):
    """Observes its own last action; rewarded with it (when its stage says so)."""

    def __init__(self, agent_id: str, lifetime: int | None = None) -> None:
        super().__init__(agent_id)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,))
        self.action_space = gym.spaces.Box(0.0, 1.0, (1,))
        self.lifetime = lifetime
        self.last = 0.0
        self.acted = 0

    def reset(self) -> None:
        self.last, self.acted = 0.0, 0

    def decode_action(self, ctx, action):
        self.last = float(np.asarray(action).reshape(-1)[0])
        self.acted += 1

    def encode_observation(self, ctx):
        return np.array([self.last], dtype=np.float32)

    def compute_reward(self, ctx):
        return self.last


class Mortal(Echoer):
    def is_terminated(self, ctx):
        return self.lifetime is not None and self.acted >= self.lifetime


class DelayedEnv(ph.FiniteStateMachineEnv):
    """L acts in stage "l"; F acts in stage "f", whose resolution rewards L (delayed)."""

    def __init__(self) -> None:
        network = ph.Network([Echoer("L"), Echoer("F")])
        super().__init__(
            6,
            network,
            initial_stage="l",
            stages=[
                ph.FSMStage("l", ["L"], rewarded_agents=[], next_stages=["f"]),
                ph.FSMStage("f", ["F"], rewarded_agents=["L"], next_stages=["l"]),
            ],
        )


class EarlyEnv(ph.PhantomEnv):
    """A1 terminates after 2 steps, A2 runs the full 5."""

    def __init__(self) -> None:
        super().__init__(num_steps=5, network=ph.Network([Mortal("A1", 2), Mortal("A2")]))


class Constant(ph.Policy):
    def compute_action(self, observation):
        return np.array([self.config.get("value", 0.5)], dtype=np.float32)


# ----------------------------------------------------------------------- smoke runs
@pytest.mark.parametrize(
    "env, policies, config",
    [
        ("supply_chain_v0", {"shop": ["SHOP"]}, {}),
        ("supply_chain_v0", {"shops": ["SHOP1", "SHOP2", "SHOP3"]}, {"num_shops": 3}),
        ("type_toy_v0", {"g": GUESSERS}, {}),
        (
            "supply_chain_paper_v0",
            {"shops": ["SHOP1", "SHOP2"]},
            {"num_shops": 2, "num_cycles": 10},
        ),
        (
            "digital_ads_v0",
            {"travel": ["TRAVEL1"], "tech": ["TECH1"], "sport": ["SPORT1"]},
            {"advertisers_per_family": 1, "num_steps": 20},
        ),
    ],
)
def test_smoke_train_on_bundled_models(tmp_path, env, policies, config):
    result = _train(tmp_path, env, policies, config)
    assert result.backend == "sb3"
    assert set(result.policies) == set(policies)
    assert all(isinstance(result.policies[p], ph.MLPPolicy) for p in policies)
    assert result.history and result.history[-1]["timesteps"] > 0
    assert (tmp_path / "run" / "tensorboard").is_dir()
    evaluation = ph.evaluate(ph.make(env, **config), result.policies, num_episodes=2)
    assert set(evaluation["policies"]) == set(policies)


def test_fixed_policy_alongside_a_learnt_one(tmp_path):
    policies = {"learnt": ["SHOP1"], "fixed": (OrderUpToPolicy, ["SHOP2", "SHOP3"], {"level": 25})}
    metrics = {"SHOP2/stock": ph.metrics.SimpleAgentMetric("SHOP2", "stock", "mean")}
    result = _train(
        tmp_path,
        "supply_chain_v0",
        policies,
        {"num_shops": 3},
        iterations=None,
        timesteps=400,
        metrics=metrics,
    )
    assert 0 < result.history[-1]["metrics"]["SHOP2/stock"] <= 25
    assert isinstance(result.policies["fixed"], OrderUpToPolicy)
    assert isinstance(result.policies["learnt"], ph.MLPPolicy)
    # The fixed shops played their order-up-to rule: far above random restocking.
    assert result.history[-1]["returns"]["fixed"] > 600


def test_several_learnt_policies_alternate_on_a_staged_env(tmp_path):
    options = {**TINY, "turn_timesteps": 64}  # two rollouts (2 slots x 16 steps) per turn
    result = _train(tmp_path, DelayedEnv, {"l": ["L"], "f": ["F"]}, options=options, iterations=4)
    assert [h["policy"] for h in result.history[:4]] == ["l", "l", "f", "f"]


def test_algorithms_and_normalisation_run(tmp_path):
    for n, options in enumerate(
        [
            {"algorithm": "A2C", "n_envs": 2},
            {"algorithm": "SAC", "algorithm_kwargs": {"learning_starts": 16, "batch_size": 16}},
            {"algorithm": "PPO", "normalize": True, "anneal_lr": True, **TINY},
        ]
    ):
        result = _train(
            tmp_path / str(n),
            "supply_chain_v0",
            {"shop": ["SHOP"]},
            options=options,
            iterations=None,
            timesteps=40,
        )
        assert result.history[-1]["timesteps"] >= 40


# ----------------------------------------------------------------- type acceptance
def test_shared_policy_learns_each_agents_type(tmp_path):
    options = {
        "n_envs": 4,
        "algorithm_kwargs": {
            "n_steps": 32,
            "batch_size": 128,
            "learning_rate": 3e-3,
            "gamma": 0.0,
            "n_epochs": 10,
        },
        "policy_kwargs": {"net_arch": [32, 32], "log_std_init": -1.0},
    }
    result = _train(
        tmp_path, "type_toy_v0", {"g": GUESSERS}, options=options, iterations=None, timesteps=10_000
    )
    mse = type_mse(ph.make("type_toy_v0"), result.policies.compute_actions)
    assert mse < 0.1 * TYPE_VARIANCE


# ------------------------------------------------------------- adapter semantics
def _pool_env(env_cls, policies, learner):
    env = env_cls()
    mapping = compile_policy_mapping(env, policies)
    pool = EnvPool(env_cls, mapping, n_envs=1, seed=0)
    for policy_id, spec in mapping.fixed.items():
        policy = spec.build_fixed()
        pool.actors[policy_id] = lambda obs, p=policy: p.compute_actions(list(obs))
    codec = ActionCodec(mapping.policies[learner].action_space)
    return pool, PolicyVecEnv(pool, learner, codec)


def test_delayed_reward_is_credited_to_the_action_that_earned_it():
    pool, venv = _pool_env(DelayedEnv, {"l": ["L"], "f": (Constant, ["F"])}, "l")
    venv.reset()
    rewards, dones = [], []
    for action in [-1.0, 0.0, 1.0, 0.5]:  # normalised: env actions 0, 0.5, 1, 0.75
        venv.step_async(np.array([[action]]))
        _, reward, done, info = venv.step_wait()
        rewards.append(float(reward[0]))
        dones.append(bool(done[0]))
    assert rewards == pytest.approx([0.0, 0.5, 1.0, 0.75])
    # 6 stages = 3 decisions of L per episode: the third ends the episode (truncated).
    assert dones == [False, False, True, False]


def test_agents_ending_early_report_done_then_pad_until_the_copy_resets():
    pool, venv = _pool_env(EarlyEnv, {"a": ["A1", "A2"]}, "a")
    venv.reset()
    steps = []
    for _ in range(6):
        venv.step_async(np.zeros((2, 1)))
        _, reward, done, info = venv.step_wait()
        steps.append((reward.round(3).tolist(), done.tolist(), info))
    # A1: two real decisions, done on the 2nd (terminated), padding (reward 0, done) after.
    assert [s[1][0] for s in steps] == [False, True, True, True, True, False]
    assert steps[1][2][0]["TimeLimit.truncated"] is False
    assert [s[0][0] for s in steps[2:5]] == [0.0, 0.0, 0.0]
    # A2 runs the 5 steps and is truncated by the time limit (SB3 then bootstraps).
    assert [s[1][1] for s in steps] == [False, False, False, False, True, False]
    assert steps[4][2][1]["TimeLimit.truncated"] is True
    assert pool.agent_steps == 2 + 5 + 2  # padding excluded; the 6th step is a new episode


def test_agents_of_one_policy_acting_at_different_times_are_refused(tmp_path):
    with pytest.raises(TrainingError, match="decide at the same moments"):
        _train(tmp_path, DelayedEnv, {"both": ["L", "F"]})


# ------------------------------------------------------------------------- export
@pytest.mark.parametrize(
    "algorithm, env, policies, normalize, policy_kwargs",
    [
        (PPO, "supply_chain_v0", {"shop": ["SHOP"]}, True, {}),
        (A2C, "supply_chain_v0", {"shop": ["SHOP"]}, False, {"activation_fn": nn.ReLU}),
        (SAC, "supply_chain_v0", {"shop": ["SHOP"]}, False, {"activation_fn": nn.Tanh}),
        (SAC, "supply_chain_v0", {"shop": ["SHOP"]}, True, {"activation_fn": nn.Tanh}),
        (PPO, "models:PingEnv", {"talk": ["A", "B"]}, False, {}),
        (A2C, "models:PingEnv", {"talk": ["A", "B"]}, True, {"net_arch": [8]}),
    ],
)
def test_exported_policy_matches_the_model(algorithm, env, policies, normalize, policy_kwargs):
    source = ph.training.resolve_env(env)
    mapping = compile_policy_mapping(source.make(), policies)
    (policy_id,) = policies
    spec = mapping.policies[policy_id]
    codec = ActionCodec(spec.action_space)
    venv = PolicyVecEnv(EnvPool(source.make, mapping, 2, 0), policy_id, codec)
    if normalize:
        venv = VecNormalize(venv)
        venv.obs_rms.mean[:], venv.obs_rms.var[:] = 0.3, 2.0  # non-trivial statistics
    model = algorithm("MlpPolicy", venv, policy_kwargs=policy_kwargs, device="cpu", seed=0)
    exported = sb3.export_policy(model, spec.observation_space, spec.action_space)
    space = spec.observation_space
    obs = np.random.default_rng(0).uniform(space.low, space.high, (64, *space.shape))
    obs = obs.astype(np.float32)
    model_obs = venv.normalize_obs(obs) if normalize else obs
    expected = codec.to_env(model.predict(model_obs, deterministic=True)[0])
    actual = exported.compute_actions(list(obs))
    np.testing.assert_allclose(
        np.asarray(actual, float), np.asarray(expected, float), rtol=1e-5, atol=1e-5
    )


def test_export_refuses_what_mlp_policy_cannot_express():
    source = ph.training.resolve_env("supply_chain_v0")
    mapping = compile_policy_mapping(source.make(), {"shop": ["SHOP"]})
    spec = mapping.policies["shop"]
    venv = PolicyVecEnv(EnvPool(source.make, mapping, 1, 0), "shop", ActionCodec(spec.action_space))
    model = SAC("MlpPolicy", venv, device="cpu")  # SB3's default: ReLU hidden layers
    with pytest.raises(ConfigError, match="SAC with relu hidden layers cannot be exported"):
        sb3.export_policy(model, spec.observation_space, spec.action_space)


def test_saved_policies_load_and_act_the_same(tmp_path):
    result = _train(tmp_path, "supply_chain_v0", {"shop": ["SHOP"]})
    loaded = ph.load_policies(tmp_path / "run" / "policies")
    obs = {"SHOP": np.array([0.2, 0.5, 0.1], dtype=np.float32)}
    np.testing.assert_array_equal(
        loaded.compute_actions(obs)["SHOP"], result.policies.compute_actions(obs)["SHOP"]
    )


def test_supersuit_path_logs_returns_and_metrics(tmp_path):
    metrics = {"SHOP/sales": ph.metrics.SimpleAgentMetric("SHOP", "sales", "sum")}
    result = _train(
        tmp_path,
        "supply_chain_v0",
        {"shop": ["SHOP"]},
        options={**TINY, "vec_env": "supersuit"},
        iterations=None,
        timesteps=400,
        metrics=metrics,
    )
    last = result.history[-1]
    # episodes per row are those finished in that iteration: 4 in all, 100 steps each
    assert sum(row["episodes"] for row in result.history) == 4
    assert last["episode_length"] == 100
    assert last["metrics"]["SHOP/sales"] > 0 and "shop" in last["returns"]


def test_same_seed_same_result(tmp_path):
    for vec_env in ("adapter", "supersuit"):
        options = {**TINY, "vec_env": vec_env}
        runs = [
            _train(
                tmp_path / f"{vec_env}{n}", "supply_chain_v0", {"shop": ["SHOP"]}, options=options
            )
            for n in range(2)
        ]
        weights = [r.policies["shop"].arrays() for r in runs]
        for key in weights[0]:
            np.testing.assert_array_equal(weights[0][key], weights[1][key])
    runs = [  # several policies, alternating, on a staged env
        _train(tmp_path / f"staged{n}", DelayedEnv, {"l": ["L"], "f": ["F"]}, iterations=4)
        for n in range(2)
    ]
    for policy_id in ("l", "f"):
        np.testing.assert_array_equal(
            runs[0].policies[policy_id].head[0], runs[1].policies[policy_id].head[0]
        )


# ------------------------------------------------------------------------ options
@pytest.mark.parametrize(
    "options, match",
    [
        (
            {"algorithm": "PPO2"},
            r"algorithm must be one of \['A2C', 'MaskablePPO', 'PPO', 'SAC'\], got 'PPO2'",
        ),
        ({"algorithm_kwargs": {"n_stepz": 8}}, r"does not accept algorithm_kwargs \['n_stepz'\]"),
        ({"algorithm_kwargs": {"seed": 3}}, r"may not set \['seed'\]"),
        ({"algorithm_kwargs": {"batch_size": 0}}, "cannot build PPO"),
        ({"algorithm_kwargs": []}, "algorithm_kwargs must be a dict"),
        ({"policy_kwargs": {"activation_fn": "gelu"}}, "activation_fn 'gelu' is not supported"),
        ({"algorithm": "SAC", "policy_kwargs": {"activation_fn": "relu"}}, "must use tanh too"),
        ({"n_envs": 0}, "n_envs must be an int >= 1, got 0"),
        ({"max_seconds": "soon"}, "max_seconds must be None or a number > 0, got 'soon'"),
        ({"normalize": "yes"}, "normalize must be True, False or a dict"),
        ({"vec_env": "gym"}, "vec_env must be 'auto', 'supersuit' or 'adapter'"),
        ({"anneal_lr": 1}, "anneal_lr must be True or False, got 1"),
        ({"sb3_logging": "no"}, "sb3_logging must be True or False"),
        ({"turn_timesteps": 0}, "turn_timesteps must be None or an int >= 1"),
        ({"n_env": 2}, r"does not accept option\(s\) \['n_env'\]"),
        ({"algorithm_kwargs": {"use_sde": True}}, "gSDE"),
    ],
)
def test_bad_options_raise_config_error(tmp_path, options, match):
    with pytest.raises(ConfigError, match=match):
        _train(tmp_path, "supply_chain_v0", {"shop": ["SHOP"]}, options=options)


def test_sac_needs_box_actions(tmp_path):
    with pytest.raises(ConfigError, match="SAC needs Box actions"):
        _train(tmp_path, "models:PingEnv", {"talk": ["A", "B"]}, options={"algorithm": "SAC"})


def test_supersuit_refused_where_it_cannot_fit(tmp_path):
    with pytest.raises(ConfigError, match="the env is staged"):
        _train(
            tmp_path / "staged",
            "supply_chain_paper_v0",
            {"s": ["SHOP1", "SHOP2", "SHOP3", "SHOP4"]},
            options={"vec_env": "supersuit"},
        )
    with pytest.raises(ConfigError, match="agents may end before the others"):
        _train(tmp_path / "early", EarlyEnv, {"a": ["A1", "A2"]}, options={"vec_env": "supersuit"})


def test_unknown_option_names_the_accepted_ones(tmp_path):
    with pytest.raises(ConfigError, match="does not accept option"):
        _train(tmp_path, "supply_chain_v0", {"shop": ["SHOP"]}, options={"lr": 0.1})


def test_bad_options_are_refused_before_the_results_directory_is_touched(tmp_path):
    with pytest.raises(ConfigError, match="algorithm must be one of .*, got 'DQN'"):
        _train(tmp_path, "supply_chain_v0", {"shop": ["SHOP"]}, options={"algorithm": "DQN"})
    with pytest.raises(ConfigError, match="n_envs must be an int >= 1"):
        _train(tmp_path, "supply_chain_v0", {"shop": ["SHOP"]}, options={"n_envs": 0})
    assert not (tmp_path / "run").exists()
