"""What loading a results directory may import: nothing, unless the user opted in.

A results directory is untrusted input: it may come from a colleague, a download or an
attacker. Its manifest names an environment and, for fixed policies, a policy class;
importing a module named there would run that module's code, and calling an object
named there with recorded arguments could run anything (``os:system``). The rules:

* An environment is rebuilt from its **registered name** only. An import path
  (``"my_pkg.market:MarketEnv"``) is refused unless it is the entry point of a
  registered environment, or the user passes ``trust=True`` together with an
  allow-list of module prefixes (``allow=["my_pkg"]``) that covers it.
* A fixed policy class is looked up without importing anything when its module is
  already imported in this process or belongs to phantomzoo itself; any other module is
  imported only under ``trust=True`` with a covering allow-list. The object found must
  be a :class:`~phantomzoo.policy.Policy` subclass before it is called.
* Import paths are checked for form first (dotted identifiers, no dunder attributes).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterable
from typing import Any

from ..errors import ManifestError, TrustError

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_OWN_PACKAGE = "phantomzoo"


class TrustPolicy:
    """The user's consent to import code named by a results directory.

    Args:
        trust: ``True`` to allow imports of the modules in ``allow``.
        allow: Module prefixes the user trusts (``"my_pkg"`` covers ``my_pkg.sub``).

    Raises:
        TrustError: for ``trust=True`` without an allow-list, or a malformed prefix.
    """

    def __init__(self, trust: bool = False, allow: Iterable[str] | str | None = None) -> None:
        if not isinstance(trust, bool):
            raise TrustError(f"trust must be True or False, got {trust!r}")
        if isinstance(allow, str):
            allow = [allow]
        prefixes = tuple(allow or ())
        for prefix in prefixes:
            if not (isinstance(prefix, str) and _DOTTED.match(prefix)):
                raise TrustError(
                    f"allow entries are module names like 'my_pkg' or 'my_pkg.models', got "
                    f"{prefix!r}"
                )
        if trust and not prefixes:
            raise TrustError(
                "trust=True needs allow=[...]: the module prefixes you trust this results "
                "directory to import (for example allow=['my_pkg']; CLI: --trust --allow my_pkg)"
            )
        if prefixes and not trust:
            raise TrustError(
                f"allow={list(prefixes)} has no effect without trust=True (CLI: --trust)"
            )
        self.trust = trust
        self.allow = prefixes

    def covers(self, module: str) -> bool:
        """Whether the user allowed importing ``module``."""
        return self.trust and any(module == p or module.startswith(p + ".") for p in self.allow)

    def _hint(self, module: str) -> str:
        root = module.split(".")[0]
        return (
            f"if you trust this directory, pass trust=True, allow=[{root!r}] "
            f"(CLI: --trust --allow {root})"
        )

    def env_factory(self, path: str, where: str) -> Any:
        """The env factory at import ``path``, if the user allowed importing it."""
        module, qualname = split_path(path, where)
        if not self.covers(module):
            raise TrustError(
                f"{where} names the environment factory {path!r}; loading it would import "
                f"module {module!r} and call {qualname!r} with the recorded config. Refused: "
                f"only registered environment names load by default; {self._hint(module)}"
            )
        return _resolve(importlib.import_module(module), qualname, path, where)

    def policy_class(self, path: str, where: str) -> type:
        """The class at ``path``, imported only when allowed, checked to be a Policy."""
        from ..policy import Policy

        module, qualname = split_path(path, where)
        own = module == _OWN_PACKAGE or module.startswith(_OWN_PACKAGE + ".")
        if module in sys.modules:
            obj = _resolve(sys.modules[module], qualname, path, where)
        elif own or self.covers(module):
            obj = _resolve(importlib.import_module(module), qualname, path, where)
        else:
            raise TrustError(
                f"{where} names the fixed policy class {path!r} from module {module!r}, which "
                f"is not imported in this process; importing it would run its code. Import "
                f"it yourself first, or {self._hint(module)}"
            )
        if not (isinstance(obj, type) and issubclass(obj, Policy)):
            raise ManifestError(f"{where}: {path!r} is not a ph.Policy subclass")
        return obj


def split_path(path: Any, where: str) -> tuple[str, str]:
    """``"pkg.mod:Outer.Inner"`` -> ``("pkg.mod", "Outer.Inner")``, form-checked."""
    if not isinstance(path, str):
        raise ManifestError(f"{where}: an import path must be a string, got {path!r}")
    module, sep, qualname = path.partition(":")
    parts = qualname.split(".")
    if (
        not sep
        or not _DOTTED.match(module)
        or not _DOTTED.match(qualname)
        or any(p.startswith("__") for p in parts)
    ):
        raise ManifestError(
            f"{where}: {path!r} is not an import path of the form 'package.module:Name'"
        )
    return module, qualname


def _resolve(obj: Any, qualname: str, path: str, where: str) -> Any:
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ManifestError(f"{where}: {path!r} does not exist ({part!r} is missing)") from None
    return obj
