"""Supertypes as an environment accepts them: instances, or mappings of their fields.

Phantom users write supertypes two ways, and both are accepted:

* an instance: ``agent_supertypes={"SHOP1": ShopSupertype(cost_of_carry=0.1)}``;
* a mapping of field -> value or sampler: ``agent_supertypes={"SHOP1": {"cost_of_carry":
  0.1}}`` (and ``env_supertype={"demand": UniformFloatSampler(1, 2)}``).

A mapping is built into a supertype class found this way:

* for an agent, the class attribute ``Supertype`` of the agent's class when it is a
  :class:`~phantomzoo.Supertype` subclass (Phantom's convention), else the class of the
  supertype the agent already has;
* for the environment, the class attribute ``Supertype`` of the environment's class.

Fields the mapping does not name keep the value of the agent's current supertype when
that supertype is of the class built (so ``{"cost_of_carry": 0.1}`` overrides one field of
a model's default supertype); otherwise they take the dataclass defaults. A field the
class does not have, or a required field left out, raises
:class:`~phantomzoo.errors.SupertypeError` naming it and the class's fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..errors import SupertypeError
from ..network import Network
from ..supertype import Supertype
from ..types import AgentID

_ACCEPTED = "supertypes must be ph.Supertype instances or mappings of their fields"


def apply_supertypes(
    network: Network,
    env_supertype: Supertype | Mapping[str, Any] | None,
    agent_supertypes: Mapping[AgentID, Supertype | Mapping[str, Any]] | None,
    host: Any = None,
) -> tuple[Supertype | None, dict[AgentID, Supertype]]:
    """Build mapping-style supertypes, give agents their overrides, refuse anything else.

    Args:
        network: The agents; each id of ``agent_supertypes`` must be one of them.
        env_supertype: The environment's supertype (an instance, a mapping or ``None``).
        agent_supertypes: ``{agent_id: supertype or mapping of fields}`` overriding the
            agents' own supertypes.
        host: The environment object whose class may define ``Supertype`` (for a
            mapping-style ``env_supertype``).

    Returns:
        ``(env_supertype, overrides)``: the environment's supertype as an instance (or
        ``None``) and the agents' overriding supertypes, all instances.

    Raises:
        NetworkError: if ``agent_supertypes`` names an agent that is not in the network.
        SupertypeError: if a value is neither a supertype nor a mapping, or a mapping
            names an unknown field or leaves a required one out.
    """
    if agent_supertypes is not None and not isinstance(agent_supertypes, Mapping):
        raise SupertypeError(
            f"agent_supertypes must be a mapping {{agent_id: supertype}}, got "
            f"{agent_supertypes!r} ({type(agent_supertypes).__name__})"
        )
    overrides: dict[AgentID, Supertype] = {}
    for agent_id, value in (agent_supertypes or {}).items():
        agent = network[agent_id]  # NetworkError for an unknown id
        overrides[agent_id] = agent_supertype(agent, value, f"agent_supertypes[{agent_id!r}]")
    env_type = env_supertype_of(host, env_supertype)
    for agent_id, supertype in overrides.items():
        network[agent_id].supertype = supertype
    for agent in network.by_id.values():
        if agent.supertype is not None and not isinstance(agent.supertype, Supertype):
            raise SupertypeError(
                f"agent {agent.id!r} has supertype {agent.supertype!r}: {_ACCEPTED} "
                "(a mapping is accepted in the env's agent_supertypes, not on the agent)"
            )
    return env_type, overrides


def agent_supertype(agent: Any, value: Any, where: str) -> Supertype:
    """``value`` (an instance or a mapping of fields) as a supertype of ``agent``."""
    if isinstance(value, Supertype):
        return value
    if not isinstance(value, Mapping):
        raise SupertypeError(f"{where} = {value!r}: {_ACCEPTED}")
    cls = _class_attribute(type(agent))
    current = agent.supertype if isinstance(agent.supertype, Supertype) else None
    if cls is None and current is not None:
        cls = type(current)
    if cls is None:
        raise SupertypeError(
            f"{where} = {dict(value)!r} is a mapping of fields, but agent {agent.id!r} "
            f"({type(agent).__name__}) has no supertype class to build it into: give the "
            f"agent a supertype, define {type(agent).__name__}.Supertype (a @dataclass "
            "subclass of ph.Supertype), or pass a ph.Supertype instance"
        )
    base = current if type(current) is cls else None
    return build_supertype(cls, value, where, base)


def env_supertype_of(host: Any, value: Any) -> Supertype | None:
    """The environment's supertype from ``value`` (``None``, an instance or a mapping)."""
    if value is None or isinstance(value, Supertype):
        return value
    owner = type(host).__name__ if host is not None else "the environment"
    if not isinstance(value, Mapping):
        raise SupertypeError(f"env_supertype = {value!r}: {_ACCEPTED}")
    cls = _class_attribute(type(host)) if host is not None else None
    if cls is None:
        raise SupertypeError(
            f"env_supertype = {dict(value)!r}: {_ACCEPTED}, but {owner} defines no "
            f"Supertype class to build this mapping into; add a nested `@dataclass class "
            f"Supertype(ph.Supertype)` to {owner}, or pass a ph.Supertype instance"
        )
    return build_supertype(cls, value, "env_supertype", None)


def build_supertype(
    cls: type[Supertype], fields: Mapping[Any, Any], where: str, base: Supertype | None
) -> Supertype:
    """An instance of ``cls`` from ``fields``; unnamed fields come from ``base`` (if
    given) or the dataclass defaults.

    Raises:
        SupertypeError: naming any unknown field, or any required field left out.
    """
    if not dataclasses.is_dataclass(cls):
        raise SupertypeError(
            f"{where}: {cls.__name__} is not a dataclass; decorate it with @dataclasses.dataclass"
        )
    settable = [f for f in dataclasses.fields(cls) if f.init]
    names = [f.name for f in settable]
    unknown = [key for key in fields if key not in names]
    if unknown:
        raise SupertypeError(
            f"{where}: {cls.__name__} has no field {', '.join(map(repr, unknown))}; its "
            f"fields are {names}"
        )
    values = dict(fields)
    if base is not None:
        return dataclasses.replace(base, **values)  # type: ignore[type-var]
    missing = [
        f.name
        for f in settable
        if f.name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise SupertypeError(
            f"{where}: {cls.__name__} needs a value for {', '.join(map(repr, missing))} "
            f"(no default); its fields are {names}"
        )
    return cls(**values)


def _class_attribute(cls: type) -> type[Supertype] | None:
    """``cls.Supertype`` when it is a subclass of ph.Supertype, else ``None``."""
    found = getattr(cls, "Supertype", None)
    if isinstance(found, type) and issubclass(found, Supertype) and found is not Supertype:
        return found
    return None
