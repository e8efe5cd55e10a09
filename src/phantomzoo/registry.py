"""A registry of environments by short versioned name, loaded lazily.

``ph.make("supply_chain_v0", num_shops=10)`` imports the entry point only when asked for,
so registering costs nothing at import time::

    ph.register("my_market_v0", entry_point="my_pkg.market:MarketEnv")
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, RegistryError


@dataclass(frozen=True)
class EnvSpec:
    """A registered environment: its name, ``"module:attr"`` entry point and defaults."""

    id: str
    entry_point: str | Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: Optional ``{name: "module:attr"}`` helpers used by workflows such as
    #: ``phantomzoo bench``: ``"policies"`` (env -> default policy mapping),
    #: ``"baselines"`` (env, seed -> {label: TrainedPolicies}, yardstick first) and
    #: ``"plots"`` (policies, out_dir, seed -> [paths]).
    hooks: dict[str, str] = field(default_factory=dict)

    def hook(self, name: str) -> Callable[..., Any] | None:
        """The helper registered as ``name``, imported now, or ``None``."""
        target = self.hooks.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(module_name), attr)

    def load(self) -> Callable[..., Any]:
        """Import and return the entry point (an env class or factory)."""
        if callable(self.entry_point):
            return self.entry_point
        module_name, _, attr = self.entry_point.partition(":")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise RegistryError(
                f"entry point {self.entry_point!r} of {self.id!r}: module {module_name!r} "
                f"has no attribute {attr!r}"
            ) from None


_REGISTRY: dict[str, EnvSpec] = {}


def register(
    id: str,
    entry_point: str | Callable[..., Any],
    kwargs: dict[str, Any] | None = None,
    description: str = "",
    hooks: dict[str, str] | None = None,
) -> None:
    """Register an environment under ``id`` (``"name_vN"`` by convention)."""
    if id in _REGISTRY:
        raise RegistryError(f"environment {id!r} is already registered")
    _REGISTRY[id] = EnvSpec(id, entry_point, dict(kwargs or {}), description, dict(hooks or {}))


def spec(id: str) -> EnvSpec:
    """The spec registered under ``id``, with a "did you mean" hint when unknown."""
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


register(
    "supply_chain_v0",
    "phantomzoo.envs.supply_chain:SupplyChainEnv",
    description="Tutorial supply chain: factory, customers and learning shops (1-1000 shops)",
    hooks={
        "policies": "phantomzoo.envs.supply_chain.bench:default_policies",
        "baselines": "phantomzoo.envs.supply_chain.bench:baselines",
        "plots": "phantomzoo.envs.supply_chain.bench:plots",
    },
)
register(
    "supply_chain_paper_v0",
    "phantomzoo.envs.supply_chain_paper:PaperSupplyChainEnv",
    description="Paper supply chain: cost-of-carry types, restock/sale stages, prices in views",
    hooks={
        "policies": "phantomzoo.envs.supply_chain_paper.bench:default_policies",
        "baselines": "phantomzoo.envs.supply_chain_paper.bench:baselines",
        "plots": "phantomzoo.envs.supply_chain_paper.bench:plots",
    },
)
register(
    "digital_ads_v0",
    "phantomzoo.envs.digital_ads:DigitalAdsEnv",
    description="Digital-ads market: publisher, ad exchange auctions, advertiser families (6-1200)",
    hooks={
        "policies": "phantomzoo.envs.digital_ads.bench:default_policies",
        "baselines": "phantomzoo.envs.digital_ads.bench:baselines",
        "plots": "phantomzoo.envs.digital_ads.bench:plots",
    },
)
register(
    "type_toy_v0",
    "phantomzoo.envs.type_toy:TypeToyEnv",
    description="Type toy: each agent's best action is its own sampled type",
)
