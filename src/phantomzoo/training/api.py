"""``ph.train``: one entry point, pluggable trainer backends.

::

    result = ph.train("supply_chain_v0", {"shop": ["SHOP"]}, backend="cleanrl",
                      timesteps=200_000, seed=0)
    result.policies.compute_actions(observations)   # NumPy inference, any backend

The environment may be a registered name, an env class or a factory; ``env_config`` is
passed to it as keyword arguments. ``policies`` uses the forms of
:mod:`phantomzoo.training.mapping`. The backend (``"cleanrl"``, the default, ``"sb3"`` or
``"rllib"``) is imported only now, and a missing optional dependency names the pip
extra to install. Whatever the backend, the result holds backend-neutral
:class:`~phantomzoo.training.trained.TrainedPolicies`, saved under ``results_dir/policies``, with
TensorBoard event files and ``training.json`` beside them.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import CheckpointError, ConfigError, PolicyMappingError, TrainingInterrupted
from ..metrics import Metric
from .interrupts import StopSignals
from .job import DEFAULT_CHECKPOINT_SECONDS, TrainingJob, TrainingResult
from .mapping import compile_policy_mapping
from .results import (
    check_saveable,
    checkpoint_to_resume,
    default_results_dir,
    prepare_results_dir,
    remove_run_files,
    run_record,
    write_record,
)
from .sources import EnvSource, resolve_env

DEFAULT_BACKEND = "cleanrl"

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_CHECKPOINT_SECONDS",
    "EnvSource",
    "TrainingJob",
    "TrainingResult",
    "backend_signature",
    "resolve_env",
    "train",
]


def train(
    env: Any,
    policies: Mapping[str, Any],
    backend: str = DEFAULT_BACKEND,
    env_config: Mapping[str, Any] | None = None,
    timesteps: int | None = None,
    iterations: int | None = None,
    seed: int = 0,
    results_dir: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Metric] | None = None,
    progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint_seconds: float | None = DEFAULT_CHECKPOINT_SECONDS,
) -> TrainingResult:
    """Train the learnt policies of ``policies`` on ``env`` with one backend.

    Everything that could make the run fail after training (an env config or fixed
    policy config that cannot be saved, non-string policy ids, an unwritable or occupied
    results directory, a checkpoint that does not match) is refused before training.

    Args:
        env: A registered name, ``"module:attr"`` path, env class or factory.
        policies: ``{policy_id: agent class | [agent ids] | (PolicyClass, agents[, config])}``.
        backend: ``"cleanrl"`` (default), ``"sb3"`` or ``"rllib"``.
        env_config: Keyword arguments for the environment. Samplers, supertypes, ranges,
            tuples and arrays are recorded declaratively (:mod:`phantomzoo.training.records`).
        timesteps: Budget in agent-steps collected for the learnt policies (total).
        iterations: Budget in backend iterations (PPO updates / RLlib ``train()`` calls).
            Training stops at whichever budget is reached first.
        seed: Seeds the environment, the networks and the backend.
        results_dir: Where to write policies, checkpoints, logs and TensorBoard files.
        options: Backend-specific options (see each backend's docs).
        metrics: ``{name: Metric}`` recorded every step and logged per episode.
        progress: Show a progress bar.
        resume: Continue the run in ``results_dir`` from its latest checkpoint (the
            other arguments must describe the same run; the budget may grow).
        overwrite: Replace the run already in ``results_dir``.
        checkpoint_seconds: Seconds between periodic checkpoints (``None``: only at the
            end and on SIGINT/SIGTERM).

    Raises:
        TrainingInterrupted: after SIGINT/SIGTERM, once policies and a checkpoint are saved.
    """
    _check_budget(timesteps, iterations, seed, checkpoint_seconds)
    if resume and results_dir is None:
        raise ConfigError("resume=True needs results_dir: the directory of the run to continue")
    from phantomzoo.backends import load_backend  # lazy: backends import trainers

    module = load_backend(backend)
    source = resolve_env(env, env_config)
    info = source.to_json()  # refuses unrecordable config values now, not after training
    mapping = compile_policy_mapping(source.make(), policies)
    if not mapping.learnt:
        raise PolicyMappingError("nothing to train: every policy in the mapping is fixed")
    check_saveable(mapping)
    accepted = getattr(module, "OPTIONS", None)
    if accepted is not None:
        unknown = sorted(set(options or {}) - set(accepted))
        if unknown:
            raise ConfigError(
                f"backend {backend!r} does not accept option(s) {unknown}; it accepts "
                f"{sorted(accepted)}"
            )
    check = getattr(module, "check_options", None)
    if check is not None:
        check(dict(options or {}))
    supports = bool(getattr(module, "SUPPORTS_CHECKPOINTS", False))
    if resume and not supports:
        raise CheckpointError(f"backend {backend!r} cannot resume from checkpoints")
    name = source.name.split(":")[-1].replace(".", "_")
    out = Path(results_dir) if results_dir is not None else default_results_dir(name, backend)
    out = prepare_results_dir(out, overwrite=overwrite, resume=resume)
    run = run_record(backend, info, seed, mapping, dict(options or {}))
    checkpoint = checkpoint_to_resume(out, run) if resume else None
    with StopSignals(enabled=supports) as stop:
        job = TrainingJob(
            source, mapping, timesteps, iterations, seed, out, dict(options or {}),
            dict(metrics or {}), progress, checkpoint_seconds, checkpoint, run, stop,
        )  # fmt: skip
        budget = {
            "timesteps": timesteps,
            "iterations": iterations,
            "seconds": (options or {}).get("max_seconds"),
        }
        write_record(out, run, budget, [], 0.0, "running")
        started = time.perf_counter()
        try:
            result: TrainingResult = module.train(job)
        except BaseException as exc:
            _failed(out, job, run, budget, exc, fresh=checkpoint is None)
            raise
        result.wall_seconds = time.perf_counter() - started
        result.interrupted = stop.signal_name
        result.policies.save(out / "policies")
        status = "interrupted" if stop.signal_name else "finished"
        write_record(out, run, budget, result.history, result.wall_seconds, status)
    if result.interrupted:
        steps = result.history[-1]["timesteps"] if result.history else 0
        raise TrainingInterrupted(
            f"training stopped on {result.interrupted} after {steps:,} agent-steps; policies "
            f"and a checkpoint are saved in {out}; continue with ph.train(..., "
            f"results_dir={str(out)!r}, resume=True) or phantomzoo train --resume {out}",
            out,
            result.interrupted,
            result,
        )
    return result


def _check_budget(timesteps: Any, iterations: Any, seed: Any, checkpoint_seconds: Any) -> None:
    if timesteps is None and iterations is None:
        raise ConfigError("give a training budget: timesteps=... or iterations=...")
    for name, value in (("timesteps", timesteps), ("iterations", iterations)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"seed must be an int, got {seed!r}")
    if checkpoint_seconds is not None and not (
        isinstance(checkpoint_seconds, (int, float))
        and not isinstance(checkpoint_seconds, bool)
        and 0 < checkpoint_seconds < math.inf
    ):
        raise ConfigError(
            f"checkpoint_seconds must be a finite number of seconds > 0 or None, got "
            f"{checkpoint_seconds!r}"
        )


def _failed(
    out: Path,
    job: TrainingJob,
    run: dict[str, Any],
    budget: dict[str, Any],
    exc: BaseException,
    fresh: bool,
) -> None:
    """Training raised: a new run that saved nothing leaves nothing behind (so the same
    call can simply be repeated); one with checkpoints is marked failed and stays
    resumable."""
    if fresh and not job.checkpoints:
        remove_run_files(out)
        return
    write_record(out, run, budget, [], 0.0, f"failed: {type(exc).__name__}: {exc}")


def backend_signature(module: Any) -> inspect.Signature:
    """The signature of a backend's ``train`` (for documentation tools)."""
    return inspect.signature(module.train)
