"""sb3: Stable-Baselines3 models, one per learnt policy.

::

    ph.train("supply_chain_v0", {"shop": ["SHOP"]}, backend="sb3", timesteps=100_000,
             options={"algorithm": "PPO", "algorithm_kwargs": {"learning_rate": 1e-3}})

**Options** (all optional):

====================  ==================================================================
``algorithm``         ``"PPO"`` (default), ``"A2C"`` or ``"SAC"`` (Box actions only)
``algorithm_kwargs``  keywords of the SB3 algorithm (``learning_rate``, ``n_steps``,
                      ``batch_size``, ``gamma``, ...); PPO's ``n_steps`` defaults to about
                      2048 transitions per rollout over all of a policy's slots
``policy_kwargs``     SB3 ``policy_kwargs`` (``net_arch``, ``log_std_init``,
                      ``activation_fn`` as ``"tanh"``/``"relu"`` or the torch class)
``n_envs``            env copies (default 4); a policy's VecEnv has one slot per
                      ``(copy, agent of the policy)``
``normalize``         ``False`` (default), ``True`` (observations and rewards) or
                      ``VecNormalize`` keywords (``norm_obs``, ``norm_reward``,
                      ``clip_obs``, ``clip_reward``, ``gamma``); observation statistics
                      are exported with the policy
``vec_env``           ``"auto"`` (default: SuperSuit where it fits, else the adapter),
                      ``"supersuit"`` or ``"adapter"`` (see :mod:`.sb3_vec`)
``max_seconds``       wall-time budget, on top of ``timesteps`` / ``iterations``
``anneal_lr``         decay the learning rate linearly to 0 over the budget (``False``)
``turn_timesteps``    SB3 transitions per turn when several policies learn (default: one
                      rollout for PPO/A2C, 1000 for SAC)
``sb3_logging``       also write SB3's own TensorBoard logs (default ``True``)
====================  ==================================================================

The settings apply to every learnt policy, each getting its own model.

**Several learnt policies are trained by alternating**, round-robin: in its turn one
policy learns (its model's ``learn()`` on its own VecEnv) for ``turn_timesteps`` while the
others act through their current stochastic ``predict()``, frozen. (SB3's ``learn()``
owns its loop; lockstep would need one thread per model passing control around.) At the
start of a turn the policy's slots are re-synchronised with the shared env copies: what
its agents did while frozen is not trained on. Fixed policies act via ``compute_actions``.

**Budget.** ``timesteps`` counts decisions of learning slots (padding transitions of
agents that ended early excluded); ``iterations`` counts SB3 rollout/train cycles (PPO
updates). PPO/A2C check them between updates (like SB3's ``learn``), SAC after every
step; ``max_seconds`` is checked after every step. Schedules (``learning_rate`` as a
function of progress) see the fraction of the budget used.

**Export** (:func:`export_policy`, usable on any SB3 PPO/A2C/SAC model with an
``MlpPolicy``). Every learnt model becomes a :class:`~phantomzoo.trained.MLPPolicy`: PPO/A2C
``mlp_extractor.policy_net`` + ``action_net`` (+ ``log_std``). SAC acts deterministically
with ``tanh(mu(latent_pi(obs)))``, so ``mu`` becomes a last tanh hidden layer with an
identity head, which needs tanh hidden layers (SAC's default here; ReLU is refused up
front). ``VecNormalize`` statistics become ``obs_mean``/``obs_var``/``obs_clip``.

**Seeding.** Same seed, same result: env episodes come from per-copy generators seeded
from ``job.seed``; SB3 draws networks, sampling and minibatches from the global torch and
NumPy generators, which are seeded with ``job.seed + k`` before building model ``k``.
"""

from __future__ import annotations

import functools
import inspect
import time
import types
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger, configure
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn

from phantomzoo.errors import ConfigError
from phantomzoo.trained import MLPPolicy, TrainedPolicies
from phantomzoo.training import TrainingJob, TrainingResult

from . import sb3_vec as vec
from ._common import TrainingLogger

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"PPO": PPO, "A2C": A2C, "SAC": SAC}
OPTIONS = frozenset(
    "algorithm algorithm_kwargs policy_kwargs n_envs normalize vec_env max_seconds "
    "turn_timesteps anneal_lr sb3_logging".split()
)
_RESERVED = {"policy", "env", "seed", "device", "tensorboard_log", "_init_setup_model"}
_FLAGS = {"anneal_lr": False, "sb3_logging": True}
_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
_NORMALIZE_KEYS = {"norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma"}


# ------------------------------------------------------------------------ options
def _settings(job: TrainingJob) -> dict[str, Any]:
    """Every option, checked (see the module docs)."""
    options = job.options
    name = options.get("algorithm", "PPO")
    if name not in ALGORITHMS:
        raise ConfigError(
            f"sb3: unknown algorithm {name!r}; the sb3 backend supports {sorted(ALGORITHMS)}"
        )
    for policy_id, spec in job.mapping.learnt.items():
        obs, act = spec.observation_space, spec.action_space
        if not (isinstance(obs, gym.spaces.Box) and len(obs.shape) == 1):
            raise ConfigError(
                f"sb3: policy {policy_id!r} observes {obs}; the sb3 backend (and MLPPolicy) "
                "needs 1-D Box observations"
            )
        if name == "SAC" and not isinstance(act, gym.spaces.Box):
            raise ConfigError(
                f"sb3: SAC needs Box actions but policy {policy_id!r} acts in {act}; use PPO or A2C"
            )
        vec.ActionCodec(act)  # raises ConfigError for other spaces
    flags = {key: options.get(key, default) for key, default in _FLAGS.items()}
    if not all(isinstance(v, bool) for v in flags.values()):
        raise ConfigError(f"sb3: {' and '.join(_FLAGS)} must be True or False, got {flags}")
    vec_env = options.get("vec_env", "auto")
    if vec_env not in ("auto", "supersuit", "adapter"):
        raise ConfigError(f"sb3: vec_env must be 'auto', 'supersuit' or 'adapter', got {vec_env!r}")
    return {
        "algorithm": name,
        "kwargs": _algorithm_kwargs(name, _dict_option(options, "algorithm_kwargs")),
        "policy_kwargs": _policy_kwargs(name, _dict_option(options, "policy_kwargs")),
        "normalize": _normalize(options.get("normalize", False)),
        "n_envs": _positive(options, "n_envs", 4, int),
        "max_seconds": _positive(options, "max_seconds", None, float),
        "turn": _positive(options, "turn_timesteps", None, int),
        "vec_env": vec_env,
        **flags,
    }


def _dict_option(options: dict[str, Any], key: str) -> dict[str, Any]:
    value = options.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"sb3: {key} must be a dict, got {value!r}")
    return dict(value)


def _algorithm_kwargs(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    if "policy_kwargs" in kwargs:
        raise ConfigError("sb3: give policy_kwargs as its own option, not inside algorithm_kwargs")
    reserved = sorted(set(kwargs) & _RESERVED)
    if reserved:
        raise ConfigError(f"sb3: algorithm_kwargs may not set {reserved}; the backend sets them")
    accepted = set(inspect.signature(ALGORITHMS[name].__init__).parameters) - {"self"} - _RESERVED
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ConfigError(
            f"sb3: {name} does not accept algorithm_kwargs {unknown}; it accepts {sorted(accepted)}"
        )
    if kwargs.get("use_sde"):
        raise ConfigError("sb3: use_sde (gSDE) policies cannot be exported to MLPPolicy")
    return kwargs


def _policy_kwargs(name: str, pkw: dict[str, Any]) -> dict[str, Any]:
    act = pkw.get("activation_fn", "tanh" if name == "SAC" else None)
    act = _ACTIVATIONS.get(act, act) if isinstance(act, str) else act
    if act is not None and act not in _ACTIVATIONS.values():
        raise ConfigError(
            f"sb3: activation_fn {act!r} is not supported (MLPPolicy exports tanh or relu); "
            "use 'tanh' or 'relu' (torch.nn.Tanh / torch.nn.ReLU)"
        )
    if name == "SAC" and act is not nn.Tanh:
        raise ConfigError(
            "sb3: SAC squashes its action with tanh, which MLPPolicy can only express as a last "
            "tanh layer, so its hidden layers must use tanh too; use activation_fn='tanh' (the "
            "default for SAC)"
        )
    for key in ("features_extractor_class", "squash_output"):
        if key in pkw:
            raise ConfigError(f"sb3: policy_kwargs {key!r} cannot be exported to MLPPolicy")
    return {**pkw, "activation_fn": act} if act is not None else pkw


def _normalize(value: Any) -> dict[str, Any] | None:
    if value is True:
        return {"norm_obs": True, "norm_reward": True}
    if value is not False and (not isinstance(value, dict) or set(value) - _NORMALIZE_KEYS):
        raise ConfigError(
            f"sb3: normalize must be True, False or a dict with keys among "
            f"{sorted(_NORMALIZE_KEYS)}, got {value!r}"
        )
    return value or None


def _positive(options: dict[str, Any], key: str, default: Any, kind: type) -> Any:
    value = options.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ConfigError(f"sb3: {key} must be a positive {kind.__name__}, got {value!r}")
    if value <= 0:
        raise ConfigError(f"sb3: {key} must be > 0, got {value!r}")
    return value


# ------------------------------------------------------------------ budget, logging
class _Run:
    """Budget used (agent-steps, iterations, seconds), progress bar, TensorBoard, history."""

    def __init__(self, job: TrainingJob, max_seconds: float | None, source: Any) -> None:
        self.limits = (job.timesteps, job.iterations, max_seconds)
        self.by_steps = by_steps = job.timesteps is not None
        total, unit = (job.timesteps, "step") if by_steps else (job.iterations, "iter")
        policy_ids = list(job.mapping.policies)
        self.logger = TrainingLogger(job.results_dir, policy_ids, total, unit, job.progress)
        self.source, self.metric_names = source, list(job.metrics)
        self.started = time.perf_counter()
        self.steps = self.iterations = self.last_record = 0
        self.history: list[dict[str, Any]] = []
        self.recent: list[dict[str, Any]] = []

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def fraction(self) -> float:
        used = (self.steps, self.iterations, self.seconds())
        return max(u / limit for u, limit in zip(used, self.limits) if limit is not None)

    def done(self) -> bool:
        return self.fraction() >= 1.0

    def out_of_time(self) -> bool:
        return self.limits[2] is not None and self.seconds() >= self.limits[2]

    def step(self) -> None:
        """Count new agent-steps; log finished episodes."""
        steps = self.source.agent_steps
        if self.by_steps:  # the bar stops at its total (the last update may overshoot it)
            cap = self.limits[0]
            self.logger.advance(min(steps, cap) - min(self.steps, cap))
        self.steps = steps
        for summary in self.source.drain():
            self.logger.episode(summary, steps)
            self.recent.append(summary)

    def record(self, policy_id: str) -> None:
        """Append a history entry: recent mean returns, episode length and metrics."""
        self.last_record = self.steps
        metrics = {k: [s["metrics"][k] for s in self.recent] for k in self.metric_names}
        lengths = [s["length"] for s in self.recent]
        self.history.append(
            {
                "iteration": self.iterations,
                "policy": policy_id,
                "timesteps": self.steps,
                "seconds": self.seconds(),
                "episodes": self.logger.episodes,
                "returns": self.logger.mean_returns(),
                "episode_length": float(np.mean(lengths)) if lengths else None,
                "metrics": {k: float(np.nanmean(v)) for k, v in metrics.items() if v},
            }
        )
        self.recent = []
        rate = self.steps / max(self.seconds(), 1e-9)
        self.logger.scalar("time/agent_steps_per_second", rate, self.steps)


class _Control(BaseCallback):
    """Hooks one model into the run: counting, logging and budget checks."""

    def __init__(self, policy_id: str, on_policy: bool, run: _Run) -> None:
        super().__init__()
        self.policy_id, self.on_policy, self.run = policy_id, on_policy, run

    def _on_step(self) -> bool:
        self.run.step()
        return not self.run.out_of_time() and (self.on_policy or not self.run.done())

    def _on_rollout_end(self) -> None:
        run = self.run
        run.iterations += 1
        if not run.by_steps:
            run.logger.advance(1)
        if self.on_policy or run.steps - run.last_record >= 1000:
            run.record(self.policy_id)


# ----------------------------------------------------------------------- training
def train(job: TrainingJob) -> TrainingResult:
    """Train every learnt policy of ``job`` with its own SB3 model (see module docs)."""
    torch.set_num_threads(1)
    mapping, cfg = job.mapping, _settings(job)
    misfits = vec.supersuit_misfits(job.make_env(), mapping)
    if misfits and cfg["vec_env"] == "supersuit":
        raise ConfigError(
            f"sb3: vec_env='supersuit' cannot be used here: {'; '.join(misfits)}. SuperSuit's "
            "vector env needs one policy for every agent, all acting every step; use 'adapter'"
        )
    supersuit = not misfits and cfg["vec_env"] != "adapter"
    codecs = {p: vec.ActionCodec(s.action_space) for p, s in mapping.learnt.items()}
    if supersuit:
        (policy_id,) = mapping.learnt
        venv, source = vec.supersuit_vec_env(
            job.make_env, mapping, codecs[policy_id], cfg["n_envs"], job.seed, job.metrics
        )
        venvs = {policy_id: venv}
    else:
        source = vec.EnvPool(job.make_env, mapping, cfg["n_envs"], job.seed, job.metrics)
        venvs = {p: vec.PolicyVecEnv(source, p, codecs[p]) for p in mapping.learnt}
    fixed = {p: s.build_fixed() for p, s in mapping.fixed.items()}
    run = _Run(job, cfg["max_seconds"], source)
    models: dict[str, BaseAlgorithm] = {}
    try:
        for k, (policy_id, spec) in enumerate(mapping.learnt.items()):
            model = _build_model(job, policy_id, cfg, venvs[policy_id], k)
            export_policy(model, spec.observation_space, spec.action_space)  # fail early
            model._pz_run = run
            model._update_current_progress_remaining = types.MethodType(_progress, model)
            if cfg["anneal_lr"]:
                model.lr_schedule = functools.partial(_annealed, model.lr_schedule)
            models[policy_id] = model
        if not supersuit:
            for policy_id, policy in fixed.items():
                source.actors[policy_id] = lambda obs, p=policy: p.compute_actions(list(obs))
            for policy_id, model in models.items():
                source.actors[policy_id] = _model_actor(model, codecs[policy_id])
        _alternate(models, run, cfg["turn"])
    finally:
        run.logger.close()
    policies = {
        p: export_policy(models[p], s.observation_space, s.action_space) if s.learnt else fixed[p]
        for p, s in mapping.policies.items()
    }
    return TrainingResult(
        backend="sb3",
        policies=TrainedPolicies(policies, mapping.agent_to_policy, job.env_info()),
        results_dir=job.results_dir,
        history=run.history,
    )


def _build_model(
    job: TrainingJob, policy_id: str, cfg: dict[str, Any], venv: Any, k: int
) -> BaseAlgorithm:
    kwargs = dict(cfg["kwargs"])
    if cfg["algorithm"] == "PPO" and "n_steps" not in kwargs:
        kwargs["n_steps"] = max(16, -(-2048 // venv.num_envs))
    if cfg["normalize"] is not None:
        with vec.quiet_render_mode():
            venv = VecNormalize(venv, **{"gamma": kwargs.get("gamma", 0.99), **cfg["normalize"]})
    # Seed torch/numpy ourselves: SB3's seed= would call venv.seed(), which SuperSuit's
    # vector env lacks; the env copies are seeded from job.seed by the adapters.
    set_random_seed(job.seed + k)
    try:
        model = ALGORITHMS[cfg["algorithm"]](
            "MlpPolicy", venv, policy_kwargs=cfg["policy_kwargs"] or None, device="cpu", **kwargs
        )
    except (TypeError, ValueError, AssertionError) as exc:
        raise ConfigError(f"sb3: cannot build {cfg['algorithm']} for {policy_id!r}: {exc}") from exc
    model.action_space.seed(job.seed + k)
    folder = job.results_dir / "tensorboard" / f"sb3_{policy_id}"
    logger = configure(str(folder), ["tensorboard"]) if cfg["sb3_logging"] else Logger(None, [])
    model.set_logger(logger)
    return model


def _progress(self: BaseAlgorithm, num_timesteps: int, total_timesteps: int) -> None:
    """Replaces SB3's progress (per ``learn()`` call) with the training budget's."""
    self._current_progress_remaining = max(0.0, 1.0 - self._pz_run.fraction())


def _annealed(schedule: Any, progress_remaining: float) -> float:
    """``schedule`` scaled down linearly with the budget used (``anneal_lr``)."""
    return float(schedule(progress_remaining)) * progress_remaining


def _alternate(models: dict[str, BaseAlgorithm], run: _Run, turn: int | None) -> None:
    """Round-robin turns of ``learn()`` until the budget is used (see module docs)."""
    single = len(models) == 1
    controls = {p: _Control(p, isinstance(m, OnPolicyAlgorithm), run) for p, m in models.items()}
    last = None
    while not run.done():
        for policy_id, model in models.items():
            if run.done():
                break
            if model._last_obs is None or not single:  # what _setup_learn does on reset
                model._last_obs = model.env.reset()
                model._last_episode_starts = np.ones((model.env.num_envs,), dtype=bool)
                if model.get_vec_normalize_env() is not None:
                    model._last_original_obs = model.get_vec_normalize_env().get_original_obs()
            kwargs = {"callback": controls[policy_id], "reset_num_timesteps": False}
            if isinstance(model, OnPolicyAlgorithm):  # one update per learn(): check budget
                rollout = model.n_steps * model.n_envs
                for _ in range(1 if single else max(1, -(-(turn or rollout) // rollout))):
                    model.learn(total_timesteps=rollout, tb_log_name=policy_id, **kwargs)
                    if run.done():
                        break
            else:
                steps = 10**12 if single else (turn or 1000)
                model.learn(total_timesteps=steps, tb_log_name=policy_id, **kwargs)
            last = policy_id
    if last is not None and run.steps > run.last_record:
        run.record(last)


def _model_actor(model: BaseAlgorithm, codec: vec.ActionCodec):
    """A frozen learnt policy acting (stochastically) while another one learns."""

    def act(observations: np.ndarray) -> list[Any]:
        vec_normalize = model.get_vec_normalize_env()
        obs = observations.astype(np.float32)
        if vec_normalize is not None:
            obs = vec_normalize.normalize_obs(obs)
        return codec.to_env(model.predict(obs, deterministic=False)[0])

    return act


# ------------------------------------------------------------------------- export
def _linears(seq: nn.Module, where: str) -> tuple[list[nn.Linear], str | None]:
    """The Linear layers of a Sequential of Linear/activation modules, and the activation."""
    linears, acts = [], set()
    for module in seq.modules() if isinstance(seq, nn.Sequential) else [seq]:
        if isinstance(module, nn.Linear):
            linears.append(module)
        elif isinstance(module, (nn.Tanh, nn.ReLU)):
            acts.add("tanh" if isinstance(module, nn.Tanh) else "relu")
        elif not isinstance(module, nn.Sequential):
            raise ConfigError(f"sb3: cannot export {where}: unsupported layer {module}")
    if len(acts) > 1:
        raise ConfigError(f"sb3: cannot export {where}: it mixes activations {sorted(acts)}")
    return linears, (acts.pop() if acts else None)


def _wb(layer: nn.Linear) -> tuple[np.ndarray, np.ndarray]:
    weight, bias = layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy()
    return weight.T.astype(np.float64), bias.astype(np.float64)


def export_policy(
    model: BaseAlgorithm, observation_space: gym.Space[Any], action_space: gym.Space[Any]
) -> MLPPolicy:
    """An SB3 model's deterministic policy as a NumPy :class:`MLPPolicy` (see module docs).

    Args:
        model: A PPO, A2C or SAC model with an ``MlpPolicy`` (optionally trained on a
            ``VecNormalize`` env, whose observation statistics are exported too).
        observation_space: The env's observation space for the policy.
        action_space: The env's action space; SB3 must have seen it as
            :class:`~phantomzoo.backends.sb3_vec.ActionCodec` presents it (``Box(-1, 1)``
            for a bounded Box).

    Raises:
        ConfigError: for a model, layer or activation MLPPolicy cannot express.
    """
    policy, name, log_std = model.policy, type(model).__name__, None
    if not isinstance(model, (PPO, A2C, SAC)):
        raise ConfigError(f"sb3: cannot export {name} models; export PPO, A2C or SAC")
    if isinstance(model, (PPO, A2C)):
        extractor = policy.features_extractor
        hidden, act = _linears(policy.mlp_extractor.policy_net, f"{name} policy_net")
        layers, head = [_wb(layer) for layer in hidden], _wb(policy.action_net)
        if isinstance(action_space, gym.spaces.Box):
            log_std = policy.log_std.detach().cpu().numpy().astype(np.float64)
    else:  # SAC: deterministic action tanh(mu(latent_pi(obs)))
        extractor = policy.actor.features_extractor
        hidden, act = _linears(policy.actor.latent_pi, "SAC latent_pi")
        linears = [*hidden, policy.actor.mu]
        if act not in (None, "tanh"):
            raise ConfigError(f"sb3: {name} with {act} hidden layers cannot be exported")
        act, layers = "tanh", [_wb(layer) for layer in linears]
        width = layers[-1][0].shape[1]
        head = (np.eye(width), np.zeros(width))
    if type(extractor).__name__ != "FlattenExtractor":
        raise ConfigError(f"sb3: cannot export {name} with features extractor {extractor}")
    out = MLPPolicy(
        observation_space,
        action_space,
        layers,
        head,
        activation=act or "tanh",
        log_std=log_std,
        action_scaling=vec.ActionCodec(action_space).scaling,
    )
    vec_normalize = model.get_vec_normalize_env()
    if vec_normalize is not None and vec_normalize.norm_obs:
        out.obs_mean = vec_normalize.obs_rms.mean.astype(np.float64)
        out.obs_var = vec_normalize.obs_rms.var.astype(np.float64)
        out.obs_clip = float(vec_normalize.clip_obs)
    return out
