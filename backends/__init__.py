"""Trainer backends, installed as ``phantomzoo.backends``.

Each backend is one module, imported lazily by name, so ``import phantomzoo`` never pulls
in torch, ray or Stable-Baselines3. :func:`load_backend` imports a backend by its short
name and, when its optional dependencies are missing, says which extra to install.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from phantomzoo.errors import RegistryError

#: Backend name -> (module path, pip extra providing its dependencies).
BACKENDS: dict[str, tuple[str, str]] = {
    "cleanrl": ("phantomzoo.backends.cleanrl", "torch"),
    "sb3": ("phantomzoo.backends.sb3", "sb3"),
    "rllib": ("phantomzoo.backends.rllib", "rllib"),
}


def available_backends() -> list[str]:
    """Names of the registered backends."""
    return sorted(BACKENDS)


def load_backend(name: str) -> ModuleType:
    """Import the backend registered as ``name``.

    Raises:
        RegistryError: for an unknown name (listing the available ones) or when the
            backend's optional dependencies are not installed (naming the pip extra).
    """
    if name not in BACKENDS:
        close = difflib.get_close_matches(name, list(BACKENDS), n=1)
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
        raise RegistryError(
            f"backend {name!r} needs packages that are not installed ({exc.name}); "
            f"install them with: pip install 'phantomzoo[{extra}]'"
        ) from exc
