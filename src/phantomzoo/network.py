"""Networks: who may talk to (and see) whom.

Edges are undirected: connected agents may message each other and read each other's
views. A message along a missing edge raises :class:`~phantomzoo.errors.NetworkError`
naming both agents. :class:`~phantomzoo.network.StochasticNetwork` gives every edge a
probability and re-draws the edges on every reset from the episode's seeded generator.

Phantom's switches are accepted: ``connections=`` (pairs to connect at once),
``enforce_msg_payload_checks=False`` (skip the sender/receiver type checks of
``@ph.msg_payload``) and ``ignore_connection_errors=True`` (deliver a message along a
missing edge instead of raising), and Phantom's names ``get_actors_with_type`` /
``get_actors_without_type`` / ``get_actors_where``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from .agents import Agent, StrategicAgent
from .errors import MessageError, NetworkError
from .message import Message, MsgPayload, check_payload_types
from .network_calls import PhantomNetworkCalls
from .resolvers import BatchResolver, Resolver
from .types import AgentID

if TYPE_CHECKING:
    from .context import Context

_tuple_new = tuple.__new__


class Network(PhantomNetworkCalls):
    """The agents of a model and the connections between them.

    Args:
        agents: The agents (ids must be unique).
        resolver: How messages are delivered; :class:`~phantomzoo.resolvers.BatchResolver`
            by default.
        connections: Optional pairs ``(id_a, id_b)`` to connect at once (as
            :meth:`add_connections_from`).
        ignore_connection_errors: When true, a message along a missing edge is delivered
            instead of raising :class:`NetworkError` (a message to an unknown agent
            still raises). Off by default.
        enforce_msg_payload_checks: When false, the sender and receiver types declared
            with ``@ph.msg_payload(sender_type, receiver_type)`` are not checked. On by
            default; an environment's ``enforce_msg_payload_checks=`` sets it too.
    """

    # Class defaults too, so networks pickled before these switches existed still load.
    enforce_msg_payload_checks = True
    ignore_connection_errors = False

    def __init__(
        self,
        agents: Iterable[Agent] | None = None,
        resolver: Resolver | None = None,
        connections: Iterable[Sequence[Any]] | None = None,
        ignore_connection_errors: bool = False,
        enforce_msg_payload_checks: bool = True,
    ) -> None:
        self.resolver: Resolver = resolver if resolver is not None else BatchResolver()
        if not isinstance(self.resolver, Resolver):
            raise NetworkError(
                f"resolver must be a phantomzoo.resolvers.Resolver, got {self.resolver!r}"
            )
        self.ignore_connection_errors = _flag("ignore_connection_errors", ignore_connection_errors)
        self.enforce_msg_payload_checks = _flag(
            "enforce_msg_payload_checks", enforce_msg_payload_checks
        )
        self._agents: dict[AgentID, Agent] = {}
        self._adj: dict[AgentID, set[AgentID]] = {}
        self._version = 0  # bumped whenever edges change, so contexts can be rebuilt
        #: When a list, every message delivered is appended to it (rollouts use this).
        self.message_log: list[Message] | None = None
        self._order: dict[AgentID, int] = {}
        self._order_version = -1
        self._neighbour_cache: dict[AgentID, list[AgentID]] = {}
        self.add_agents(agents or [])
        if connections is not None:
            self.add_connections_from(connections)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if getattr(state.get("message_log"), "_pz_transient", False):
            state["message_log"] = None  # a telemetry's log stays with the original network
        return state

    # ------------------------------------------------------------------ agents
    def add_agent(self, agent: Agent) -> None:
        """Add one agent (its id must not be taken)."""
        if not isinstance(agent, Agent):
            raise NetworkError(
                f"networks hold ph.Agent instances, got {agent!r} ({type(agent).__name__})"
            )
        agent_id = agent.id
        if agent_id in self._agents:
            raise NetworkError(
                f"duplicate agent id {agent_id!r}: a {type(self._agents[agent_id]).__name__} "
                f"and a {type(agent).__name__} both use it; give every agent a unique id"
            )
        self._agents[agent_id] = agent
        self._adj[agent_id] = set()
        self._version += 1

    def add_agents(self, agents: Iterable[Agent]) -> None:
        """Add several agents."""
        for agent in agents:
            self.add_agent(agent)

    @property
    def agents(self) -> dict[AgentID, Agent]:
        """All agents by id, in the order they were added (a copy)."""
        return dict(self._agents)

    @property
    def agent_ids(self) -> list[AgentID]:
        """All agent ids, in the order they were added."""
        return list(self._agents)

    def __getitem__(self, agent_id: AgentID) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise NetworkError(self._unknown(agent_id)) from None

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def __len__(self) -> int:
        return len(self._agents)

    def __iter__(self) -> Iterator[AgentID]:
        return iter(self._agents)

    def get_agents_with_type(self, agent_type: type) -> dict[AgentID, Agent]:
        """Agents that are instances of ``agent_type``."""
        return {i: a for i, a in self._agents.items() if isinstance(a, agent_type)}

    def get_agents_without_type(self, agent_type: type) -> dict[AgentID, Agent]:
        """Agents that are not instances of ``agent_type``."""
        return {i: a for i, a in self._agents.items() if not isinstance(a, agent_type)}

    def get_agents_where(self, predicate: Callable[[Agent], bool]) -> dict[AgentID, Agent]:
        """Agents for which ``predicate(agent)`` is true."""
        return {i: a for i, a in self._agents.items() if predicate(a)}

    # Phantom's documented names for the three queries above (same results, same order).
    get_actors_with_type = get_agents_with_type
    get_actors_without_type = get_agents_without_type
    get_actors_where = get_agents_where

    def check_usable(self) -> None:
        """Raise :class:`NetworkError` unless an environment can run on this network.

        A network with no agents, or with no :class:`~phantomzoo.agents.StrategicAgent`
        (nobody observes or acts), cannot make an environment; environments call this
        when they are built. Networks may be empty while being assembled.
        """
        if not self._agents:
            raise NetworkError(
                "the network has no agents; add them with ph.Network([agent, ...]) or "
                "network.add_agent(agent) before building the environment (it has no "
                "strategic agents: add one to the network)"
            )
        if not any(isinstance(a, StrategicAgent) for a in self._agents.values()):
            kinds = sorted({type(a).__name__ for a in self._agents.values()})
            raise NetworkError(
                f"the network has no StrategicAgent (only {kinds}), so no agent observes or "
                "acts (no strategic agents): add one to the network, a ph.StrategicAgent "
                "with observation and action spaces"
            )

    # ------------------------------------------------------------- connections
    def add_connection(self, id_a: AgentID, id_b: AgentID) -> None:
        """Connect two agents (both directions). An agent may be connected to itself, as in
        Phantom: it can then message itself and read its own view."""
        self._check_known(id_a, id_b)
        self._adj[id_a].add(id_b)
        self._adj[id_b].add(id_a)
        self._version += 1

    def add_connections_from(self, pairs: Iterable[tuple[AgentID, AgentID]]) -> None:
        """Connect every ``(id_a, id_b)`` pair."""
        for pair in _as_iterable("add_connections_from", pairs):
            if isinstance(pair, (tuple, list)) and len(pair) == 3:
                raise NetworkError(
                    f"add_connections_from got the triple {pair!r}; a ph.Network's edges "
                    "always exist: pass (id_a, id_b) pairs, or use ph.StochasticNetwork for "
                    "(id_a, id_b, rate) triples"
                )
            id_a, id_b = _pair(pair, "(id_a, id_b) pairs")
            self.add_connection(id_a, id_b)

    def add_connections_between(self, ids_a: Iterable[AgentID], ids_b: Iterable[AgentID]) -> None:
        """Connect every agent of ``ids_a`` with every agent of ``ids_b``."""
        ids_b = list(ids_b)
        for id_a in ids_a:
            for id_b in ids_b:
                self.add_connection(id_a, id_b)

    def add_connections_with_adjmat(
        self, agent_ids: Sequence[AgentID], adjacency_matrix: Any
    ) -> None:
        """Connect agents where the (symmetric) adjacency matrix is non-zero."""
        matrix = np.asarray(adjacency_matrix)
        n = len(agent_ids)
        if matrix.shape != (n, n):
            raise NetworkError(
                f"adjacency matrix has shape {matrix.shape}, expected ({n}, {n}) for {n} agent ids"
            )
        if not np.array_equal(matrix, matrix.T):
            raise NetworkError("adjacency matrix must be symmetric: connections are undirected")
        if np.any(np.diag(matrix)):
            raise NetworkError("adjacency matrix must have a zero diagonal (no self-connections)")
        rows, cols = np.nonzero(np.triu(matrix))
        for i, j in zip(rows.tolist(), cols.tolist()):
            self.add_connection(agent_ids[i], agent_ids[j])

    def has_edge(self, id_a: AgentID, id_b: AgentID) -> bool:
        """Whether the two agents are connected."""
        return id_b in self._adj.get(id_a, ())

    def neighbours(self, agent_id: AgentID) -> list[AgentID]:
        """Ids of the agents connected to ``agent_id``, in the order agents were added.

        Cached per agent until the edges change, so a call costs O(degree), not O(N).
        """
        if self._order_version != self._version:
            self._order = {i: n for n, i in enumerate(self._agents)}
            self._order_version = self._version
            self._neighbour_cache = {}
        found = self._neighbour_cache.get(agent_id)
        if found is None:
            adjacent = self._adj.get(agent_id)
            if adjacent is None:
                raise NetworkError(self._unknown(agent_id))
            found = self._neighbour_cache[agent_id] = sorted(adjacent, key=self._order.__getitem__)
        return list(found)

    def adjacency(self, agent_id: AgentID) -> Set[AgentID]:
        """The live set of ``agent_id``'s neighbours (read it, never modify it: use
        :meth:`add_connection`); it follows edge changes, including stochastic re-draws."""
        try:
            return self._adj[agent_id]
        except KeyError:
            raise NetworkError(self._unknown(agent_id)) from None

    @property
    def version(self) -> int:
        """Bumped whenever agents or edges change (engines rebuild their contexts then)."""
        return self._version

    @property
    def by_id(self) -> Mapping[AgentID, Agent]:
        """A read-only, live, O(1) mapping of the agents by id (no copy, unlike
        :attr:`agents`); resolvers and the engine read agents through it."""
        return MappingProxyType(self._agents)

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Called by the environment on every reset: resets every agent (``agent.reset()``),
        as Phantom's ``Network.reset`` does. A network whose connections change per
        episode overrides this, re-draws them from ``rng`` and calls ``super().reset(rng)``
        (:class:`~phantomzoo.StochasticNetwork` does)."""
        for agent in self._agents.values():
            agent.reset()

    # --------------------------------------------------------------- messages
    def send(self, sender_id: AgentID, outgoing: Any, pending: Any) -> None:
        """``send(sender_id, [(receiver_id, payload), ...], pending)``: :meth:`queue`;
        Phantom's ``send(sender_id, receiver_id, payload)`` keeps the message in the
        network until ``resolve(contexts)`` (:mod:`phantomzoo.network_calls`)."""
        if type(pending) is dict:
            self.queue(sender_id, outgoing, pending)
        else:
            self._phantom_send(sender_id, outgoing, pending)

    def queue(
        self,
        sender_id: AgentID,
        outgoing: Iterable[tuple[AgentID, MsgPayload]],
        pending: dict[AgentID, list[Message]],
    ) -> None:
        """Check each ``(receiver_id, payload)`` pair and queue its message in ``pending``.

        Args:
            sender_id: The agent sending.
            outgoing: What a handler, ``generate_messages`` or ``decode_action`` returned.
            pending: ``{receiver_id: [messages in sending order]}``, extended in place.

        Raises:
            NetworkError: if sender and receiver are not connected.
            MessageError: if the payload is malformed or its class forbids the pair.
        """
        adjacent = self._adj[sender_id]
        try:
            for receiver_id, payload in outgoing:
                if receiver_id not in adjacent:
                    self._missing_edge(sender_id, receiver_id)
                if payload._pz_restricted and self.enforce_msg_payload_checks:
                    check_payload_types(payload, self._agents[sender_id], self._agents[receiver_id])
                message = _tuple_new(Message, (sender_id, receiver_id, payload))
                batch = pending.get(receiver_id)
                if batch is None:
                    pending[receiver_id] = [message]
                else:
                    batch.append(message)
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, (NetworkError, MessageError)):
                raise
            raise MessageError(
                f"agent {sender_id!r} returned {outgoing!r}; messages must be returned as a "
                "list of (receiver_id, payload) pairs whose payloads are ph.MsgPayload "
                "instances, e.g. [(shop_id, OrderRequest(3))]"
            ) from exc

    def resolve(
        self,
        pending: dict[AgentID, list[Message]],
        contexts: dict[AgentID, Context] | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Deliver the pending messages (and all replies) with the network's resolver.

        Phantom's ``resolve(contexts)`` delivers what ``send(sender, receiver, payload)``
        kept, with an unseeded generator (:mod:`phantomzoo.network_calls`)."""
        if contexts is None:
            self._phantom_resolve(pending)
            return
        self.resolver.resolve(self, pending, contexts, rng)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- helpers
    def _check_known(self, *agent_ids: AgentID) -> None:
        for agent_id in agent_ids:
            if agent_id not in self._agents:
                raise NetworkError(self._unknown(agent_id))

    def _unknown(self, agent_id: AgentID) -> str:
        known = list(self._agents)
        shown = known if len(known) <= 10 else known[:10] + ["..."]
        return f"unknown agent id {agent_id!r}; the network has {shown}"

    def _missing_edge(self, sender_id: AgentID, receiver_id: AgentID) -> None:
        """Raise for a message along a missing edge (unless connection errors are
        ignored and the receiver exists)."""
        if receiver_id not in self._agents:
            raise NetworkError(
                f"agent {sender_id!r} sent a message to {self._unknown(receiver_id)}"
            )
        if self.ignore_connection_errors:
            return
        raise NetworkError(
            f"agent {sender_id!r} cannot send a message to agent {receiver_id!r}: they are "
            f"not connected. Add network.add_connection({sender_id!r}, {receiver_id!r}) if "
            "they should be"
        )


# -------------------------------------------------------------------- helpers
def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise NetworkError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _as_iterable(owner: str, items: Any) -> Iterable[Any]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise NetworkError(f"{owner} expects an iterable of connections, got {items!r}")
    return items


def _pair(item: Any, expected: str) -> tuple[AgentID, AgentID]:
    if isinstance(item, (str, bytes)) or not isinstance(item, (tuple, list)) or len(item) != 2:
        raise NetworkError(f"add_connections_from expects {expected}, got {item!r}")
    return item[0], item[1]


def set_payload_checks(network: Any, enforce: bool | None) -> None:
    """Apply an environment's ``enforce_msg_payload_checks=`` to its network (``None``
    keeps the network's own setting; a non-network is left for the engine to refuse)."""
    if enforce is not None and isinstance(network, Network):
        network.enforce_msg_payload_checks = _flag("enforce_msg_payload_checks", enforce)


# StochasticNetwork lives in its own module (it needs Network, defined above) and is
# re-exported here, where Phantom code imports it from.
from .stochastic_network import StochasticNetwork  # noqa: E402

__all__ = ["Network", "NetworkError", "StochasticNetwork"]
