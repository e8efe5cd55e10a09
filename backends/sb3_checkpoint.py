"""Checkpoints of the sb3 backend: SB3 models as plain data, restored on resume.

SB3's own ``model.save``/``load`` zip pickles Python objects, so a checkpoint is built
from ``state_dict`` trees instead (via :mod:`._torch_state`) and written by
:class:`phantomzoo.training.checkpoint.CheckpointStore`. Per learnt model it records:

* the policy's ``state_dict`` (PPO/A2C: actor-critic; SAC: actor, critic and target);
* the optimisers' ``state_dict`` (SAC: actor, critic and, with automatic entropy
  tuning, ``log_ent_coef`` and its optimiser);
* ``num_timesteps``, ``_n_updates``, ``_episode_num``, the episode-info buffer and the
  seed state of the model's action space (SAC's warm-up actions);
* ``VecNormalize`` statistics (observation and return running moments) if used;
* SAC's replay buffer (only the filled part).

Beside the models: the env copies' episode-seed generators and agent-step counters,
the run's counters, history, recent episode summaries, the position in the round-robin
alternation, and the torch/NumPy/``random`` global generators SB3 draws from.

**What is bit-identical on resume, and what is not.** Weights, optimiser moments,
normalisation statistics, counters (so budgets, learning-rate schedules and TensorBoard
steps continue) and every random generator are restored exactly. Not restored: the
episodes that were in progress in the env copies (they restart from a fresh, seeded
episode, so the first rollout after a resume differs from the uninterrupted run's), a
PPO/A2C rollout that was being collected (checkpoints are taken between updates, so
there is none), and the exact interleaving of a SAC turn cut by a stop. A resumed run
is therefore a faithful continuation, not a byte-identical replay.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3 import SAC
from stable_baselines3.common.base_class import BaseAlgorithm

from phantomzoo.errors import CheckpointError
from phantomzoo.training import TrainingJob
from phantomzoo.training.checkpoint import Checkpoint
from phantomzoo.training.trained import TrainedPolicies

from . import _torch_state as ts

#: Format of the sb3 backend's state tree (bumped when it changes incompatibly).
STATE_VERSION = 1
_BUFFER_FIELDS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


# --------------------------------------------------------------------- one model
def _optimizers(model: BaseAlgorithm) -> dict[str, Any]:
    if isinstance(model, SAC):
        found = {"actor": model.actor.optimizer, "critic": model.critic.optimizer}
        if model.ent_coef_optimizer is not None:
            found["ent_coef"] = model.ent_coef_optimizer
        return found
    return {"policy": model.policy.optimizer}


def model_state(model: BaseAlgorithm) -> dict[str, Any]:
    """One SB3 model as a checkpoint tree (see the module docs)."""
    state: dict[str, Any] = {
        "policy": ts.to_numpy(model.policy.state_dict()),
        "optimizers": {k: ts.to_numpy(o.state_dict()) for k, o in _optimizers(model).items()},
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(model._n_updates),
        "episode_num": int(model._episode_num),
        "ep_info": [dict(info) for info in (model.ep_info_buffer or [])],
        "action_space_rng": ts.generator_state(model.action_space.np_random),
        "vec_normalize": _vec_normalize_state(model),
    }
    if isinstance(model, SAC):
        log_ent = getattr(model, "log_ent_coef", None)
        state["log_ent_coef"] = None if log_ent is None else ts.to_numpy(log_ent)
        state["replay_buffer"] = _buffer_state(model.replay_buffer)
    return state


def restore_model(model: BaseAlgorithm, state: dict[str, Any], what: str) -> None:
    """Load :func:`model_state` into a freshly built model of the same configuration."""
    ts.load_module_state(model.policy, state["policy"], f"{what}'s policy")
    optimizers = _optimizers(model)
    if set(optimizers) != set(state["optimizers"]):
        raise CheckpointError(
            f"{what}: the checkpoint holds optimisers {sorted(state['optimizers'])}, this run "
            f"has {sorted(optimizers)}"
        )
    for name, optimizer in optimizers.items():
        ts.load_optimizer_state(optimizer, state["optimizers"][name], f"{what}'s {name} optimiser")
    model.num_timesteps = int(state["num_timesteps"])
    model._n_updates = int(state["n_updates"])
    model._episode_num = int(state["episode_num"])
    model.ep_info_buffer = deque(state["ep_info"], maxlen=model._stats_window_size)
    model.ep_success_buffer = deque(maxlen=model._stats_window_size)
    ts.set_generator_state(model.action_space.np_random, state["action_space_rng"])
    _restore_vec_normalize(model, state["vec_normalize"], what)
    if isinstance(model, SAC):
        if state["log_ent_coef"] is not None:
            import torch

            with torch.no_grad():
                model.log_ent_coef.copy_(ts.to_tensors(state["log_ent_coef"]))
        _restore_buffer(model.replay_buffer, state["replay_buffer"], what)


def _vec_normalize_state(model: BaseAlgorithm) -> dict[str, Any] | None:
    norm = model.get_vec_normalize_env()
    if norm is None:
        return None
    moments = {
        name: {"mean": rms.mean.copy(), "var": rms.var.copy(), "count": float(rms.count)}
        for name, rms in (("obs", norm.obs_rms), ("ret", norm.ret_rms))
    }
    return {**moments, "returns": np.asarray(norm.returns).copy()}


def _restore_vec_normalize(model: BaseAlgorithm, state: Any, what: str) -> None:
    norm = model.get_vec_normalize_env()
    if (norm is None) != (state is None):
        raise CheckpointError(f"{what}: the checkpoint and this run disagree on 'normalize'")
    if norm is None:
        return
    for name, rms in (("obs", norm.obs_rms), ("ret", norm.ret_rms)):
        saved = state[name]
        mean, var = np.asarray(saved["mean"]), np.asarray(saved["var"])
        if mean.shape != rms.mean.shape or var.shape != rms.var.shape:
            raise CheckpointError(
                f"{what}: saved {name} statistics have shape {mean.shape}, expected "
                f"{rms.mean.shape}"
            )
        rms.mean, rms.var = mean.astype(np.float64), var.astype(np.float64)
        rms.count = float(saved["count"])
    norm.returns = np.asarray(state["returns"], dtype=np.float64).copy()


def _buffer_state(buffer: Any) -> dict[str, Any]:
    filled = buffer.buffer_size if buffer.full else buffer.pos
    arrays = {}
    for name in _BUFFER_FIELDS:
        array = getattr(buffer, name, None)
        arrays[name] = None if array is None else array[:filled].copy()
    return {"pos": int(buffer.pos), "full": bool(buffer.full), "arrays": arrays}


def _restore_buffer(buffer: Any, state: dict[str, Any], what: str) -> None:
    filled = buffer.buffer_size if state["full"] else int(state["pos"])
    if not 0 <= filled <= buffer.buffer_size:
        raise CheckpointError(f"{what}: replay buffer position {filled} is out of range")
    for name, saved in state["arrays"].items():
        target = getattr(buffer, name, None) if name in _BUFFER_FIELDS else None
        if (target is None) != (saved is None):
            raise CheckpointError(f"{what}: replay buffer field {name!r} does not fit this run")
        if saved is None:
            continue
        if saved.shape[1:] != target.shape[1:] or saved.shape[0] != filled:
            raise CheckpointError(
                f"{what}: replay buffer field {name!r} has shape {saved.shape}, this run "
                f"expects ({filled}, {', '.join(map(str, target.shape[1:]))})"
            )
        target[:filled] = saved
    buffer.pos, buffer.full = int(state["pos"]) % buffer.buffer_size, bool(state["full"])


# --------------------------------------------------------------------- env side
def source_state(source: Any) -> dict[str, Any]:
    """Episode-seed generators and agent-step counters of an ``EnvPool`` or SuperSuit source."""
    if hasattr(source, "copies"):  # EnvPool
        seeds = [ts.generator_state(copy.seeds) for copy in source.copies]
        return {"kind": "pool", "seeds": seeds, "agent_steps": [int(source.agent_steps)]}
    seeds = [ts.generator_state(tracker.seeds) for tracker in source.trackers]
    return {
        "kind": "supersuit",
        "seeds": seeds,
        "agent_steps": [int(t.agent_steps) for t in source.trackers],
    }


def restore_source(source: Any, state: dict[str, Any]) -> None:
    """Restore :func:`source_state`; copies then start fresh episodes from those seeds."""
    kind = "pool" if hasattr(source, "copies") else "supersuit"
    holders = source.copies if kind == "pool" else source.trackers
    if state["kind"] != kind or len(state["seeds"]) != len(holders):
        raise CheckpointError(
            f"the checkpoint's env copies ({state['kind']}, {len(state['seeds'])}) do not fit "
            f"this run ({kind}, {len(holders)}); resume with the same n_envs and vec_env"
        )
    for holder, seeds in zip(holders, state["seeds"]):
        ts.set_generator_state(holder.seeds, seeds)
    if kind == "pool":
        source.agent_steps = int(state["agent_steps"][0])
    else:
        for tracker, steps in zip(source.trackers, state["agent_steps"]):
            tracker.agent_steps = int(steps)


# ------------------------------------------------------------------- the whole run
class Checkpointer:
    """Saves and restores an sb3 training run through the job's checkpoint store.

    Args:
        job: The training job (interval, stop request, resume checkpoint).
        models: The learnt models by policy id.
        run: The backend's run bookkeeping (``_Run``: counters, logger, history).
        export: Builds the :class:`TrainedPolicies` trained so far.
    """

    def __init__(
        self,
        job: TrainingJob,
        models: dict[str, BaseAlgorithm],
        run: Any,
        export: Callable[[], TrainedPolicies],
    ) -> None:
        self.job, self.models, self.run, self.export = job, models, run, export
        #: Round-robin position: (index of the policy whose turn it is, learn calls done).
        self.position = (0, 0)
        self._saved_at: tuple[int, int, int] | None = None

    def state(self) -> dict[str, Any]:
        """The run's checkpoint tree (see the module docs)."""
        run, logger = self.run, self.run.logger
        return {
            "version": STATE_VERSION,
            "models": {p: model_state(m) for p, m in self.models.items()},
            "source": source_state(run.source),
            "run": {
                "iterations": run.iterations,
                "last_record": run.last_record,
                "recent": list(run.recent),
                "episodes": logger.episodes,
                "recent_returns": {p: list(v) for p, v in logger.recent.items()},
                "recent_lengths": list(logger.recent_lengths),
            },
            "position": list(self.position),
            "rng": ts.global_rng_state(),
        }

    def save(self) -> Path | None:
        """Write a checkpoint unless nothing changed since the last one."""
        run = self.run
        mark = (run.steps, run.iterations, len(run.history))
        if mark == self._saved_at:
            return None
        self._saved_at = mark
        return self.job.save_checkpoint(
            self.state(), run.history, run.steps, run.iterations, run.seconds(), self.export()
        )

    def maybe_save(self) -> bool:
        """Save if a checkpoint is due; returns whether training should stop."""
        if self.job.checkpoint_due():
            self.save()
        return self.job.stop_requested is not None

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint`` (call after building the models and env copies)."""
        try:
            self._restore(checkpoint.state, checkpoint)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CheckpointError(
                f"checkpoint {checkpoint.directory} does not fit this sb3 run "
                f"({type(exc).__name__}: {exc}); resume with the original settings or start "
                "a new run"
            ) from None

    def _restore(self, state: dict[str, Any], checkpoint: Checkpoint) -> None:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise CheckpointError(
                f"checkpoint {checkpoint.directory} is not an sb3 backend checkpoint of "
                f"version {STATE_VERSION}"
            )
        if set(state["models"]) != set(self.models):
            raise CheckpointError(
                f"checkpoint {checkpoint.directory} holds policies {sorted(state['models'])}, "
                f"this run learns {sorted(self.models)}"
            )
        for policy_id, model in self.models.items():
            restore_model(model, state["models"][policy_id], f"policy {policy_id!r}")
        run, logger, saved = self.run, self.run.logger, state["run"]
        restore_source(run.source, state["source"])
        run.steps = int(checkpoint.progress["timesteps"])
        run.iterations = int(saved["iterations"])
        run.last_record = int(saved["last_record"])
        run.recent = list(saved["recent"])
        run.history = list(checkpoint.history)
        run.started = time.perf_counter() - float(checkpoint.progress.get("seconds", 0.0))
        logger.episodes = int(saved["episodes"])
        for policy_id, values in saved["recent_returns"].items():
            if policy_id in logger.recent:
                logger.recent[policy_id].extend(float(v) for v in values)
        logger.recent_lengths.extend(int(v) for v in saved["recent_lengths"])
        done = min(run.steps, run.budget.timesteps) if run.by_steps else run.iterations
        logger.advance(done)
        index, calls = (int(v) for v in state["position"])
        self.position = (index % max(1, len(self.models)), calls)
        self._saved_at = (run.steps, run.iterations, len(run.history))
        ts.set_global_rng_state(state["rng"])
