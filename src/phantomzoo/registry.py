"""A registry of environments by short versioned name, loaded lazily.

``ph.make("supply_chain_v0", num_shops=10)`` imports the entry point only when asked for,
so registering costs nothing at import time::

    ph.register("my_market_v0", entry_point="my_pkg.market:MarketEnv")

**Packages of models** register theirs through the ``phantomzoo.models`` entry-point
group (the bundled models do so too)::

    [project.entry-points."phantomzoo.models"]
    my_models = "my_pkg.registrations"     # a module that calls ph.register(...)

The group is read once, on the first look-up or registration, so the core never names
a model package.

**Bench modules.** Workflows such as ``phantomzoo bench`` find a model's helpers in its
*bench module*: ``bench=`` of :func:`register`, or by convention ``<package>.bench``
when the entry point lives in a package (``my_pkg.market:MarketEnv`` with ``my_pkg/market/``
a package -> ``my_pkg.market.bench``). It may define any of :data:`BENCH_HOOKS`.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from .errors import ConfigError, RegistryError

#: The entry-point group model packages register their environments through.
ENTRY_POINT_GROUP = "phantomzoo.models"

#: What a bench module may define, by name: ``policies(env)`` -> the default policy
#: mapping; ``baselines(env, seed)`` -> ``{label: TrainedPolicies}``, yardstick first;
#: ``plots(policies, out_dir, seed, env_config)`` -> paths written; ``throughput(sizes,
#: min_seconds, seed, repeats)`` -> a throughput report (see :mod:`phantomzoo.cli.bench`).
BENCH_HOOKS = ("policies", "baselines", "plots", "throughput")


def _split_target(target: str, what: str) -> tuple[str, str]:
    """``"pkg.mod:attr"`` -> ``("pkg.mod", "attr")``, or RegistryError naming ``what``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise RegistryError(
            f"{what} must be a 'module:attribute' string such as 'my_pkg.market:MarketEnv', "
            f"got {target!r}"
        )
    return module_name, attr


@dataclass(frozen=True)
class EnvSpec:
    """A registered environment: its name, entry point, defaults and bench module."""

    id: str
    entry_point: str | Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: Per-hook ``{name: "module:attr"}`` overrides of the bench module (the older way
    #: of naming helpers; prefer ``bench``).
    hooks: dict[str, str] = field(default_factory=dict)
    #: The bench module's import path; ``None``: the ``<package>.bench`` convention.
    bench: str | None = None

    def bench_module(self) -> ModuleType | None:
        """The environment's bench module, imported now, or ``None`` if it has none."""
        if self.bench is not None:
            try:
                return importlib.import_module(self.bench)
            except ImportError as exc:
                raise RegistryError(
                    f"bench module {self.bench!r} of {self.id!r} cannot be imported ({exc}); "
                    "fix the bench= path given to ph.register"
                ) from exc
        if not isinstance(self.entry_point, str):
            return None
        package = importlib.import_module(self.entry_point.partition(":")[0])
        if not hasattr(package, "__path__"):  # a plain module: no convention applies
            return None
        name = f"{package.__name__}.bench"
        if importlib.util.find_spec(name) is None:
            return None
        return importlib.import_module(name)

    def hook(self, name: str) -> Callable[..., Any] | None:
        """The bench helper ``name`` (one of :data:`BENCH_HOOKS`), imported now, or ``None``."""
        if name not in BENCH_HOOKS:
            raise RegistryError(f"unknown bench hook {name!r}; known: {list(BENCH_HOOKS)}")
        target = self.hooks.get(name)
        if target is not None:
            module_name, attr = _split_target(target, f"hook {name!r} of {self.id!r}")
            found = getattr(importlib.import_module(module_name), attr, None)
            if found is None:
                raise RegistryError(
                    f"hook {name!r} of {self.id!r}: module {module_name!r} has no "
                    f"attribute {attr!r}"
                )
            return found
        module = self.bench_module()
        if module is None:
            return None
        return getattr(module, name, None)

    def load(self) -> Callable[..., Any]:
        """Import and return the entry point (an env class or factory)."""
        if callable(self.entry_point):
            return self.entry_point
        module_name, attr = _split_target(self.entry_point, f"entry point of {self.id!r}")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise RegistryError(
                f"entry point {self.entry_point!r} of {self.id!r}: module {module_name!r} "
                f"has no attribute {attr!r}"
            ) from None


_REGISTRY: dict[str, EnvSpec] = {}
_plugins_loaded = False


def _check_registration(
    id: Any, entry_point: Any, hooks: dict[str, str] | None, bench: str | None
) -> None:
    """RegistryError for an id, entry point, hook table or bench path that cannot work."""
    if not isinstance(id, str) or not id.strip():
        raise RegistryError(f"environment id must be a non-empty string like 'name_v0', got {id!r}")
    if isinstance(entry_point, str):
        _split_target(entry_point, f"entry point of {id!r}")
    elif not callable(entry_point):
        raise RegistryError(
            f"entry point of {id!r} must be a 'module:attribute' string or a callable, "
            f"got {type(entry_point).__name__}"
        )
    for name, target in (hooks or {}).items():
        if name not in BENCH_HOOKS:
            raise RegistryError(
                f"unknown hook {name!r} for {id!r}; known hooks: {list(BENCH_HOOKS)} "
                "(or pass bench='my_pkg.bench', a module defining them)"
            )
        if not isinstance(target, str):
            raise RegistryError(f"hook {name!r} of {id!r} must be a 'module:attribute' string")
        _split_target(target, f"hook {name!r} of {id!r}")
    if bench is not None and (not isinstance(bench, str) or not bench or ":" in bench):
        raise RegistryError(
            f"bench of {id!r} must be a module path such as 'my_pkg.market.bench', got {bench!r}"
        )


def register(
    id: str,
    entry_point: str | Callable[..., Any],
    kwargs: dict[str, Any] | None = None,
    description: str = "",
    hooks: dict[str, str] | None = None,
    *,
    bench: str | None = None,
    override: bool = False,
) -> None:
    """Register an environment under ``id`` (``"name_vN"`` by convention).

    Args:
        id: The name :func:`make` takes.
        entry_point: ``"module:attr"`` (imported on first use) or a callable returning
            the env.
        kwargs: Default keyword arguments of the entry point.
        description: One line shown by ``phantomzoo list``.
        hooks: Per-hook ``{name: "module:attr"}`` overrides of the bench module (names
            from :data:`BENCH_HOOKS`).
        bench: Import path of the bench module (default: ``<package>.bench``).
        override: Replace an environment already registered as ``id``; without it a
            second registration is an error (two packages claiming one name).

    Raises:
        RegistryError: ``id`` is taken (and not ``override``), or an argument is malformed.
    """
    _check_registration(id, entry_point, hooks, bench)
    _load_plugins()
    if id in _REGISTRY and not override:
        raise RegistryError(
            f"environment {id!r} is already registered (entry point "
            f"{_REGISTRY[id].entry_point!r}); pass override=True to replace it, or choose "
            "another id such as a new version suffix"
        )
    _REGISTRY[id] = EnvSpec(
        id, entry_point, dict(kwargs or {}), description, dict(hooks or {}), bench
    )


def _load_plugins() -> None:
    """Import every module of the ``phantomzoo.models`` entry-point group, once."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True  # set first: the modules loaded call register()
    points = list(entry_points(group=ENTRY_POINT_GROUP))
    for point in points:
        try:
            loaded = point.load()
            if callable(loaded):
                loaded()
        except RegistryError:
            raise
        except Exception as exc:  # noqa: BLE001 -- any failure of a plugin, named
            raise RegistryError(
                f"entry point {point.name!r} = {point.value!r} of group {ENTRY_POINT_GROUP!r} "
                f"failed to register its environments ({type(exc).__name__}: {exc}); fix or "
                "uninstall the package that provides it"
            ) from exc


def spec(id: str) -> EnvSpec:
    """The spec registered under ``id``, with a "did you mean" hint when unknown."""
    _load_plugins()
    try:
        return _REGISTRY[id]
    except KeyError:
        pass
    close = difflib.get_close_matches(str(id), list(_REGISTRY), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise RegistryError(
        f"no environment registered as {id!r}.{hint} Registered: {sorted(_REGISTRY)}"
    )


def registered_envs() -> dict[str, EnvSpec]:
    """All registered environments by id."""
    _load_plugins()
    return dict(_REGISTRY)


def make(id: str, **kwargs: Any) -> Any:
    """Build the environment registered as ``id`` with keyword arguments ``kwargs``."""
    env_spec = spec(id)
    factory = env_spec.load()
    config = {**env_spec.kwargs, **kwargs}
    check_kwargs(factory, config, id)
    return factory(**config)


def check_kwargs(factory: Callable[..., Any], config: dict[str, Any], name: str) -> None:
    """Raise :class:`ConfigError` if ``factory`` does not accept every key of ``config``."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without signatures: let the call decide
        return
    params = signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    unknown = [k for k in config if k not in accepted]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, accepted, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(f"{name} does not accept {', '.join(hints)}; it accepts {accepted}")
