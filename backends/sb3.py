"""sb3: Stable-Baselines3 models, one per learnt policy.

::

    ph.train("supply_chain_v0", {"shop": ["SHOP"]}, backend="sb3", timesteps=100_000,
             options={"algorithm": "PPO", "algorithm_kwargs": {"learning_rate": 1e-3}})

**Options** (all optional):

====================  ==================================================================
``algorithm``         ``"PPO"`` (default; ``"MaskablePPO"`` for policies with action
                      masks, see :mod:`.sb3_masks`), ``"A2C"`` or ``"SAC"`` (Box actions)
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
policy learns (``learn()`` on its own VecEnv) for ``turn_timesteps`` while the others act,
frozen, through ``predict()`` (SB3's ``learn()`` owns its loop). At the start of a turn
the policy's slots re-sync with the shared env copies: its frozen moves are not trained
on. Fixed policies act via ``compute_actions``.

**Budget.** ``timesteps`` counts decisions of learning slots (padding transitions of
agents that ended early excluded); ``iterations`` counts SB3 rollout/train cycles (PPO
updates). PPO/A2C check them between updates (like SB3's ``learn``), SAC after every
step; ``max_seconds`` is checked after every step. Schedules (``learning_rate`` as a
function of progress) see the fraction of the budget used.

**Export** (:mod:`.sb3_export`): every learnt model becomes a NumPy
:class:`~phantomzoo.training.trained.MLPPolicy` (SAC needs tanh hidden layers; ReLU is refused).

**Seeding.** Same seed, same result: env episodes come from per-copy generators seeded
from ``job.seed``; SB3 draws networks, sampling and minibatches from the global torch and
NumPy generators, which are seeded with ``job.seed + k`` before building model ``k``.

**Checkpoints, stop and resume** (:mod:`.sb3_checkpoint`). Every ``checkpoint_seconds``
(PPO/A2C: after the update that crosses it; SAC: at the step that crosses it) and at the
end, the run is saved as plain data under ``RESULTS/checkpoints/`` (never SB3's pickled
zip): weights, optimiser state, counters, ``VecNormalize`` statistics, SAC's replay
buffer, env seed generators and the global RNGs. SIGINT/SIGTERM stops at the next
update (PPO/A2C) or step (SAC) after a checkpoint; ``ph.train(..., resume=True)``
continues to the total budget. A resumed run restores all of that exactly, but env
episodes in progress restart fresh, so it is a faithful continuation rather than a
byte-identical replay of an uninterrupted run (see :mod:`.sb3_checkpoint`).
"""

from __future__ import annotations

import functools
import inspect
import types
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger, configure
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import VecNormalize
from torch import nn

from phantomzoo.errors import ConfigError
from phantomzoo.training import TrainingJob, TrainingResult
from phantomzoo.training.trained import TrainedPolicies

from . import sb3_masks as masks
from . import sb3_vec as vec
from ._common import option_names, validate_options
from ._masks import masked_policies
from ._options import AT_LEAST_1, FLAG, MAPPING, MAX_SECONDS, Rule, choice, option
from ._torch_state import torch_settings
from .sb3_checkpoint import Checkpointer
from .sb3_export import export_policy
from .sb3_run import Control as _Control
from .sb3_run import Run as _Run

__all__ = ["ALGORITHMS", "OPTIONS", "SUPPORTS_CHECKPOINTS", "export_policy", "train"]

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "PPO": PPO, "A2C": A2C, "SAC": SAC, **masks.maskable_algorithms()
}  # fmt: skip
#: ph.train's checkpoint contract: periodic checkpoints, stop on SIGINT/SIGTERM, resume.
SUPPORTS_CHECKPOINTS = True
#: Same seed, same options, same env: the same weights and history (see "Seeding").
REPRODUCIBLE = True
_RESERVED = {"policy", "env", "seed", "device", "tensorboard_log", "_init_setup_model"}
_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
_NORMALIZE_KEYS = {"norm_obs", "norm_reward", "clip_obs", "clip_reward", "gamma"}
_NORMALIZE = Rule(
    f"True, False or a dict with keys among {sorted(_NORMALIZE_KEYS)}",
    lambda v: isinstance(v, bool) or (isinstance(v, dict) and not set(v) - _NORMALIZE_KEYS),
)


@dataclass
class Args:
    """The sb3 backend's options (see the module docs); checked by ``validate_options``."""

    algorithm: str = option("PPO", Rule(f"one of {sorted(ALGORITHMS)}", ALGORITHMS.__contains__))
    algorithm_kwargs: dict[str, Any] = option(None, MAPPING, factory=dict)
    policy_kwargs: dict[str, Any] = option(None, MAPPING, factory=dict)
    n_envs: int = option(4, AT_LEAST_1)
    normalize: Any = option(False, _NORMALIZE)
    vec_env: str = option("auto", choice("auto", "supersuit", "adapter"))
    max_seconds: float | None = option(None, MAX_SECONDS)
    turn_timesteps: int | None = option(None, AT_LEAST_1.optional())
    anneal_lr: bool = option(False, FLAG)
    sb3_logging: bool = option(True, FLAG)


OPTIONS = option_names(Args)


# ------------------------------------------------------------------------ options
def check_options(options: dict[str, Any]) -> None:
    """Refuse bad options before ``ph.train`` touches the results directory."""
    _option_settings(options)


def _settings(job: TrainingJob, masked: dict[str, int]) -> dict[str, Any]:
    """Every option, checked, each policy's algorithm (``masked``: the policies with
    action masks) and the policies' spaces (see the module docs)."""
    cfg = _option_settings(job.options)
    cfg["algorithms"] = masks.algorithms(job.options, cfg["algorithm"], job.mapping.learnt, masked)
    for name in set(cfg["algorithms"].values()) - {cfg["algorithm"]}:
        _algorithm_kwargs(name, dict(cfg["kwargs"]))  # MaskablePPO's keywords
    for policy_id, spec in job.mapping.learnt.items():
        obs, act = spec.observation_space, spec.action_space
        if cfg["algorithms"][policy_id] == masks.MASKABLE and not isinstance(
            act, gym.spaces.Discrete
        ):
            raise ConfigError(
                f"sb3: {masks.MASKABLE} needs Discrete actions but policy {policy_id!r} acts "
                f"in {act}; use PPO, A2C or SAC for it"
            )
        if not (isinstance(obs, gym.spaces.Box) and len(obs.shape) == 1):
            raise ConfigError(
                f"sb3: policy {policy_id!r} observes {obs}; the sb3 backend (and MLPPolicy) "
                "needs 1-D Box observations"
            )
        if cfg["algorithm"] == "SAC" and not isinstance(act, gym.spaces.Box):
            raise ConfigError(
                f"sb3: SAC needs Box actions but policy {policy_id!r} acts in {act}; use PPO or A2C"
            )
        vec.ActionCodec(act, f"sb3: policy {policy_id!r}")  # ConfigError for other spaces
    return cfg


def _option_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The options checked (shapes by :class:`Args`, then what SB3 and export accept)."""
    args = validate_options(Args, options, "sb3")
    name = args.algorithm
    return {
        "algorithm": name,
        "kwargs": _algorithm_kwargs(name, dict(args.algorithm_kwargs)),
        "policy_kwargs": _policy_kwargs(name, dict(args.policy_kwargs)),
        "normalize": _normalize(args.normalize),
        "n_envs": args.n_envs,
        "max_seconds": args.max_seconds,
        "turn": args.turn_timesteps,
        "vec_env": args.vec_env,
        "anneal_lr": args.anneal_lr,
        "sb3_logging": args.sb3_logging,
    }


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
    """VecNormalize keywords (None: no normalisation); ``value`` passed :data:`_NORMALIZE`."""
    if value is True:
        return {"norm_obs": True, "norm_reward": True}
    return value or None


# ----------------------------------------------------------------------- training
def train(job: TrainingJob) -> TrainingResult:
    """Train every learnt policy of ``job`` with its own SB3 model (see module docs)."""
    with torch_settings(threads=1):  # restored afterwards
        return _train(job)


def _train(job: TrainingJob) -> TrainingResult:
    mapping, probe = job.mapping, job.make_env()
    masked = masked_policies(probe, mapping)
    cfg = _settings(job, masked)
    misfits = vec.supersuit_misfits(probe, mapping)
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
    for policy_id, name in cfg["algorithms"].items():
        if name == masks.MASKABLE:
            venvs[policy_id] = _masked_vec_env(source, venvs[policy_id], policy_id, masked, codecs)
    fixed = {p: s.build_fixed() for p, s in mapping.fixed.items()}
    run = _Run(job, cfg["max_seconds"], source)
    models: dict[str, BaseAlgorithm] = {}
    ckpt = Checkpointer(job, models, run, lambda: _export(job, models, fixed))
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
                source.actors[policy_id] = masks.fixed_actor(policy, policy_id)
            for policy_id, model in models.items():
                source.actors[policy_id] = masks.model_actor(model, codecs[policy_id])
        if job.resume is not None:
            ckpt.restore(job.resume)
        _alternate(models, run, cfg["turn"], ckpt)
        ckpt.save()  # the final checkpoint (skipped if nothing changed since the last)
    finally:
        run.logger.close()
    return TrainingResult(
        backend="sb3",
        policies=_export(job, models, fixed),
        results_dir=job.results_dir,
        history=run.history,
    )


def _export(
    job: TrainingJob, models: dict[str, BaseAlgorithm], fixed: dict[str, Any]
) -> TrainedPolicies:
    """Every policy as trained so far (learnt ones exported to MLPPolicy)."""
    policies = {
        p: export_policy(models[p], s.observation_space, s.action_space) if s.learnt else fixed[p]
        for p, s in job.mapping.policies.items()
    }
    return TrainedPolicies(policies, job.mapping.agent_to_policy, job.env_info())


def _build_model(
    job: TrainingJob, policy_id: str, cfg: dict[str, Any], venv: Any, k: int
) -> BaseAlgorithm:
    kwargs, name = dict(cfg["kwargs"]), cfg["algorithms"][policy_id]
    if name in ("PPO", masks.MASKABLE) and "n_steps" not in kwargs:
        kwargs["n_steps"] = max(16, -(-2048 // venv.num_envs))
    if cfg["normalize"] is not None:
        with vec.quiet_render_mode():
            venv = VecNormalize(venv, **{"gamma": kwargs.get("gamma", 0.99), **cfg["normalize"]})
    # Seed torch/numpy ourselves: SB3's seed= would call venv.seed(), which SuperSuit's
    # vector env lacks; the env copies are seeded from job.seed by the adapters.
    set_random_seed(job.seed + k)
    try:
        model = ALGORITHMS[name](
            "MlpPolicy", venv, policy_kwargs=cfg["policy_kwargs"] or None, device="cpu", **kwargs
        )
    except (TypeError, ValueError, AssertionError) as exc:
        raise ConfigError(f"sb3: cannot build {name} for {policy_id!r}: {exc}") from exc
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


def _alternate(
    models: dict[str, BaseAlgorithm], run: _Run, turn: int | None, ckpt: Checkpointer
) -> None:
    """Round-robin turns of ``learn()`` until the budget is used or a stop is requested.

    A turn is a number of ``learn()`` calls (one PPO/A2C update each; one call for SAC);
    after each call a checkpoint may be saved, recording the position in the
    round-robin (``ckpt.position``) so that a resumed run continues the same turn.
    """
    order, single = list(models), len(models) == 1
    controls = {
        p: _Control(p, isinstance(m, OnPolicyAlgorithm), run, ckpt) for p, m in models.items()
    }
    index, calls, last = *ckpt.position, None
    while not run.done() and ckpt.job.stop_requested is None:
        policy_id = order[index]
        model = models[policy_id]
        if model._last_obs is None or (not single and calls == 0):  # as _setup_learn resets
            model._last_obs = model.env.reset()
            model._last_episode_starts = np.ones((model.env.num_envs,), dtype=bool)
            if model.get_vec_normalize_env() is not None:
                model._last_original_obs = model.get_vec_normalize_env().get_original_obs()
        kwargs = {"callback": controls[policy_id], "reset_num_timesteps": False}
        if isinstance(model, OnPolicyAlgorithm):  # one update per learn(): check budget
            rollout = model.n_steps * model.n_envs
            per_turn = 1 if single else max(1, -(-(turn or rollout) // rollout))
            model.learn(total_timesteps=rollout, tb_log_name=policy_id, **kwargs)
        else:
            per_turn, steps = 1, 10**12 if single else (turn or 1000)
            model.learn(total_timesteps=steps, tb_log_name=policy_id, **kwargs)
        last, calls = policy_id, calls + 1
        if calls >= per_turn:
            index, calls = (index + 1) % len(order), 0
        ckpt.position = (index, calls)
        if ckpt.maybe_save():
            break
    if last is not None and run.steps > run.last_record:
        run.record(last)


def _masked_vec_env(
    source: Any, venv: Any, policy_id: str, masked: dict[str, int], codecs: dict[str, Any]
) -> masks.MaskedVecEnv:
    """``venv`` with the ``action_masks()`` MaskablePPO reads (see :mod:`.sb3_masks`)."""
    size = masked.get(policy_id) or int(codecs[policy_id].sb3_space.n)
    if isinstance(source, vec.EnvPool):
        rows = masks.pool_mask_rows(source, policy_id, size)
    else:
        rows = masks.supersuit_mask_rows(source.trackers, size)
    with vec.quiet_render_mode():
        return masks.MaskedVecEnv(venv, rows)
