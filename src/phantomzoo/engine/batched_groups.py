"""Agents grouped by class for the batched path, and the twins each class defines.

:class:`Grouping` is built once per network version (like
:class:`~phantomzoo.engine.wiring.Wiring`, which it reads): every agent gets an index
(its position in the network), every concrete agent class a :class:`AgentGroup`, and
each group records which batched twins (:data:`TWINS`) its class defines, discovered
the way the wiring discovers overridden hooks. The grouping also checks whole columns
of edges at once against the network's adjacency.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..agents import Agent
from ..context import Context
from ..errors import AgentDefinitionError, MessageError, NetworkError
from ..message import check_payload_types
from ..network import Network
from .wiring import Wiring

#: Batched twins an agent class may define (class methods ``(cls, agents, group, ...)``),
#: with the per-agent method each one mirrors.
TWINS = {
    "pre_message_resolutions": "pre_message_resolution",
    "generate_batched_messages": "generate_messages",
    "decode_actions": "decode_action",
    "post_message_resolutions": "post_message_resolution",
    "encode_observations": "encode_observation",
    "compute_rewards": "compute_reward",
}


class AgentGroup(Sequence[Context]):
    """Every agent of one class, in network order: what a batched twin receives.

    A group is a sequence of the agents' contexts (``zip(agents, group)`` pairs each
    agent with its context) and also offers:

    Attributes:
        cls: The agent class.
        agents / ids: The agents and their ids, in network order.
        indices: The agents' indices in the network (an int array).
        row: ``{agent id: row}``.
        scratch: A dict the twins may keep caches in (pre-drawn randomness, index
            arrays); emptied at every reset. Agents' attributes stay the model's state.
        twins: ``{twin name: bound class method}`` of the twins the class defines.
    """

    def __init__(self, cls: type[Agent], ids: list[Any], grouping: Grouping, ctxs: list[Context]):
        self.cls, self.ids, self.grouping, self.ctxs = cls, ids, grouping, ctxs
        self.agents = [c.agent for c in ctxs]
        self.indices = np.fromiter((grouping.index[i] for i in ids), np.int64, len(ids))
        self.row = {agent_id: row for row, agent_id in enumerate(ids)}
        self.scratch: dict[str, Any] = {}
        self.twins = _twins(cls)
        self.batch_handlers: dict[type, Any] = {}
        self.obs_ok = False  # set by the engine: the observation twin fills one array
        self.obs_shape: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return len(self.ctxs)

    def __getitem__(self, row: Any) -> Any:
        return self.ctxs[row]

    def __iter__(self) -> Iterator[Context]:
        return iter(self.ctxs)

    @property
    def rng(self) -> np.random.Generator:
        """The episode's generator (the same one every ``ctx.rng`` is)."""
        return self.grouping.clock.rng  # type: ignore[return-value]

    @property
    def current_step(self) -> int:
        """Steps taken so far in the episode."""
        return self.grouping.clock.env_view.current_step

    def index(self, agent_ids: Sequence[Any]) -> np.ndarray:
        """The network indices of ``agent_ids`` (an :class:`Outbox`'s ``to``)."""
        return self.grouping.receivers(list(agent_ids), len(agent_ids), f"{self.cls.__name__}")

    def handler_for(self, payload: type) -> Any:
        """The class's batched twin of the handler it uses for ``payload`` (``None``
        when that handler has no twin)."""
        try:
            return self.batch_handlers[payload]
        except KeyError:
            pass
        found = None
        handlers = self.cls._pz_handlers
        for base in payload.__mro__:
            if base in handlers:  # the per-message handler find_handler would pick
                found = self.cls._pz_batch_handlers.get(base)
                break
        self.batch_handlers[payload] = found
        return found

    def __repr__(self) -> str:
        return f"AgentGroup({self.cls.__name__}, {len(self)} agents)"


def _twins(cls: type) -> dict[str, Any]:
    found = {}
    for name in TWINS:
        attr = getattr(cls, name, None)
        if attr is None:
            continue
        if not (inspect.ismethod(attr) and attr.__self__ is cls):
            raise AgentDefinitionError(
                f"{cls.__name__}.{name} is a batched twin of {TWINS[name]} and must be a "
                f"@classmethod taking (cls, agents, group, ...); decorate it with @classmethod"
            )
        found[name] = attr
    return found


class Grouping:
    """Agent indices, class groups and column edge checks of one network version.

    Attributes:
        ids: Agent ids in network order (index -> id); ``index``: id -> index.
        groups: One :class:`AgentGroup` per concrete agent class, in order of first agent.
        group_of / row_of: Per agent index, its group's position and its row there.
    """

    def __init__(self, network: Network, wiring: Wiring, clock: Any) -> None:
        self.network, self.clock, self.version = network, clock, wiring.version
        self.wiring = wiring
        self.ids = list(network.by_id)
        self.index = {agent_id: i for i, agent_id in enumerate(self.ids)}
        members: dict[type, list[Any]] = {}
        for agent_id, agent in network.by_id.items():
            members.setdefault(type(agent), []).append(agent_id)
        contexts = wiring.contexts
        self.groups = [
            Grouping._group(cls, ids, self, [contexts[i] for i in ids])
            for cls, ids in members.items()
        ]
        self.by_class = {g.cls: g for g in self.groups}
        size = len(self.ids)
        self.group_of = np.empty(size, np.int64)
        self.row_of = np.empty(size, np.int64)
        for number, group in enumerate(self.groups):
            self.group_of[group.indices] = number
            self.row_of[group.indices] = np.arange(len(group))
        self._edge_keys: np.ndarray | None = None
        self._verified: dict[Any, tuple[np.ndarray, np.ndarray]] = {}

    @staticmethod
    def _group(cls: type, ids: list[Any], grouping: Grouping, ctxs: list[Context]) -> AgentGroup:
        return AgentGroup(cls, ids, grouping, ctxs)

    def reset(self) -> None:
        """A new episode: the twins' scratch caches are emptied."""
        for group in self.groups:
            group.scratch.clear()

    # ------------------------------------------------------------- receivers
    def receivers(self, to: Any, size: int, where: str) -> np.ndarray:
        """``to`` (an id, a sequence of ids or an index array) as ``size`` indices."""
        if isinstance(to, np.ndarray) and to.dtype.kind in "iu":
            if to.shape != (size,):
                raise MessageError(
                    f"{where}: to= has {to.shape} indices for {size} messages; give one per "
                    "message (or one agent id for all)"
                )
            if size and (to.min() < 0 or to.max() >= len(self.ids)):
                raise NetworkError(
                    f"{where}: to= holds indices outside 0..{len(self.ids) - 1}; build them "
                    "with group.index(agent_ids)"
                )
            return to.astype(np.int64, copy=False)
        index = self.index
        if isinstance(to, (list, tuple)) and len(to) != size:
            raise MessageError(
                f"{where}: to= has {len(to)} receivers for {size} messages; give one per "
                "message (or one agent id for all)"
            )
        try:
            if isinstance(to, (list, tuple)):
                return np.fromiter((index[i] for i in to), np.int64, size)
            return np.full(size, index[to], np.int64)
        except (KeyError, TypeError):
            bad = [i for i in (to if isinstance(to, (list, tuple)) else [to]) if i not in index]
            raise NetworkError(
                f"{where} sent a message to {self.network._unknown(bad[0] if bad else to)}"
            ) from None

    # ------------------------------------------------------------------ checks
    def check(self, column: Any, sender_group: AgentGroup | None, where: str) -> None:
        """Check a column's edges (unless it answers checked messages) and payload
        sender/receiver types per (sender class, receiver class) pair."""
        network = self.network
        if not column.edges_ok and not network.ignore_connection_errors:
            self._check_edges(column, where)
        payload = column.payload
        if column.checked or not payload._pz_restricted or not network.enforce_msg_payload_checks:
            return
        pairs = self.group_of[column.senders] * len(self.groups) + self.group_of[column.receivers]
        _, first = np.unique(pairs, return_index=True)
        sample = column.take(first[:1]).payloads()[0]
        agents = network.by_id
        for at in first.tolist():
            sender = agents[self.ids[int(column.senders[at])]]
            receiver = agents[self.ids[int(column.receivers[at])]]
            check_payload_types(sample, sender, receiver)

    def _check_edges(self, column: Any, where: str) -> None:
        key = (where, column.payload)
        seen = self._verified.get(key)
        senders, receivers = column.senders, column.receivers
        if (
            seen is not None
            and np.array_equal(seen[0], senders)
            and np.array_equal(seen[1], receivers)
        ):
            return  # the same senders and receivers as last time: already checked
        keys = senders * len(self.ids) + receivers
        edges = self.edge_keys()
        at = np.searchsorted(edges, keys)
        at[at >= len(edges)] = 0
        missing = edges[at] != keys if len(edges) else np.ones(len(keys), bool)
        if missing.any():
            bad = int(np.flatnonzero(missing)[0])
            self.network._missing_edge(self.ids[senders[bad]], self.ids[receivers[bad]])
        self._verified[key] = (senders.copy(), receivers.copy())

    def edge_keys(self) -> np.ndarray:
        """Sorted ``sender * N + receiver`` of every directed edge (built on first use)."""
        if self._edge_keys is None:
            index, size = self.index, len(self.ids)
            keys = [index[a] * size + index[b] for a in self.ids for b in self.network.adjacency(a)]
            self._edge_keys = np.sort(np.array(keys, dtype=np.int64))
        return self._edge_keys
