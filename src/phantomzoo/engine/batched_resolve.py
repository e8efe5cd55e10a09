"""Message resolution with columns: the batched path's resolver rounds.

Each round delivers two kinds of pending messages: columns (sent by batched twins) and
``{receiver: [Message, ...]}`` (sent by per-agent code, checked by
:meth:`~phantomzoo.Network.queue`). Messages of one payload class to agents of a class
whose handler for it has a batched twin (``@ph.agents.batch_handler``) are gathered into
one :class:`~phantomzoo.engine.batched_columns.MessageColumns` and handed to the twin in
one call; every other message is materialised and delivered per message, exactly as the
:class:`~phantomzoo.resolvers.BatchResolver` does. Within a round, messages delivered per
message go first (in the order their receivers first got one), then each batched
(receiver class, payload class) bucket in order of first appearance; a receiver sees its
messages of one payload class in sending order.

When ``network.message_log`` is a list (or the resolver tracks messages) every message of
the round is materialised and logged, so telemetry and rollouts see every message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..message import Message
from ..resolvers import Resolver
from ..types import AgentID
from .batched_columns import Column, MessageColumns, concat, from_messages, outbox_column
from .batched_groups import AgentGroup, Grouping


def columnar(resolver: Any) -> bool:
    """Whether ``resolver`` can deliver columns: a plain ``BatchResolver`` that does not
    shuffle (others get every column as messages, delivered their own way)."""
    from ..resolvers import BatchResolver

    return type(resolver) is BatchResolver and not resolver.shuffle_batches


def materialise(
    grouping: Grouping, columns: list[Column], pending: dict[AgentID, list[Message]]
) -> None:
    """Append the columns' messages to ``pending`` (per receiver, in column order)."""
    for column in columns:
        for message in column.messages(grouping.ids):
            batch = pending.get(message[1])
            if batch is None:
                pending[message[1]] = [message]
            else:
                batch.append(message)


def resolve(
    grouping: Grouping,
    columns: list[Column],
    pending: dict[AgentID, list[Message]],
    contexts: dict[AgentID, Any],
    rng: np.random.Generator,
) -> None:
    """Deliver ``columns`` and ``pending`` and every reply (see the module docs)."""
    network = grouping.network
    resolver = network.resolver
    if not columnar(resolver):
        materialise(grouping, columns, pending)
        network.resolve(pending, contexts, rng)
        return
    rounds = 0
    resolver.last_dropped = 0
    while columns or pending:
        if rounds >= resolver.round_limit:
            materialise(grouping, columns, pending)
            resolver._on_round_limit(pending)
            return
        rounds += 1
        _log(grouping, resolver, columns, pending)
        columns, pending = _round(grouping, columns, pending, contexts)


def _log(grouping: Grouping, resolver: Any, columns: list[Column], pending: dict) -> None:
    log = grouping.network.message_log
    if log is None and not resolver.enable_tracking:
        return
    messages: list[Message] = [m for batch in pending.values() for m in batch]
    for column in columns:
        messages.extend(column.messages(grouping.ids))
    if log is not None:
        log.extend(messages)
    if resolver.enable_tracking:
        resolver.tracked_messages.extend(messages)


def _round(
    grouping: Grouping,
    columns: list[Column],
    pending: dict[AgentID, list[Message]],
    contexts: dict[AgentID, Any],
) -> tuple[list[Column], dict[AgentID, list[Message]]]:
    """One round: returns the next round's columns and per-message pending."""
    network = grouping.network
    buckets: dict[tuple[int, type], list[Column]] = {}
    singles: dict[AgentID, list[Message]] = {}
    _sort_pending(grouping, pending, buckets, singles)
    for column in columns:
        _sort_column(grouping, column, buckets, singles)
    next_columns: list[Column] = []
    next_pending: dict[AgentID, list[Message]] = {}
    handle = Resolver._handle
    for receiver_id, batch in singles.items():
        handle(network, receiver_id, batch, contexts, next_pending)
    for (number, payload), pieces in buckets.items():
        group = grouping.groups[number]
        batch = _batch(grouping, group, payload, concat(payload, pieces))
        out = group.handler_for(payload)(group.agents, group, batch)
        where = f"{group.cls.__name__} batch handler for {payload.__name__}"
        emit(grouping, group, out, where, next_columns)
    return next_columns, next_pending


def _sort_pending(grouping: Grouping, pending: dict, buckets: dict, singles: dict) -> None:
    """Per-message pending into batched buckets (receivers with a twin) or singles."""
    index, by_class, agents = grouping.index, grouping.by_class, grouping.network.by_id
    for receiver_id, batch in pending.items():
        group = by_class[type(agents[receiver_id])]
        if not group.cls._pz_batch_handlers:
            singles[receiver_id] = batch
            continue
        number = int(grouping.group_of[index[receiver_id]])
        kinds: dict[type, list[Message]] = {}
        for message in batch:
            kinds.setdefault(message[2].__class__, []).append(message)
        for payload, messages in kinds.items():
            if group.handler_for(payload) is None:
                singles.setdefault(receiver_id, []).extend(messages)
            else:
                column = from_messages(payload, messages, index)
                buckets.setdefault((number, payload), []).append(column)


def _sort_column(grouping: Grouping, column: Column, buckets: dict, singles: dict) -> None:
    """A column into buckets per receiver group, or messages for receivers without a twin."""
    numbers = grouping.group_of[column.receivers]
    first = int(numbers[0])
    parts = [(first, column)] if (numbers == first).all() else _split(column, numbers)
    for number, part in parts:
        group = grouping.groups[number]
        if group.handler_for(part.payload) is None:
            for message in part.messages(grouping.ids):
                singles.setdefault(message[1], []).append(message)
        else:
            buckets.setdefault((number, part.payload), []).append(part)


def _split(column: Column, numbers: np.ndarray) -> list[tuple[int, Column]]:
    return [(int(n), column.take(numbers == n)) for n in dict.fromkeys(numbers.tolist())]


def _batch(grouping: Grouping, group: AgentGroup, payload: type, column: Column) -> MessageColumns:
    """The column as the twin sees it: receiver rows grouped, sending order kept."""
    rows = grouping.row_of[column.receivers]
    if len(rows) > 1 and (rows[1:] < rows[:-1]).any():
        order = np.argsort(rows, kind="stable")
        column = column.take(order)
        rows = rows[order]
    return MessageColumns(payload, rows, column.senders, column.receivers, column.fields, grouping)


def emit(grouping: Grouping, group: AgentGroup, out: Any, where: str, columns: list) -> None:
    """Check what a twin returned (None, an Outbox or a list of them) and queue it."""
    if out is None:
        return
    boxes = out if isinstance(out, (list, tuple)) else (out,)
    for box in boxes:
        column = outbox_column(box, group, where)
        if len(column):
            grouping.check(column, group, where)
            columns.append(column)
