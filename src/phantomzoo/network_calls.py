"""Phantom 2.2's direct network calls, for code that drives a network without an env.

Phantom's tests and some of its users' scripts send and resolve messages by hand::

    network.send("A", "B", Request(100.0))
    network.resolve({i: network.context_for(i, EnvView(0, 0.0)) for i in network.agents})
    network.graph.has_edge("A", "B")

:class:`PhantomNetworkCalls` (a base of :class:`~phantomzoo.network.Network`) supports
those forms next to phantomzoo's own: messages sent the Phantom way wait in the network
until ``resolve(contexts)`` delivers them (with every reply, through the network's
resolver). A resolution started this way draws any randomness (a resolver that shuffles)
from a fresh, unseeded generator; environments always pass their episode's seeded one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .context import Context
from .errors import NetworkError
from .types import AgentID
from .views import EnvView

if TYPE_CHECKING:
    from .message import Message


class StaticClock:
    """The clock of a context built outside an episode: a fixed env view, no generator."""

    __slots__ = ("env_view", "epoch", "rng")

    def __init__(self, env_view: EnvView, rng: np.random.Generator | None = None) -> None:
        self.env_view = env_view
        self.epoch = 0
        self.rng = rng

    @property
    def current_step(self) -> int:
        return self.env_view.current_step


class EdgeView:
    """``network.graph``: read-only edge queries in networkx's names (Phantom's graph)."""

    def __init__(self, network: Any) -> None:
        self._network = network

    def has_edge(self, id_a: AgentID, id_b: AgentID) -> bool:
        return self._network.has_edge(id_a, id_b)

    def neighbors(self, agent_id: AgentID) -> Iterator[AgentID]:
        return iter(self._network.neighbours(agent_id))

    @property
    def nodes(self) -> list[AgentID]:
        return list(self._network.agent_ids)

    @property
    def edges(self) -> list[tuple[AgentID, AgentID]]:
        network = self._network
        return [(a, b) for a in network.agent_ids for b in network.neighbours(a)]

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._network


class PhantomNetworkCalls:
    """Phantom's ``send(sender, receiver, payload)``, ``resolve(contexts)``,
    ``context_for`` and ``graph`` (see the module docs)."""

    _agents: dict[AgentID, Any]

    def queue(self, sender_id: AgentID, outgoing: Any, pending: dict[AgentID, list[Message]]):
        raise NotImplementedError  # the network's own queueing

    def _phantom_send(self, sender_id: AgentID, receiver_id: AgentID, payload: Any) -> None:
        queued = self.__dict__.setdefault("_queued", {})
        self.queue(sender_id, [(receiver_id, payload)], queued)

    def _phantom_resolve(self, contexts: Any) -> None:
        if not hasattr(contexts, "__getitem__"):
            raise NetworkError(
                f"resolve(contexts) takes a mapping of agent id -> Context (see "
                f"network.context_for), got {contexts!r}"
            )
        pending, self.__dict__["_queued"] = self.__dict__.get("_queued", {}), {}
        self.resolver.resolve(self, pending, contexts, np.random.default_rng())  # type: ignore[attr-defined]

    def context_for(self, agent_id: AgentID, env_view: EnvView | None = None) -> Context:
        """A context for ``agent_id`` outside an episode (Phantom's call): it sees its
        neighbours' views and ``env_view`` (default: step 0)."""
        if agent_id not in self._agents:
            raise NetworkError(f"context_for: unknown agent id {agent_id!r}")
        clock = StaticClock(env_view if env_view is not None else EnvView(0, 0.0))
        return Context(self._agents[agent_id], self, clock)  # type: ignore[arg-type]

    @property
    def graph(self) -> EdgeView:
        """The connections, queried the networkx way (``graph.has_edge(a, b)``)."""
        return EdgeView(self)
