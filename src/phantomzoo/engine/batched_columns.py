"""Messages as columns: what batched twins send (:class:`Outbox`) and receive
(:class:`MessageColumns`), and the internal :class:`Column` the batched resolver moves.

A column is many messages of one payload class at once: an array of sender indices, an
array of receiver indices (agents' positions in the network, see
:class:`~phantomzoo.engine.batched_groups.Grouping`) and one array per payload field.
Nothing here builds a :class:`~phantomzoo.Message` unless asked (:meth:`Column.messages`:
message logs, receivers without a batched handler).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MessageError
from ..message import Message, MsgPayload

if TYPE_CHECKING:
    from .batched_groups import AgentGroup, Grouping

_tuple_new = tuple.__new__
#: Array kinds (``dtype.kind``) a payload field of each checked type accepts.
_KINDS = {int: "iu", float: "iuf", bool: "b", str: "UO"}


class Outbox:
    """Messages of one payload class sent by agents of one group (a twin's output).

    Args:
        payload: The payload class (a ``ph.MsgPayload`` subclass).
        to: The receivers: one agent id (every message goes to it), a sequence of ids,
            or an int array of agent indices (``group.index(ids)``, cheaper every step).
        from_rows: Rows of the sending group that send (an int array or sequence); by
            default every agent of the group sends one message, in group order.
        **fields: One value or one array per payload field, aligned with the senders
            (fields with defaults may be left out).
    """

    __slots__ = ("payload", "to", "from_rows", "fields", "_reply_of")

    def __init__(
        self, payload: type[MsgPayload], to: Any, from_rows: Any = None, **fields: Any
    ) -> None:
        if not (isinstance(payload, type) and issubclass(payload, MsgPayload)):
            raise MessageError(
                f"Outbox needs a payload class first, got {payload!r}; e.g. "
                "Outbox(OrderResponse, to=shop_ids, size=sizes)"
            )
        self.payload = payload
        self.to = to
        self.from_rows = from_rows
        self.fields = fields
        self._reply_of: MessageColumns | None = None


class MessageColumns:
    """Every message of one payload class to the agents of one group in one round.

    Attributes:
        payload: The payload class.
        rows: Each message's receiver, as a row of the receiving group (``agents[row]``);
            grouped by receiver, each receiver's messages in sending order.
        senders / receivers: Agent indices of the senders and receivers (network order).
        fields: ``{field name: array}``; also readable as ``batch.size`` or
            ``batch["size"]``.
    """

    __slots__ = ("payload", "rows", "senders", "receivers", "fields", "_grouping")

    def __init__(
        self,
        payload: type[MsgPayload],
        rows: np.ndarray,
        senders: np.ndarray,
        receivers: np.ndarray,
        fields: dict[str, np.ndarray],
        grouping: Grouping,
    ) -> None:
        self.payload, self.rows, self.senders, self.receivers = payload, rows, senders, receivers
        self.fields, self._grouping = fields, grouping

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, field: str) -> np.ndarray:
        try:
            return self.fields[field]
        except KeyError:
            raise MessageError(
                f"{self.payload.__name__} has no field {field!r}; its fields are "
                f"{list(self.fields)}"
            ) from None

    def __getattr__(self, field: str) -> np.ndarray:
        if field.startswith("_"):
            raise AttributeError(field)
        return self[field]

    @property
    def sender_ids(self) -> list[Any]:
        """The senders' agent ids (a list built on each access)."""
        ids = self._grouping.ids
        return [ids[i] for i in self.senders.tolist()]

    def counts(self, size: int) -> np.ndarray:
        """Messages per receiver row, as an array of ``size`` (the group's length)."""
        return np.bincount(self.rows, minlength=size)

    def reply(self, payload: type[MsgPayload], where: Any = None, **fields: Any) -> Outbox:
        """An :class:`Outbox` answering each message's sender (along the same edge, so it
        needs no edge check), ``fields`` aligned with the batch; ``where`` (a boolean
        array) keeps only some of the replies."""
        box = Outbox(payload, to=None, from_rows=where, **fields)
        box._reply_of = self
        return box


class Column:
    """Messages in flight inside the batched resolver (see the module docs).

    ``checked`` marks columns whose edges and payload types were already checked (built
    from messages the network queued); ``edges_ok`` replies along the edges they answer.
    """

    __slots__ = ("payload", "senders", "receivers", "fields", "checked", "edges_ok")

    def __init__(
        self,
        payload: type[MsgPayload],
        senders: np.ndarray,
        receivers: np.ndarray,
        fields: dict[str, np.ndarray],
        checked: bool = False,
        edges_ok: bool = False,
    ) -> None:
        self.payload, self.senders, self.receivers, self.fields = (
            payload,
            senders,
            receivers,
            fields,
        )
        self.checked, self.edges_ok = checked, edges_ok or checked

    def __len__(self) -> int:
        return len(self.senders)

    def take(self, keep: np.ndarray) -> Column:
        """The messages selected by ``keep`` (a boolean mask or index array)."""
        fields = {k: v[keep] for k, v in self.fields.items()}
        return Column(
            self.payload,
            self.senders[keep],
            self.receivers[keep],
            fields,
            self.checked,
            self.edges_ok,
        )

    def payloads(self) -> list[MsgPayload]:
        """One payload object per message (Python numbers, as per-agent handlers build)."""
        payload = self.payload
        names = payload._fields
        if not names:
            return [_tuple_new(payload, ()) for _ in range(len(self))]
        columns = [self.fields[name].tolist() for name in names]
        return [_tuple_new(payload, values) for values in zip(*columns)]

    def messages(self, ids: Sequence[Any]) -> list[Message]:
        """The column as ``Message`` objects, in column order."""
        senders = [ids[i] for i in self.senders.tolist()]
        receivers = [ids[i] for i in self.receivers.tolist()]
        return [_tuple_new(Message, triple) for triple in zip(senders, receivers, self.payloads())]


def concat(payload: type[MsgPayload], pieces: list[Column]) -> Column:
    """One column of ``pieces`` (same payload class), in order."""
    if len(pieces) == 1:
        return pieces[0]
    fields = {name: np.concatenate([p.fields[name] for p in pieces]) for name in pieces[0].fields}
    return Column(
        payload,
        np.concatenate([p.senders for p in pieces]),
        np.concatenate([p.receivers for p in pieces]),
        fields,
        all(p.checked for p in pieces),
        all(p.edges_ok for p in pieces),
    )


def from_messages(payload: type[MsgPayload], messages: list[Message], index: dict) -> Column:
    """A checked column of messages the network already queued (their payload class is
    ``payload``)."""
    fields = {name: np.array([m[2][k] for m in messages]) for k, name in enumerate(payload._fields)}
    senders = np.fromiter((index[m[0]] for m in messages), np.int64, len(messages))
    receivers = np.fromiter((index[m[1]] for m in messages), np.int64, len(messages))
    return Column(payload, senders, receivers, fields, checked=True)


def outbox_column(box: Any, group: AgentGroup, where: str) -> Column:
    """Check a twin's :class:`Outbox` and turn it into a :class:`Column` sent by
    ``group`` (``where`` names the twin in errors)."""
    if not isinstance(box, Outbox):
        raise MessageError(
            f"{where} returned {box!r}; batched twins return None, an Outbox or a list of "
            "Outboxes, e.g. Outbox(OrderRequest, to=shop_indices, size=sizes)"
        )
    grouping = group.grouping
    reply_of = box._reply_of
    if reply_of is not None:
        keep = _mask(box.from_rows, len(reply_of), where)
        senders, receivers = reply_of.receivers, reply_of.senders
        if keep is not None:
            senders, receivers = senders[keep], receivers[keep]
    else:
        rows = _rows(box.from_rows, len(group), where)
        senders = group.indices if rows is None else group.indices[rows]
        receivers = grouping.receivers(box.to, len(senders), where)
        keep = None
    fields = _fields(box, len(reply_of) if reply_of is not None else len(senders), keep, where)
    return Column(box.payload, senders, receivers, fields, edges_ok=reply_of is not None)


def _mask(where_rows: Any, size: int, where: str) -> np.ndarray | None:
    if where_rows is None:
        return None
    mask = np.asarray(where_rows)
    if mask.dtype != bool or mask.shape != (size,):
        raise MessageError(
            f"{where}: reply(where=...) must be a boolean array of one entry per message "
            f"({size}), got {mask.dtype} of shape {mask.shape}"
        )
    return mask


def _rows(rows: Any, size: int, where: str) -> np.ndarray | None:
    if rows is None:
        return None
    array = np.asarray(rows)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise MessageError(
            f"{where}: from_rows must be a 1-D array of group rows (ints), got {rows!r}"
        )
    if array.size and (array.min() < 0 or array.max() >= size):
        raise MessageError(
            f"{where}: from_rows has rows outside 0..{size - 1} (the group has {size} agents)"
        )
    return array.astype(np.int64, copy=False)


def _fields(box: Outbox, size: int, keep: np.ndarray | None, where: str) -> dict[str, np.ndarray]:
    """The outbox's field arrays, checked against the payload class and ``size``."""
    payload = box.payload
    names = payload._fields
    unknown = [k for k in box.fields if k not in names]
    if unknown:
        raise MessageError(
            f"{where}: {payload.__name__} has no field(s) {unknown}; its fields are {list(names)}"
        )
    defaults = getattr(payload, "_field_defaults", {})
    kinds = getattr(payload, "_field_types", {})
    checked = getattr(payload, "_pz_check_types", True)
    fields = {}
    for name in names:
        if name in box.fields:
            value = np.asarray(box.fields[name])
        elif name in defaults:
            value = np.asarray(defaults[name])
        else:
            raise MessageError(
                f"{where}: {payload.__name__} needs field {name!r} (an array of {size} values "
                "or one value for all)"
            )
        if value.ndim == 0:
            value = np.full(size, value.item(), dtype=value.dtype)
        elif value.shape[0] != size:
            raise MessageError(
                f"{where}: field {name!r} of {payload.__name__} has {value.shape[0]} values "
                f"for {size} messages; give one per message (or one value for all)"
            )
        kind = kinds.get(name)
        if checked and kind in _KINDS and value.size and value.dtype.kind not in _KINDS[kind]:
            raise MessageError(
                f"{where}: field {name!r} of {payload.__name__} is declared {kind.__name__} "
                f"but the array holds {value.dtype}; cast it (e.g. .astype(int))"
            )
        fields[name] = value if keep is None else value[keep]
    return fields
