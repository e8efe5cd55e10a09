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
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, PolicyMappingError
from .mapping import PolicyMapping, compile_policy_mapping
from .metrics import Metric
from .registry import check_kwargs, spec
from .trained import TrainedPolicies

DEFAULT_BACKEND = "cleanrl"


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

    def factory(self) -> Callable[..., Any]:
        """The env class or factory."""
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
        """JSON-able form (used in saved manifests)."""
        return {"kind": self.kind, "name": self.name, "config": self.config}


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
    """Everything a backend needs to train (built by :func:`train`)."""

    env_source: EnvSource
    mapping: PolicyMapping
    timesteps: int | None
    iterations: int | None
    seed: int
    results_dir: Path
    options: dict[str, Any]
    metrics: dict[str, Metric]
    progress: bool

    def make_env(self) -> Any:
        """A new environment."""
        return self.env_source.make()

    def env_info(self) -> dict[str, Any]:
        """The JSON description of the environment saved with the policies."""
        return self.env_source.to_json()


@dataclass
class TrainingResult:
    """What :func:`train` returns.

    Attributes:
        backend: The backend that trained.
        policies: The trained (and fixed) policies, backend-neutral.
        results_dir: Where policies, ``training.json`` and TensorBoard files are.
        history: One dict per training iteration (timesteps, seconds, mean return per
            policy, metrics).
        wall_seconds: Total training time.
    """

    backend: str
    policies: TrainedPolicies
    results_dir: Path
    history: list[dict[str, Any]]
    wall_seconds: float = 0.0


def _default_results_dir(source: EnvSource, backend: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = source.name.split(":")[-1].replace(".", "_")
    return Path("results") / f"{name}-{backend}-{stamp}"


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
) -> TrainingResult:
    """Train the learnt policies of ``policies`` on ``env`` with one backend.

    Args:
        env: A registered name, ``"module:attr"`` path, env class or factory.
        policies: ``{policy_id: agent class | [agent ids] | (PolicyClass, agents[, config])}``.
        backend: ``"cleanrl"`` (default), ``"sb3"`` or ``"rllib"``.
        env_config: Keyword arguments for the environment.
        timesteps: Budget in agent-steps collected for the learnt policies.
        iterations: Budget in backend iterations (PPO updates / RLlib ``train()`` calls).
            Training stops at whichever budget is reached first.
        seed: Seeds the environment, the networks and the backend.
        results_dir: Where to write policies, logs and TensorBoard files.
        options: Backend-specific options (see each backend's docs).
        metrics: ``{name: Metric}`` recorded every step and logged per episode.
        progress: Show a progress bar.
    """
    if timesteps is None and iterations is None:
        raise ConfigError("give a training budget: timesteps=... or iterations=...")
    for name, value in (("timesteps", timesteps), ("iterations", iterations)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"seed must be an int, got {seed!r}")
    from phantomzoo.backends import load_backend  # lazy: backends import trainers

    module = load_backend(backend)
    source = resolve_env(env, env_config)
    mapping = compile_policy_mapping(source.make(), policies)
    if not mapping.learnt:
        raise PolicyMappingError("nothing to train: every policy in the mapping is fixed")
    accepted = getattr(module, "OPTIONS", None)
    if accepted is not None:
        unknown = sorted(set(options or {}) - set(accepted))
        if unknown:
            raise ConfigError(
                f"backend {backend!r} does not accept option(s) {unknown}; it accepts "
                f"{sorted(accepted)}"
            )
    out = Path(results_dir) if results_dir is not None else _default_results_dir(source, backend)
    out.mkdir(parents=True, exist_ok=True)
    job = TrainingJob(
        source,
        mapping,
        timesteps,
        iterations,
        seed,
        out,
        dict(options or {}),
        dict(metrics or {}),
        progress,
    )
    started = time.perf_counter()
    result: TrainingResult = module.train(job)
    result.wall_seconds = time.perf_counter() - started
    result.policies.save(out / "policies")
    record = {
        "backend": backend,
        "env": source.to_json(),
        "seed": seed,
        "timesteps": timesteps,
        "iterations": iterations,
        "options": _jsonable(job.options),
        "wall_seconds": result.wall_seconds,
        "history": result.history,
    }
    (out / "training.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    return result


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except TypeError:
        return repr(value)


def backend_signature(module: Any) -> inspect.Signature:
    """The signature of a backend's ``train`` (for documentation tools)."""
    return inspect.signature(module.train)
