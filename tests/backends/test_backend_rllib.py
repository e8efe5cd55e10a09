"""The RLlib backend ("rllib"): env adapter, export, smoke runs on parallel and staged
models, type-toy learning, options, and attaching to a running Ray cluster.

Training runs share one private local Ray session (module fixture); ``ph.train`` reuses
it. The cluster test runs last: it ends that session and starts its own cluster.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the rllib backend needs: pip install 'phantomzoo[rllib]'")
pytest.importorskip("ray.rllib", reason="the rllib backend needs: pip install 'phantomzoo[rllib]'")

import torch  # noqa: E402
from ray.rllib.env.multi_agent_episode import MultiAgentEpisode  # noqa: E402
from ray.rllib.utils.pre_checks.env import check_multiagent_environments  # noqa: E402

import phantomzoo as ph  # noqa: E402
from phantomzoo.backends import rllib  # noqa: E402
from phantomzoo.errors import ConfigError  # noqa: E402
from phantomzoo.training import EnvSource  # noqa: E402
from phantomzoo.training.mapping import PolicySpec, compile_policy_mapping  # noqa: E402
from phantomzoo.training.trained import MLPPolicy  # noqa: E402

TINY = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 1}
# RLlib re-registers its gymnasium env id for every algorithm it builds.
pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-multi-agent-env")


@pytest.fixture(scope="module")
def ray_local():
    with rllib.ray_session(None, num_env_runners=1):
        yield


def _train(env, policies, tmp_path, env_config=None, **kwargs):
    kwargs.setdefault("iterations", 2)
    return ph.train(
        env,
        policies,
        backend="rllib",
        env_config=env_config,
        seed=kwargs.pop("seed", 0),
        results_dir=tmp_path,
        options={**TINY, **kwargs.pop("options", {})},
        progress=False,
        **kwargs,
    )


def _check_result(result, tmp_path, learnt):
    assert result.backend == "rllib"
    assert result.results_dir == tmp_path
    assert (tmp_path / "policies" / "manifest.json").is_file()
    assert (tmp_path / "training.json").is_file()
    assert any((tmp_path / "tensorboard").iterdir())
    assert [h["iteration"] for h in result.history] == list(range(1, len(result.history) + 1))
    steps = [h["timesteps"] for h in result.history]
    assert steps[0] > 0 and steps == sorted(steps)
    for policy_id in learnt:
        assert isinstance(result.policies[policy_id], MLPPolicy)
    assert any(h["episodes"] for h in result.history)


# ------------------------------------------------------------------- env adapter
def _adapter(policies):
    source = EnvSource("import", "models:DelayedTurnEnv", {})
    mapping = compile_policy_mapping(source.make(), policies)
    return rllib.PhantomMultiAgentEnv(
        {"env_source": source, "mapping": mapping, "metrics": {}, "seed": 0}
    )


def _play_into_rllib_episode(env, seed=0):
    """One episode of random actions, recorded by RLlib's own MultiAgentEpisode."""
    rng = np.random.default_rng(seed)
    episode = MultiAgentEpisode(
        observation_space=env.observation_spaces,
        action_space=env.action_spaces,
        agent_to_module_mapping_fn=lambda agent_id, episode: "m",
    )
    observations, infos = env.reset(seed=seed)
    episode.add_env_reset(observations=observations, infos=infos)
    flags = []
    while not episode.is_done:
        actions = {a: int(rng.integers(4)) for a in episode.get_agents_to_act()}
        observations, rewards, terms, truncs, infos = env.step(actions)
        assert set(observations) <= set(env.possible_agents)
        episode.add_env_step(
            observations, actions, rewards, infos, terminateds=terms, truncateds=truncs
        )
        flags.append((terms["__all__"], truncs["__all__"]))
    return episode, flags


def test_adapter_credits_delayed_rewards_to_the_action_that_earned_them():
    env = _adapter({"a": ["A"], "b": ["B"]})
    check_multiagent_environments(env)
    episode, flags = _play_into_rllib_episode(env)
    for agent_id in ("A", "B"):
        agent = episode.agent_episodes[agent_id]
        assert len(agent) == 4  # 8 stages, every other one each
        # Talker's reward is its own last action: exact credit means rewards == actions.
        np.testing.assert_array_equal(agent.get_rewards(), agent.get_actions())
    assert flags[-1] == (False, True) and all(f == (False, False) for f in flags[:-1])
    returns = env.last_summary["returns"]
    assert returns["a"] == sum(episode.agent_episodes["A"].get_rewards())


def test_adapter_plays_fixed_policies_itself():
    from models import ConstantPolicy

    env = _adapter({"a": ["A"], "b": (ConstantPolicy, ["B"], {"value": 2})})
    assert env.possible_agents == ["A"]
    episode, _ = _play_into_rllib_episode(env)
    agent = episode.agent_episodes["A"]
    assert set(episode.agent_episodes) == {"A"} and len(agent) == 4
    np.testing.assert_array_equal(agent.get_rewards(), agent.get_actions())
    assert env.last_summary["returns"]["b"] == 4 * 2.0  # B played 4 turns with action 2


# ------------------------------------------------------------------------ export
@pytest.mark.parametrize(
    "action_space, model",
    [
        (gym.spaces.Box(np.array([0, -5], np.float32), np.array([100, 5], np.float32)), {}),
        (
            gym.spaces.Box(-1.0, 3.0, (2,)),
            {"free_log_std": False, "vf_share_layers": True, "fcnet_activation": "relu"},
        ),
        (gym.spaces.Discrete(5, start=2), {"fcnet_hiddens": [16, 8]}),
    ],
    ids=["box", "box-shared-relu-state-std", "discrete"],
)
def test_export_equals_module_deterministic_actions(action_space, model):
    from ray.rllib.utils.spaces.space_utils import unsquash_action

    obs_space = gym.spaces.Box(-10.0, 10.0, (6,))
    spec = PolicySpec("p", ["X"], obs_space, action_space)
    module = rllib.module_spec(spec, rllib.resolve_model(model)).build()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # seeded, non-trivial weights: actions spread over the space
        for param in module.parameters():
            scale = param.shape[-1] ** -0.5 if param.dim() == 2 else 0.2
            param.copy_(scale * torch.randn(param.shape, generator=gen))
    obs = np.random.default_rng(0).uniform(-2, 2, (64, 6)).astype(np.float32)
    with torch.no_grad():
        inputs = module.forward_inference({"obs": torch.as_tensor(obs)})["action_dist_inputs"]
    # RLlib's deterministic action, then its module-to-env mapping (normalize_actions=True).
    dist = module.get_inference_action_dist_cls().from_logits(inputs).to_deterministic()
    chosen = dist.sample().numpy()
    exported = rllib.export_module(module, spec)
    actions = exported.compute_actions(list(obs))
    if isinstance(action_space, gym.spaces.Box):
        expected = np.stack([unsquash_action(a, action_space) for a in chosen])
        assert len(np.unique(np.round(expected, 3))) > 10
        np.testing.assert_allclose(np.stack(actions), expected, rtol=1e-5, atol=1e-4)
        if model.get("free_log_std", True):
            np.testing.assert_allclose(exported.log_std, module.pi.log_std.detach().numpy())
    else:
        assert len(set(actions)) > 2
        assert actions == (chosen + action_space.start).tolist()  # RLlib acts in 0..n-1


# ----------------------------------------------------------------------- options
@pytest.mark.parametrize(
    "options, match",
    [
        ({"num_env_runners": -1}, "num_env_runners must be an int >= 0"),
        ({"train_batch_size": 0}, "train_batch_size must be an int >= 1"),
        ({"minibatch_size": 500, "train_batch_size": 200}, "must not exceed train_batch_size"),
        ({"num_epochs": 1.5}, "num_epochs must be an int"),
        ({"lr": -1.0}, "lr must be a number > 0"),
        ({"gamma": 1.5}, r"gamma must be in \(0, 1\]"),
        ({"max_seconds": 0}, "max_seconds must be None or a number > 0"),
        ({"address": 6379}, "address must be a Ray address"),
        ({"model": {"hiddens": [8]}}, r"model: unknown key\(s\) \['hiddens'\]"),
        ({"model": {"fcnet_hiddens": []}}, "fcnet_hiddens must be a non-empty list"),
        ({"model": {"fcnet_activation": "gelu"}}, "fcnet_activation must be 'tanh' or 'relu'"),
        ({"overrides": {"no_such_setting": 1}}, "'no_such_setting' is not a PPOConfig setting"),
        ({"overrides": [1]}, "overrides must be a dict"),
        ({"learning_rate": 1e-3}, r"does not accept option\(s\) \['learning_rate'\]"),
    ],
)
def test_bad_options_raise_config_error(options, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        _train("supply_chain_v0", {"shop": ["SHOP"]}, tmp_path, options=options)


def test_address_while_ray_is_running_is_refused(ray_local, tmp_path):
    with pytest.raises(ConfigError, match="Ray is already initialised"):
        _train("supply_chain_v0", {"shop": ["SHOP"]}, tmp_path, options={"address": "auto"})


# -------------------------------------------------------------------- smoke runs
@pytest.mark.parametrize("num_env_runners", [0, 1])
def test_smoke_supply_chain(ray_local, tmp_path, num_env_runners):
    result = _train(
        "supply_chain_v0",
        {"shop": ["SHOP"]},
        tmp_path,
        options={"num_env_runners": num_env_runners, "model": {"fcnet_hiddens": [16]}},
    )
    _check_result(result, tmp_path, ["shop"])
    assert [h["timesteps"] for h in result.history] == [200, 400]  # 1 shop: 200 steps/batch
    assert result.history[-1]["returns"]["shop"] > 0
    # Saved policies load back and act the same.
    loaded = ph.load_policies(tmp_path / "policies")
    observations = np.random.default_rng(0).uniform(0, 1, (20, 3)).astype(np.float32)
    assert loaded["shop"].layers[0][0].shape == (3, 16)
    np.testing.assert_allclose(
        np.stack(loaded["shop"].compute_actions(list(observations))),
        np.stack(result.policies["shop"].compute_actions(list(observations))),
    )
    env = ph.make("supply_chain_v0")
    mean, _ = ph.evaluate(env, loaded, num_episodes=2, seed=0)["policies"]["shop"]
    assert np.isfinite(mean)


def test_phantom_style_rllib_config_keys_train(ray_local, tmp_path):
    """Phantom's own docs pass these keys; they reach RLlib 2.60 under today's names."""
    result = ph.utils.rllib.train(
        env_class="supply_chain_v0",
        policies={"shop": ["SHOP"]},
        iterations=1,
        rllib_config={
            "seed": 0,
            "num_rollout_workers": 1,
            "disable_env_checking": True,
            "train_batch_size": 200,
            "sgd_minibatch_size": 100,
            "num_sgd_iter": 1,
        },
        results_dir=tmp_path / "run",
    )
    assert [h["timesteps"] for h in result.history] == [200]


def test_env_runners_that_cannot_import_the_env_get_a_config_error(ray_local, tmp_path):
    """``models`` is importable here (pytest put tests/ on sys.path) but not in Ray's
    runner processes: RLlib's opaque IndexError becomes an error naming the module."""
    from models import PingEnv

    with pytest.raises(ConfigError, match=r"env runners failed to start.*'models'.*PYTHONPATH"):
        _train(PingEnv, {"p": ["A", "B"]}, tmp_path, options={"num_env_runners": 1})


def test_staged_digital_ads_with_terminations_fixed_family_and_metrics(ray_local, tmp_path):
    from phantomzoo.envs.digital_ads import ValueBidPolicy

    # Small budgets: advertisers run out of budget and terminate while the env goes on.
    config = {
        "advertisers_per_family": 2,
        "num_steps": 30,
        "travel_budget": (0.5, 1.0),
        "tech_budget": (0.5, 1.0),
        "sport_budget": (0.5, 1.0),
    }
    families = ph.make("digital_ads_v0", **config).family_ids
    policies = {
        "travel": families["travel"],
        "tech": families["tech"],
        "sport": (ValueBidPolicy, families["sport"]),
    }
    metrics = {"travel1/spent": ph.metrics.SimpleAgentMetric("TRAVEL1", "total_spent", "last")}
    result = _train("digital_ads_v0", policies, tmp_path, env_config=config, metrics=metrics)
    _check_result(result, tmp_path, ["travel", "tech"])
    assert isinstance(result.policies["sport"], ValueBidPolicy)
    last = result.history[-1]
    assert set(last["returns"]) == {"travel", "tech", "sport"}
    assert "travel1/spent" in last["metrics"]
    # Early terminations: fewer learnt transitions than 4 advertisers x 30 impressions.
    assert last["timesteps"] < 2 * 200 * 4


def test_staged_paper_supply_chain_stops_at_timesteps(ray_local, tmp_path):
    from phantomzoo.envs.supply_chain_paper import ShopAgent

    config = {"num_shops": 2, "num_cycles": 10}
    result = _train(
        "supply_chain_paper_v0",
        {"shops": ShopAgent},
        tmp_path,
        env_config=config,
        iterations=None,
        timesteps=500,
    )
    _check_result(result, tmp_path, ["shops"])
    steps = [h["timesteps"] for h in result.history]
    assert steps == [400, 800]  # 200 cycles x 2 shops per batch; stop once >= 500


def test_max_seconds_stops_training(ray_local, tmp_path):
    result = _train(
        "supply_chain_v0", {"shop": ["SHOP"]}, tmp_path, iterations=10**6,
        options={"max_seconds": 0.1},
    )  # fmt: skip
    assert len(result.history) == 1


# ---------------------------------------------------------------------- learning
def test_type_toy_shared_policy_learns_types(ray_local, tmp_path):
    from phantomzoo.envs.type_toy import TYPE_VARIANCE, Guesser, type_mse

    options = {
        "train_batch_size": 250,
        "minibatch_size": 125,
        "num_epochs": 10,
        "lr": 3e-3,
        "gamma": 0.5,
    }
    result = _train(
        "type_toy_v0", {"guessers": Guesser}, tmp_path, env_config={"num_agents": 4},
        iterations=6, options=options,
    )  # fmt: skip
    mse = type_mse(ph.make("type_toy_v0", num_agents=4), result.policies.compute_actions)
    assert mse < 0.1 * TYPE_VARIANCE


# ------------------------------------------------------------------ Ray cluster
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_attach_to_running_cluster(tmp_path, monkeypatch):
    """``ray start --head`` on loopback with a private temp dir; train by address.

    The cluster is stopped by signalling the ``ray start --block`` process this test
    started (it shuts down its own Ray processes), not with ``ray stop``, which would end
    every Ray process on the machine.
    """
    ray.shutdown()  # the module's session: ph.train must connect by address
    port = _free_port()
    temp_dir = tempfile.mkdtemp(prefix="phz-rc-", dir="/tmp")  # short socket paths
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    command = [
        str(Path(sys.executable).with_name("ray")),
        "start", "--head", "--block", f"--port={port}", f"--temp-dir={temp_dir}",
        "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
    ]  # fmt: skip
    cluster = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        for line in cluster.stdout:
            if "block forever" in line:
                break
        assert cluster.poll() is None, "ray start --head failed"
        monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # as the cluster was started
        options = {"num_env_runners": 1, "address": f"127.0.0.1:{port}"}
        result = _train(
            "supply_chain_v0", {"shop": ["SHOP"]}, tmp_path, iterations=1, options=options
        )
        _check_result(result, tmp_path, ["shop"])
        assert not ray.is_initialized()  # disconnected, cluster left to its owner
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        try:  # anything of the cluster's process group still alive
            os.killpg(cluster.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        cluster.wait()
        cluster.stdout.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
