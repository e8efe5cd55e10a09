"""Where the environment of a run comes from, in a form any process can rebuild it from.

:func:`resolve_env` turns what the user passed (a registered name, a ``"module:attr"``
path, an env class or a module-level factory) into an :class:`EnvSource`; its JSON record
goes into every saved manifest and checkpoint, and :meth:`EnvSource.from_record` rebuilds
it from such a record as untrusted input (:mod:`phantomzoo.training.trust`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, ManifestError, RegistryError
from ..registry import check_kwargs, registered_envs, spec
from . import records
from .trust import TrustPolicy


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
            ConfigError: when a config value cannot be recorded
                (see :mod:`phantomzoo.training.records`).
        """
        config = records.encode(self.config, "env_config")
        return {"kind": self.kind, "name": self.name, "config": config}

    @classmethod
    def from_record(cls, data: Any, where: str, trust: TrustPolicy | None = None) -> EnvSource:
        """Rebuild a source saved by :meth:`to_json`, as untrusted input.

        A registered name loads; an import path loads only if it is a registered entry
        point or ``trust`` covers it (:mod:`phantomzoo.training.trust`). Nothing named in the
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
