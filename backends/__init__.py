"""Trainer backends, installed as ``phantomzoo.backends``.

Each backend is one module, imported lazily by name, so ``import phantomzoo`` never pulls
in torch, ray or Stable-Baselines3. Backends are *registered*, never listed here:

* installed packages declare them in the ``phantomzoo.backends`` entry-point group
  (``name = "package.module:train [extra]"``; phantomzoo's own cleanrl, sb3 and rllib are
  declared that way in its ``pyproject.toml``);
* code registers one at run time with :func:`register_backend`.

:func:`load_backend` imports a backend by its short name and, when its optional
dependencies are missing, raises :class:`~phantomzoo.errors.DependencyNotInstalled`
naming the pip extra to install. What a backend module provides is described in
:mod:`phantomzoo.backends._common` (the backend contract).
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from types import ModuleType

from phantomzoo.errors import ConfigError, DependencyNotInstalled, RegistryError

#: The entry-point group that installed packages declare backends in.
ENTRY_POINT_GROUP = "phantomzoo.backends"

#: Backend name -> (module path, pip extra providing its dependencies).
BACKENDS: dict[str, tuple[str, str]] = {}


def _from_entry_points() -> dict[str, tuple[str, str]]:
    """The backends that installed distributions declare (see the module docs)."""
    found = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        extra = point.extras[0] if point.extras else point.name
        found[point.name] = (point.module, extra)
    return found


def register_backend(name: str, module_path: str, extra: str | None = None) -> None:
    """Make ``load_backend(name)`` import ``module_path``.

    Args:
        name: The short name passed as ``ph.train(..., backend=name)``.
        module_path: The importable module that defines ``train(job)``.
        extra: The pip extra of phantomzoo (or the package) that provides the module's
            dependencies, named in the error when they are missing (default: ``name``).

    Raises:
        ConfigError: for an empty or non-string name or module path.
    """
    for what, value in (("name", name), ("module_path", module_path)):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"register_backend: {what} must be a non-empty string, got {value!r}")
    if extra is not None and (not isinstance(extra, str) or not extra.strip()):
        raise ConfigError(f"register_backend: extra must be None or a pip extra, got {extra!r}")
    BACKENDS[name] = (module_path, extra or name)


def available_backends() -> list[str]:
    """Names of the registered backends."""
    return sorted(BACKENDS)


def load_backend(name: str) -> ModuleType:
    """Import the backend registered as ``name``.

    Raises:
        RegistryError: for an unknown name (listing the available ones) or a registered
            module that does not exist.
        DependencyNotInstalled: (a RegistryError and an ImportError) when the backend's
            optional dependencies are not installed, naming the pip extra.
    """
    if name not in BACKENDS:
        close = difflib.get_close_matches(str(name), list(BACKENDS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RegistryError(
            f"unknown backend {name!r}.{hint} Available backends: {available_backends()}"
        )
    module_path, extra = BACKENDS[name]
    try:
        return importlib.import_module(module_path)
    except ImportError as exc:
        if exc.name == module_path:
            raise RegistryError(
                f"backend {name!r}: its module {module_path!r} is missing from this install"
            ) from exc
        error = DependencyNotInstalled(
            f"backend {name!r} needs packages that are not installed ({exc.name}); "
            f"install them with: pip install 'phantomzoo[{extra}]'"
        )
        error.name = exc.name
        raise error from exc


BACKENDS.update(_from_entry_points())
