"""What a model declares, gathered once for the checks of :func:`phantomzoo.testing.lint`.

:class:`ModelFacts` holds the agents, every edge that may exist and the model's payload
classes; the helpers read handler registrations (``@ph.msg_handler``) and the
sender/receiver restrictions of ``@ph.msg_payload``, without calling any agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..agents import Agent
from ..message import MsgPayload
from ..types import AgentID
from .lint_play import Observed


@dataclass
class ModelFacts:
    """What a model declares, gathered once for every check.

    Attributes:
        env: The environment.
        agents: ``{agent_id: agent}`` in network order.
        edges: ``{agent_id: every agent it may be connected to}`` (see :class:`Observed`).
        everyone_connected: The network delivers along missing edges
            (``ignore_connection_errors=True``), so anyone may reach anyone.
        payloads: The model's payload classes (handled, received, or defined next to
            its agents), by name order.
    """

    env: Any
    agents: dict[AgentID, Agent]
    edges: dict[AgentID, set[AgentID]]
    everyone_connected: bool
    payloads: list[type]

    def neighbours(self, agent_id: AgentID) -> set[AgentID]:
        """Every agent ``agent_id`` may exchange messages with."""
        if self.everyone_connected:
            return set(self.agents) - {agent_id}
        return self.edges.get(agent_id, set())

    def instances(self, cls: type) -> list[AgentID]:
        """Ids of the agents whose class is exactly ``cls``."""
        return [i for i, a in self.agents.items() if type(a) is cls]

    @property
    def classes(self) -> list[type]:
        """The agent classes of the network, in order of first appearance."""
        return list(dict.fromkeys(type(a) for a in self.agents.values()))


def gather(env: Any, observed: Observed) -> ModelFacts:
    """The :class:`ModelFacts` of ``env`` after its lint episodes."""
    network = env.network
    agents = dict(network.by_id)
    return ModelFacts(
        env,
        agents,
        observed.edges,
        bool(getattr(network, "ignore_connection_errors", False)),
        _model_payloads(env, agents, observed),
    )


# ------------------------------------------------------------------ declarations
def declared_handlers(cls: type) -> dict[type, str]:
    """``{payload class: method name}`` of the ``@msg_handler`` methods of ``cls``."""
    found: dict[type, str] = {}
    for name in dir(cls):
        for payload_type in getattr(getattr(cls, name, None), "_pz_handles", ()):
            found.setdefault(payload_type, name)
    return found


def custom_dispatch(cls: type) -> bool:
    """Whether ``cls`` overrides ``handle_message``/``handle_batch`` (then it may handle
    payloads without ``@msg_handler`` methods, and lint cannot tell which)."""
    return not getattr(cls, "_pz_fast", True)


def handles(cls: type, payload_type: type) -> bool:
    """Whether agents of ``cls`` can take a ``payload_type`` message."""
    if custom_dispatch(cls):
        return True
    return any(base in declared_handlers(cls) for base in payload_type.__mro__)


def allowed(agent: object, spec: Iterable[Any] | None) -> bool:
    """Whether ``agent`` matches a ``@msg_payload`` restriction (``None``: anyone)."""
    if spec is None:
        return True
    names = {k.__name__ for k in type(agent).__mro__}
    return any(s in names if isinstance(s, str) else isinstance(agent, s) for s in spec)


def spec_names(spec: Iterable[Any]) -> str:
    return ", ".join(s if isinstance(s, str) else s.__name__ for s in spec)


def _model_payloads(env: Any, agents: dict[AgentID, Agent], observed: Observed) -> list[type]:
    """Payload classes handled or received by the model's agents, plus every payload class
    defined in a module that defines one of its agent classes, its env class or a
    handled payload (so a restricted payload nobody handles is found too)."""
    found: set[type] = set()
    for cls in {type(a) for a in agents.values()}:
        found.update(declared_handlers(cls))
    for payloads in observed.payloads_received.values():
        found.update(payloads)
    modules = {type(a).__module__ for a in agents.values()} | {type(env).__module__}
    modules |= {p.__module__ for p in found}
    found.update(p for p in _all_payload_classes() if p.__module__ in modules)
    return sorted(found, key=lambda p: (p.__module__, p.__qualname__))


def _all_payload_classes() -> list[type]:
    out, frontier = [], list(MsgPayload.__subclasses__())
    while frontier:
        cls = frontier.pop()
        out.append(cls)
        frontier.extend(cls.__subclasses__())
    return out
