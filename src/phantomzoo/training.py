"""``ph.train``: one entry point, pluggable trainer backends.

::

    result = ph.train("supply_chain_v0", {"shop": ["SHOP"]}, backend="cleanrl",
                      timesteps=200_000, seed=0)
    result.policies.compute_actions(observations)   # NumPy inference, any backend

The environment may be a registered name, an env class or a factory; ``env_config`` is
passed to it as keyword arguments. ``policies`` uses the forms of
:mod:`phantomzoo.mapping`. The backend (``"cleanrl"``, the default, ``"sb3"`` or
``"rllib"``) is imported only now, and a missing optional dependency names the pip
extra to install. Whatever the backend, the result holds backend-neutral
:class:`~phantomzoo.trained.TrainedPolicies`, saved under ``results_dir/policies``, with
TensorBoard event files and ``training.json`` beside them.
"""

from __future__ import annotations

import importlib
import inspect
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import records
from .checkpoint import Checkpoint, CheckpointStore
from .errors import (
    CheckpointError,
    ConfigError,
    ManifestError,
    PolicyMappingError,
    RegistryError,
    TrainingInterrupted,
)
from .interrupts import StopSignals
from .mapping import PolicyMapping, compile_policy_mapping
from .metrics import Metric
from .registry import check_kwargs, registered_envs, spec
from .results import (
    check_saveable,
    checkpoint_to_resume,
    default_results_dir,
    prepare_results_dir,
    remove_run_files,
    run_record,
    write_record,
)
from .trained import TrainedPolicies
from .trust import TrustPolicy

DEFAULT_BACKEND = "cleanrl"
#: Seconds between periodic checkpoints by default.
DEFAULT_CHECKPOINT_SECONDS = 300.0


@dataclass
class EnvSource:
    """How to build the environment, in a form worker processes can rebuild it from.

    Attributes:
        kind: ``"registered"`` (``name`` is a registry id) or ``"import"`` (``name`` is
            ``"module:qualname"`` of a class or factory).
        name: The registry id or import path.
        config: Keyword arguments for the factory.
    """

    kind: str
    name: str
    config: dict[str, Any] = field(default_factory=dict)
    _factory: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    def factory(self) -> Callable[..., Any]:
        """The env class or factory (imported now for a source the user gave)."""
        if self._factory is not None:
            return self._factory
        if self.kind == "registered":
            return spec(self.name).load()
        module_name, _, qualname = self.name.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        return obj

    def make(self) -> Any:
        """A new environment."""
        return self.factory()(**self.config)

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (used in saved manifests); the config as a declarative record.

        Raises:
            ConfigError: when a config value cannot be recorded (see :mod:`phantomzoo.records`).
        """
        config = records.encode(self.config, "env_config")
        return {"kind": self.kind, "name": self.name, "config": config}

    @classmethod
    def from_record(cls, data: Any, where: str, trust: TrustPolicy | None = None) -> EnvSource:
        """Rebuild a source saved by :meth:`to_json`, as untrusted input.

        A registered name loads; an import path loads only if it is a registered entry
        point or ``trust`` covers it (:mod:`phantomzoo.trust`). Nothing named in the
        record is imported before that check.

        Raises:
            ManifestError: for a malformed record; TrustError: for an import refused.
        """
        trust = trust or TrustPolicy()
        if not isinstance(data, dict) or not data.get("name"):
            raise ManifestError(f"{where} does not record the environment it was trained on")
        kind, name, raw = data.get("kind"), data.get("name"), data.get("config", {})
        if not isinstance(name, str) or not isinstance(raw, dict):
            raise ManifestError(f"{where}: the env record needs a string name and a config object")
        config = records.decode(raw, f"{where} (env config)")
        if kind == "registered":
            try:
                factory = spec(name).load()
            except RegistryError as exc:
                raise ManifestError(f"{where}: {exc}") from None
            return cls("registered", name, config, _checked(factory, config, name, where))
        if kind != "import":
            raise ManifestError(
                f"{where}: unknown env kind {kind!r}; expected 'registered' or 'import'"
            )
        registered = [s for s in registered_envs().values() if s.entry_point == name]
        factory = registered[0].load() if registered else trust.env_factory(name, where)
        if not callable(factory):
            raise ManifestError(f"{where}: {name!r} is not an env class or factory")
        return cls("import", name, config, _checked(factory, config, name, where))


def _checked(factory: Callable[..., Any], config: dict[str, Any], name: str, where: str) -> Any:
    """``factory`` if it accepts every recorded config key, else a ManifestError."""
    try:
        check_kwargs(factory, config, name)
    except ConfigError as exc:
        raise ManifestError(
            f"{where}: the recorded env config does not fit {name}: {exc}"
        ) from None
    return factory


def resolve_env(env: Any, env_config: Mapping[str, Any] | None = None) -> EnvSource:
    """Turn a registered name, ``"module:attr"`` path, env class or factory into a source.

    Raises:
        ConfigError: for an unknown name, a factory that cannot be imported by path, or
            keywords the factory does not accept.
    """
    config = dict(env_config or {})
    if isinstance(env, str):
        if ":" in env:
            source = EnvSource("import", env, config)
        else:
            spec(env)  # raises RegistryError with a did-you-mean hint
            source = EnvSource("registered", env, config)
    elif callable(env):
        module = getattr(env, "__module__", None)
        qualname = getattr(env, "__qualname__", "")
        if module is None or "<locals>" in qualname or "<lambda>" in qualname:
            raise ConfigError(
                f"cannot train on {env!r}: pass a registered env name, an env class or a "
                "module-level factory function (worker processes rebuild the env by import)"
            )
        source = EnvSource("import", f"{module}:{qualname}", config)
    else:
        raise ConfigError(f"env must be a registered name, an env class or a factory, got {env!r}")
    check_kwargs(source.factory(), config, source.name)
    return source


@dataclass
class TrainingJob:
    """Everything a backend needs to train (built by :func:`train`).

    Checkpoint contract for backends (``SUPPORTS_CHECKPOINTS = True`` in the module):
    at each iteration boundary call :meth:`checkpoint_due` and, if true,
    :meth:`save_checkpoint`; stop the loop when :attr:`stop_requested` is set; save a
    final checkpoint when the loop ends. When :attr:`resume` is set, restore from its
    ``state``, ``history`` and ``progress`` before the first iteration. Budgets
    (timesteps, iterations, ``max_seconds``) are totals over the whole run, resumed
    sessions included.
    """

    env_source: EnvSource
    mapping: PolicyMapping
    timesteps: int | None
    iterations: int | None
    seed: int
    results_dir: Path
    options: dict[str, Any]
    metrics: dict[str, Metric]
    progress: bool
    checkpoint_seconds: float | None = DEFAULT_CHECKPOINT_SECONDS
    resume: Checkpoint | None = None
    run: dict[str, Any] = field(default_factory=dict)
    stop: StopSignals = field(default_factory=lambda: StopSignals(enabled=False))
    checkpoints: list[Path] = field(default_factory=list)
    _last_save: float = field(default_factory=time.monotonic)

    def make_env(self) -> Any:
        """A new environment."""
        return self.env_source.make()

    def env_info(self) -> dict[str, Any]:
        """The JSON description of the environment saved with the policies."""
        return self.env_source.to_json()

    @property
    def stop_requested(self) -> str | None:
        """The signal (``"SIGINT"``/``"SIGTERM"``) that asked training to stop, if any."""
        return self.stop.signal_name

    def checkpoint_due(self) -> bool:
        """Whether a checkpoint should be saved now (interval elapsed or stop requested)."""
        if self.stop_requested:
            return True
        if self.checkpoint_seconds is None:
            return False
        return time.monotonic() - self._last_save >= self.checkpoint_seconds

    def save_checkpoint(
        self,
        state: Any,
        history: list[dict[str, Any]],
        timesteps: int,
        iterations: int,
        seconds: float,
        policies: TrainedPolicies | None = None,
    ) -> Path:
        """Write a checkpoint of the backend's ``state`` (plain data + NumPy arrays)."""
        progress = {"timesteps": int(timesteps), "iterations": int(iterations), "seconds": seconds}
        path = CheckpointStore(self.results_dir).save(self.run, progress, history, state, policies)
        self._last_save = time.monotonic()
        self.checkpoints.append(path)
        return path


@dataclass
class TrainingResult:
    """What :func:`train` returns.

    Attributes:
        backend: The backend that trained.
        policies: The trained (and fixed) policies, backend-neutral.
        results_dir: Where policies, ``training.json`` and TensorBoard files are.
        history: One dict per training iteration (timesteps, seconds, mean return per
            policy, metrics).
        wall_seconds: Training time of this call.
        interrupted: The signal that stopped training early, else ``None``.
    """

    backend: str
    policies: TrainedPolicies
    results_dir: Path
    history: list[dict[str, Any]]
    wall_seconds: float = 0.0
    interrupted: str | None = None


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
            tuples and arrays are recorded declaratively (:mod:`phantomzoo.records`).
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
