"""RLlib backend: PPO on RLlib's new API stack (Ray 2.60), one RLModule per learnt policy.

* :class:`PhantomMultiAgentEnv` adapts the acting-agents protocol to RLlib's
  ``MultiAgentEnv``: observations of the learnt agents acting next (plus final ones),
  rewards of any rewarded learnt agent (RLlib adds a reward that comes without an
  observation to the agent's pending action: the protocol's delayed-reward rule), and
  per-agent terminateds/truncateds plus RLlib's ``"__all__"`` key, which lives only here.
  **Fixed policies act inside the adapter**, which plays on through turns where only
  fixed agents act: RLlib sees learnt agents only. The adapter tracks every episode with
  ``EpisodeTracker`` (returns of all policies, fixed ones too, and user metrics); an
  ``on_episode_end`` callback ships the summaries to the driver's progress bar,
  TensorBoard files and history. Env runners rebuild the env from ``job.env_source``.
* Ray: a session the caller started is reused (and left running); ``address`` joins a
  cluster; else a private local instance starts (auth off unless ``RAY_AUTH_MODE`` is
  set, short private temp dir, loopback only) and is shut down at the end.
* Budget: ``iterations`` = ``algo.train()`` calls; ``timesteps`` stops after the call in
  which the learnt agent-steps sampled reach it; ``max_seconds`` starts no call expected
  to end later. The driver (sampler with 0 env runners, and learner) uses 1 torch thread.
* Export: the default PPO module's actor encoder and pi head become an ``MLPPolicy``.
  Box actions are learnt in RLlib's normalised space (``normalize_actions=True``:
  unsquashed, then clipped to the bounds), hence ``action_scaling="normalized"``; with
  ``free_log_std`` (default) the exported ``log_std`` is exact (else it is not exported).

Options: ``num_env_runners`` (0: sample in the driver), ``address``, ``train_batch_size``
(env-steps per ``train()``), ``minibatch_size``, ``num_epochs``, ``lr``, ``gamma``,
``model`` (keys of :data:`DEFAULT_MODEL`), ``overrides`` (``{PPOConfig attribute: value}``
applied last, e.g. ``{"lambda_": 0.95}``; ``vf_clip_param`` defaults to 1e6 here because
RLlib's 10 stalls value learning when returns are large) and ``max_seconds``.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np
import ray
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.ppo_catalog import PPOCatalog
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.env.multi_agent_env import MultiAgentEnv
from ray.tune.registry import register_env

from phantomzoo.backends._common import EpisodeTracker, TrainingLogger
from phantomzoo.errors import ConfigError, TrainingError
from phantomzoo.mapping import PolicyMapping, PolicySpec
from phantomzoo.trained import MLPPolicy, TrainedPolicies
from phantomzoo.training import TrainingJob, TrainingResult

AgentID = Hashable
ENV_NAME = "phantomzoo_env"
SUMMARY_KEY = "phantomzoo_episodes"
#: Option defaults (their keys are the accepted options).
DEFAULTS: dict[str, Any] = {
    "num_env_runners": 0,
    "address": None,
    "train_batch_size": 4000,
    "minibatch_size": 256,
    "num_epochs": 10,
    "lr": 3e-4,
    "gamma": 0.99,
    "model": {},
    "overrides": {},
    "max_seconds": None,
}
OPTIONS = frozenset(DEFAULTS)
#: RLlib ``DefaultModelConfig`` fields the ``model`` option may set, with our defaults.
DEFAULT_MODEL: dict[str, Any] = {
    "fcnet_hiddens": [64, 64],
    "fcnet_activation": "tanh",
    "vf_share_layers": False,
    "free_log_std": True,
}
_ACTIVATIONS = {torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_SINGLE_NODE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


# ------------------------------------------------------------------ env adapter
class PhantomMultiAgentEnv(MultiAgentEnv):
    """A phantomzoo env as an RLlib ``MultiAgentEnv`` of its learnt agents.

    Args:
        config: ``{"env_source", "mapping", "metrics", "seed"}``; as RLlib's
            ``EnvContext`` it also carries the worker and vector indices that, with the
            seed, make each env copy's episode seeds distinct.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self.env = config["env_source"].make()
        self.mapping: PolicyMapping = config["mapping"]
        self.fixed = {p: spec.build_fixed() for p, spec in self.mapping.fixed.items()}
        specs = {a: self.mapping.policies[p] for a, p in self.mapping.agent_to_policy.items()}
        self.possible_agents = [a for a, spec in specs.items() if spec.learnt]
        self.learnt_set = set(self.possible_agents)
        self.agents = list(self.possible_agents)
        self.observation_spaces = {a: specs[a].observation_space for a in self.possible_agents}
        self.env_action_spaces = {a: specs[a].action_space for a in self.possible_agents}
        self.action_spaces = {a: rllib_space(s) for a, s in self.env_action_spaces.items()}
        self.tracker = EpisodeTracker(self.mapping, config.get("metrics"))
        index = [getattr(config, "worker_index", 0), getattr(config, "vector_index", 0)]
        self._rng = np.random.default_rng([int(config.get("seed", 0)), *index])
        self.last_summary: dict[str, Any] | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._fixed_obs: dict[AgentID, Any] = {}
        self._last_obs: dict[AgentID, Any] = {}
        self._awaiting: set[AgentID] = set()  # acted, not observed since
        self._done: set[AgentID] = set()
        self._truncated = False
        self.last_summary = None
        obs, infos = self.env.acting_reset(seed=int(self._rng.integers(2**31)), options=options)
        self.tracker.start()
        self._remember(obs)
        merged: dict[str, dict] = {"obs": dict(obs), "rew": {}, "term": {}, "trunc": {}}
        if self.env.acting_agents and not self._learnt_acting():
            self._play({}, merged, infos)
        # Rewards earned before an agent's first observation reach its first action.
        self._carry = {a: r for a, r in merged["rew"].items() if a in self.learnt_set}
        self.agents = list(self.possible_agents)
        out = self._observations(merged["obs"])
        return out, {a: infos.get(a, {}) for a in out}

    def step(self, action_dict: dict) -> tuple[dict, dict, dict, dict, dict]:
        merged: dict[str, dict] = {"obs": {}, "rew": {}, "term": {}, "trunc": {}}
        infos: dict[AgentID, Any] = {}
        self.agents = [a for a in self.possible_agents if a not in self._done]  # this step's
        self._awaiting |= set(action_dict)
        self._play(action_dict, merged, infos)
        over = not self.env.acting_agents
        obs = self._observations(merged["obs"])
        if over:  # the protocol gives final observations; never leave an action hanging
            for agent_id in self._awaiting - obs.keys() - self._done:
                obs[agent_id] = self._last_obs[agent_id]
                merged["trunc"][agent_id] = not merged["term"].get(agent_id, False)
        rewards = {a: r for a, r in merged["rew"].items() if a in self.agents}
        for agent_id in obs:
            rewards[agent_id] = rewards.get(agent_id, 0.0) + self._carry.pop(agent_id, 0.0)
        terms, truncs = {}, {}
        for agent_id in obs.keys() | rewards.keys():
            terms[agent_id] = merged["term"].get(agent_id, False)
            truncs[agent_id] = merged["trunc"].get(agent_id, False)
            if terms[agent_id] or truncs[agent_id]:
                self._done.add(agent_id)
                self._truncated |= not terms[agent_id]
        self._awaiting -= obs.keys()
        terms["__all__"] = over and not self._truncated
        truncs["__all__"] = over and self._truncated
        if over:
            self.last_summary = self.tracker.finish()
        return obs, rewards, terms, truncs, {a: infos.get(a, {}) for a in obs}

    def _learnt_acting(self) -> bool:
        return any(a in self.learnt_set for a in self.env.acting_agents)

    def _remember(self, obs: Mapping[AgentID, Any]) -> None:
        for agent_id, value in obs.items():
            store = self._last_obs if agent_id in self.learnt_set else self._fixed_obs
            store[agent_id] = value

    def _play(self, actions: Mapping[AgentID, Any], merged: dict[str, dict], infos: dict) -> None:
        """Step the env once, then on while only fixed agents act; merge the results."""
        while True:
            acting = self.env.acting_agents
            full = {a: self._to_env(a, actions[a]) for a in acting if a in self.learnt_set}
            groups: dict[str, list[AgentID]] = {}
            for agent_id in acting:
                if agent_id not in self.learnt_set:
                    groups.setdefault(self.mapping.policy_of(agent_id), []).append(agent_id)
            for policy_id, ids in groups.items():
                batch = [self._fixed_obs[i] for i in ids]
                full.update(zip(ids, self.fixed[policy_id].compute_actions(batch)))
            stage = getattr(self.env, "current_stage", None)
            obs, rewards, terms, truncs, step_infos = self.env.acting_step(full)
            self.tracker.step(self.env, rewards, stage)
            self._remember(obs)
            merged["obs"].update(obs)
            infos.update(step_infos)
            for agent_id, reward in rewards.items():
                merged["rew"][agent_id] = merged["rew"].get(agent_id, 0.0) + float(reward)
            for key, flags in (("term", terms), ("trunc", truncs)):
                for agent_id, flag in flags.items():
                    merged[key][agent_id] = merged[key].get(agent_id, False) or bool(flag)
            actions = {}
            if not self.env.acting_agents or self._learnt_acting():
                return

    def _to_env(self, agent_id: AgentID, action: Any) -> Any:
        space = self.env_action_spaces[agent_id]  # RLlib's Discrete actions are 0..n-1
        return int(action) + int(space.start) if isinstance(space, gym.spaces.Discrete) else action

    def _observations(self, obs: Mapping[AgentID, Any]) -> dict[AgentID, Any]:
        return {
            a: np.asarray(o, dtype=self.observation_spaces[a].dtype)
            for a, o in obs.items()
            if a in self.learnt_set and a not in self._done
        }


def rllib_space(space: gym.Space[Any]) -> gym.Space[Any]:
    """The action space RLlib sees: ``Discrete(n, start)`` becomes ``Discrete(n)``."""
    if isinstance(space, gym.spaces.Discrete) and space.start != 0:
        return gym.spaces.Discrete(int(space.n))
    return space


def _make_env(config: Mapping[str, Any]) -> PhantomMultiAgentEnv:
    return PhantomMultiAgentEnv(config)


def _log_episode_summary(*, env: Any, env_index: int, metrics_logger: Any, **_: Any) -> None:
    """``on_episode_end`` callback: ship the adapter's episode summary to the driver."""
    summary = getattr(env.envs[env_index].unwrapped, "last_summary", None)
    if summary is not None and metrics_logger is not None:
        metrics_logger.log_value(SUMMARY_KEY, summary, reduce="item_series")


class _PolicyOf:
    """Picklable ``policy_mapping_fn``: agent id -> policy id."""

    def __init__(self, agent_to_policy: Mapping[AgentID, str]) -> None:
        self.agent_to_policy = dict(agent_to_policy)

    def __call__(self, agent_id: AgentID, episode: Any = None, **_: Any) -> str:
        return self.agent_to_policy[agent_id]


# --------------------------------------------------------------------- options
def _is_int(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "num_env_runners": (lambda v: _is_int(v, 0), "must be an int >= 0"),
    "train_batch_size": (lambda v: _is_int(v, 1), "must be an int >= 1"),
    "minibatch_size": (lambda v: _is_int(v, 1), "must be an int >= 1"),
    "num_epochs": (lambda v: _is_int(v, 1), "must be an int >= 1"),
    "lr": (lambda v: _is_number(v) and v > 0, "must be a number > 0"),
    "gamma": (lambda v: _is_number(v) and 0 < v <= 1, "must be in (0, 1]"),
    "model": (lambda v: isinstance(v, Mapping), "must be a dict"),
    "overrides": (lambda v: isinstance(v, Mapping), "must be a dict"),
    "max_seconds": (lambda v: v is None or _is_number(v) and v > 0, "must be a number > 0"),
    "address": (lambda v: v is None or isinstance(v, str) and bool(v), "must be a Ray address"),
    "fcnet_hiddens": (
        lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(_is_int(h, 1) for h in v),
        "must be a non-empty list of ints >= 1",
    ),
    "fcnet_activation": (lambda v: v in ("tanh", "relu"), "must be 'tanh' or 'relu'"),
    "vf_share_layers": (lambda v: isinstance(v, bool), "must be True or False"),
    "free_log_std": (lambda v: isinstance(v, bool), "must be True or False"),
}


def _check(prefix: str, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        test, expected = _CHECKS[name]
        if not test(value):
            raise ConfigError(f"rllib option {prefix}{name} {expected}, got {value!r}")


def resolve_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in, each checked (raises ``ConfigError``)."""
    opts = {**DEFAULTS, **options}
    _check("", opts)
    if opts["minibatch_size"] > opts["train_batch_size"]:
        raise ConfigError(
            f"rllib option minibatch_size ({opts['minibatch_size']}) must not exceed "
            f"train_batch_size ({opts['train_batch_size']})"
        )
    probe = PPOConfig()
    for key in opts["overrides"]:
        if not isinstance(key, str) or key.startswith("_") or callable(getattr(probe, key, len)):
            raise ConfigError(
                f"rllib option overrides: {key!r} is not a PPOConfig setting (e.g. "
                "'entropy_coeff', 'lambda_', 'vf_clip_param', 'num_envs_per_env_runner')"
            )
    return {**opts, "model": resolve_model(opts["model"])}


def resolve_model(model: Mapping[str, Any]) -> dict[str, Any]:
    """The ``model`` option with :data:`DEFAULT_MODEL` filled in, checked."""
    unknown = sorted(set(model) - set(DEFAULT_MODEL))
    if unknown:
        raise ConfigError(
            f"rllib option model: unknown key(s) {unknown}; use {list(DEFAULT_MODEL)}"
        )
    out = {**DEFAULT_MODEL, **model}
    _check("model: ", out)
    return {**out, "fcnet_hiddens": list(out["fcnet_hiddens"])}


# ----------------------------------------------------------------- RLlib config
def module_spec(policy: PolicySpec, model: Mapping[str, Any]) -> RLModuleSpec:
    """The RLModule spec of one learnt policy (RLlib's default PPO torch module)."""
    config = dict(model)
    if not isinstance(policy.action_space, gym.spaces.Box):
        config["free_log_std"] = False  # RLlib has it for Gaussian actions only
    return RLModuleSpec(
        module_class=DefaultPPOTorchRLModule,
        catalog_class=PPOCatalog,
        observation_space=policy.observation_space,
        action_space=rllib_space(policy.action_space),
        model_config=config,
    )


def _flat_box(space: gym.Space[Any]) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1


def build_config(job: TrainingJob, opts: Mapping[str, Any]) -> PPOConfig:
    """The job's ``PPOConfig``, its env registered under :data:`ENV_NAME`."""
    learnt = job.mapping.learnt
    for spec in learnt.values():
        obs, act = spec.observation_space, spec.action_space
        if not (_flat_box(obs) and (isinstance(act, gym.spaces.Discrete) or _flat_box(act))):
            raise ConfigError(
                f"rllib backend: policy {spec.policy_id!r} has spaces {obs} / {act}; it "
                "supports 1-D Box observations and Discrete or 1-D Box actions"
            )
    register_env(ENV_NAME, _make_env)
    env_config = {"env_source": job.env_source, "mapping": job.mapping, "metrics": job.metrics}
    env_config["seed"] = job.seed
    config = (
        PPOConfig()
        .environment(env=ENV_NAME, env_config=env_config, normalize_actions=True)
        .env_runners(num_env_runners=opts["num_env_runners"], num_envs_per_env_runner=1)
        .learners(num_learners=0)
        .multi_agent(
            policies=set(learnt),
            policy_mapping_fn=_PolicyOf(job.mapping.agent_to_policy),
            policies_to_train=list(learnt),
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={p: module_spec(s, opts["model"]) for p, s in learnt.items()}
            )
        )
        .training(
            train_batch_size_per_learner=opts["train_batch_size"],
            minibatch_size=opts["minibatch_size"],
            num_epochs=opts["num_epochs"],
            lr=opts["lr"],
            gamma=opts["gamma"],
            # RLlib's default (10) clips the value loss so hard that values of returns in
            # the hundreds (the supply chain's) are never learnt; override to restore it.
            vf_clip_param=1e6,
        )
        .callbacks(on_episode_end=_log_episode_summary)
        .debugging(seed=job.seed, log_level="ERROR")
    )
    if opts["overrides"]:
        config.update_from_dict(dict(opts["overrides"]))
    return config


# ---------------------------------------------------------------------- export
def export_module(module: Any, policy: PolicySpec, normalize_actions: bool = True) -> MLPPolicy:
    """An :class:`MLPPolicy` with a default PPO RLModule's deterministic actions."""
    encoder = getattr(module.encoder, "actor_encoder", None) or module.encoder.encoder
    stack: list[tuple[torch.nn.Linear, str | None]] = []
    for layer in [*encoder.net.mlp.children(), *module.pi.net.mlp.children()]:
        if isinstance(layer, torch.nn.Linear):
            stack.append((layer, None))
        elif type(layer) in _ACTIVATIONS and stack and stack[-1][1] is None:
            stack[-1] = (stack[-1][0], _ACTIVATIONS[type(layer)])
        else:
            raise TrainingError(f"cannot export RLlib layer {layer!r}: expected Linear/Tanh/ReLU")
    *hidden, (head, last) = stack
    activations = {a for _, a in hidden}
    if last is not None or len(activations) > 1 or None in activations:
        raise TrainingError(f"cannot export policy {policy.policy_id!r}: unexpected layers")

    def arrays(layer: torch.nn.Linear) -> tuple[np.ndarray, np.ndarray]:
        return layer.weight.detach().cpu().numpy().T.copy(), layer.bias.detach().cpu().numpy()

    head_w, head_b = arrays(head)
    log_std = None
    if isinstance(policy.action_space, gym.spaces.Box):
        dims = int(np.prod(policy.action_space.shape))
        head_w, head_b = head_w[:, :dims], head_b[:dims]  # [mean | log_std] if std not free
        if hasattr(module.pi, "log_std"):
            log_std = module.pi.log_std.detach().cpu().numpy().reshape(-1)
    return MLPPolicy(
        policy.observation_space,
        policy.action_space,
        layers=[arrays(layer) for layer, _ in hidden],
        head=(head_w, head_b),
        activation=activations.pop() if activations else "identity",
        log_std=log_std,
        action_scaling="normalized" if normalize_actions else "clip",
    )


# ------------------------------------------------------------------------- Ray
@contextmanager
def ray_session(address: str | None, num_env_runners: int = 0) -> Iterator[None]:
    """Ray for a training run: the caller's session if there is one, else a cluster at
    ``address`` or a private local instance; whatever starts here stops on exit."""
    if ray.is_initialized():
        if address is not None:
            raise ConfigError(
                "rllib option address: Ray is already initialised in this process; drop "
                "the address option to use that session, or call ray.shutdown() first"
            )
        yield
        return
    saved_auth, temp_dir = os.environ.get("RAY_AUTH_MODE"), None
    kwargs: dict[str, Any] = {"address": address, "log_to_driver": False}
    if address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        # Private (0700) and short: Ray's Unix socket paths under it must stay < 108 bytes.
        base = tempfile.gettempdir()
        short = "/tmp" if len(base) > 20 and os.path.isdir("/tmp") else base  # noqa: S108
        temp_dir = tempfile.mkdtemp(prefix="phz-ray-", dir=short)
        cpus = max(os.cpu_count() or 1, num_env_runners + 1)
        kwargs.update(_temp_dir=temp_dir, num_cpus=cpus, include_dashboard=False)
    try:
        with _loopback(address is None or address.rpartition(":")[0] in _LOOPBACK):
            ray.init(**kwargs)
            try:
                yield
            finally:
                ray.shutdown()
    finally:
        _restore_env("RAY_AUTH_MODE", saved_auth)
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


@contextmanager
def _loopback(enabled: bool) -> Iterator[None]:
    """Keep this node on 127.0.0.1 while ``enabled``.

    On Linux Ray swaps 127.0.0.1 for the machine's routable address and listens on all
    interfaces, which a local instance with auth off should not. Its single-machine mode
    (the one used on macOS and Windows) stays on loopback; Ray reads the flag per call
    in this process and from the environment in the processes it starts.
    """
    from ray._private import ray_constants

    if not enabled or not hasattr(ray_constants, "ENABLE_RAY_CLUSTER"):
        yield
        return
    saved_flag, saved_env = ray_constants.ENABLE_RAY_CLUSTER, os.environ.get(_SINGLE_NODE_ENV)
    ray_constants.ENABLE_RAY_CLUSTER = False
    os.environ[_SINGLE_NODE_ENV] = "0"
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        _restore_env(_SINGLE_NODE_ENV, saved_env)


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


# -------------------------------------------------------------------- training
def train(job: TrainingJob) -> TrainingResult:
    """Train the job's learnt policies with RLlib PPO (see the module docs)."""
    opts = resolve_options(job.options)
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    by_steps = job.timesteps is not None
    logger = TrainingLogger(
        job.results_dir,
        list(job.mapping.policies),
        job.timesteps if by_steps else job.iterations,
        unit="step" if by_steps else "it",
        progress=job.progress,
    )
    history: list[dict[str, Any]] = []
    try:
        with ray_session(opts["address"], opts["num_env_runners"]):
            config = build_config(job, opts)
            algo = config.build_algo()
            try:
                _train_loop(job, opts, algo, logger, history, started)
                weights = algo.learner_group.get_weights(module_ids=list(job.mapping.learnt))
            finally:
                algo.stop()
    finally:
        logger.close()
        torch.set_num_threads(threads)
    policies: dict[str, Any] = {}
    for policy_id, spec in job.mapping.policies.items():
        if spec.learnt:
            module = module_spec(spec, opts["model"]).build()
            module.set_state(weights[policy_id])
            policies[policy_id] = export_module(module, spec, config.normalize_actions)
        else:
            policies[policy_id] = spec.build_fixed()
    return TrainingResult(
        backend="rllib",
        policies=TrainedPolicies(policies, job.mapping.agent_to_policy, job.env_info()),
        results_dir=job.results_dir,
        history=history,
    )


def _train_loop(
    job: TrainingJob,
    opts: Mapping[str, Any],
    algo: Any,
    logger: TrainingLogger,
    history: list[dict[str, Any]],
    started: float,
) -> None:
    steps, last_duration = 0, 0.0
    while True:
        elapsed = time.perf_counter() - started
        if history and opts["max_seconds"] and elapsed + last_duration > opts["max_seconds"]:
            return
        tick = time.perf_counter()
        runners = algo.train().get("env_runners", {})
        last_duration = time.perf_counter() - tick
        sampled = runners.get("num_agent_steps_sampled_lifetime", 0)
        new_steps = int(sum(sampled.values()) if isinstance(sampled, Mapping) else sampled)
        summaries = runners.get(SUMMARY_KEY) or []
        for summary in summaries:
            logger.episode(summary, new_steps)
        logger.advance(new_steps - steps if job.timesteps is not None else 1)
        steps = new_steps
        names = {n for s in summaries for n in s["metrics"]}
        history.append(
            {
                "iteration": len(history) + 1,
                "timesteps": steps,
                "seconds": time.perf_counter() - started,
                "returns": logger.mean_returns(),
                "episodes": len(summaries),
                "episode_length": (
                    float(np.mean([s["length"] for s in summaries])) if summaries else None
                ),
                "metrics": {n: _nanmean([s["metrics"].get(n) for s in summaries]) for n in names},
                # RLlib's own view: sum over a module's agents, smoothed over episodes.
                "rllib_module_returns": {
                    str(k): float(v)
                    for k, v in runners.get("module_episode_returns_mean", {}).items()
                },
            }
        )
        if job.iterations is not None and len(history) >= job.iterations:
            return
        if job.timesteps is not None and steps >= job.timesteps:
            return


def _nanmean(values: list[Any]) -> float:
    finite = [float(v) for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")
