"""``agent_supertypes=`` for the bundled models, written the Phantom way.

A bundled model draws one field of some agents' types (a shop's cost of carry, an
advertiser's budget). Its ``agent_supertypes`` argument overrides that field per agent,
as Phantom accepts it: ``{"SHOP1": {"cost_of_carry": 0.1}}`` or
``{"SHOP1": ShopSupertype(cost_of_carry=0.1)}``. :func:`field_overrides` reads the
argument; :func:`widen` makes the samplers of agents that share a policy declare one
common range, so their (type-augmented) observation spaces stay identical.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from phantomzoo.engine.supertypes import build_supertype
from phantomzoo.errors import ConfigError, SupertypeError
from phantomzoo.samplers import Sampler, Shared
from phantomzoo.supertype import Supertype


def field_overrides(
    owner: str,
    agent_supertypes: Any,
    typed_ids: Sequence[str],
    cls: type[Supertype],
    field: str,
    parse: Callable[[str, Any], Any],
    default: Any,
) -> dict[str, Any]:
    """``{agent_id: parsed value of field}`` for every agent ``agent_supertypes`` names.

    Args:
        owner: The model's name, for messages.
        agent_supertypes: ``None`` or ``{agent_id: supertype instance or mapping}``.
        typed_ids: The agents that have a type of class ``cls``.
        cls: The model's supertype class.
        field: The field the model draws (every field of ``cls``).
        parse: ``parse(value, name)`` turns the field's value into what the model uses
            (and refuses a bad one with a ConfigError).
        default: The field's value for agents (or mappings) that do not set it.

    Raises:
        ConfigError: if the argument is not a mapping or names an agent without a type.
        SupertypeError: if a mapping names a field ``cls`` does not have.
    """
    if agent_supertypes is None:
        return {}
    if not isinstance(agent_supertypes, Mapping):
        raise ConfigError(
            f"{owner}: agent_supertypes must be a mapping {{agent_id: supertype}}, got "
            f"{agent_supertypes!r}"
        )
    known = set(typed_ids)
    out = {}
    for agent_id, value in agent_supertypes.items():
        if agent_id not in known:
            shown = list(typed_ids[:8]) + (["..."] if len(typed_ids) > 8 else [])
            raise ConfigError(
                f"{owner}: agent_supertypes names {agent_id!r}, which has no "
                f"{cls.__name__}; the typed agents are {shown}"
            )
        where = f"{owner}: agent_supertypes[{agent_id!r}]"
        base = cls(**{field: default})
        supertype = build_supertype(cls, _fields_of(value, where), where, base)
        out[agent_id] = parse(getattr(supertype, field), f"agent_supertypes[{agent_id!r}].{field}")
    return out


def _fields_of(value: Any, where: str) -> Mapping[str, Any]:
    """The fields of a mapping or of any dataclass supertype (a recorded configuration
    rebuilds supertypes as look-alike dataclasses, accepted by their fields)."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, Supertype) and dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise SupertypeError(
        f"{where} = {value!r}: supertypes must be ph.Supertype instances or mappings of "
        "their fields"
    )


class WidenedSampler(Sampler):
    """Draws exactly as ``sampler`` does but declares the wider ``(low, high)``: agents
    sharing a policy then share one observation space whatever their own range."""

    def __init__(self, sampler: Sampler, low: float, high: float) -> None:
        self.sampler = sampler
        self.shape = sampler.shape
        self.low, self.high = float(low), float(high)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.sampler.sample(rng)

    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def check_draw(self, value: Any) -> str | None:
        return self.sampler.check_draw(value)

    def __repr__(self) -> str:
        return f"WidenedSampler({self.sampler!r}, low={self.low}, high={self.high})"


def widen(samplers: dict[str, Sampler]) -> dict[str, Sampler]:
    """The samplers, each declaring the union of all their bounds (unchanged when they
    already agree). A :class:`Shared` sampler stays one shared object."""
    lows = [float(np.min(s.bounds()[0])) for s in samplers.values()]
    highs = [float(np.max(s.bounds()[1])) for s in samplers.values()]
    if not samplers or (len(set(lows)) == 1 and len(set(highs)) == 1):
        return dict(samplers)
    low, high = min(lows), max(highs)
    made: dict[int, Sampler] = {}
    out = {}
    for agent_id, sampler in samplers.items():
        key = id(sampler)
        if key not in made:
            if isinstance(sampler, Shared):
                made[key] = Shared(WidenedSampler(sampler.sampler, low, high))
            else:
                made[key] = WidenedSampler(sampler, low, high)
        out[agent_id] = made[key]
    return out
