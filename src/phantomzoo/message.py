"""Typed, immutable message payloads and the messages that carry them.

A payload class lists its fields as annotations::

    class OrderRequest(ph.MsgPayload):
        size: int

    OrderRequest(3).size == 3

Payloads are immutable tuples underneath (like :func:`collections.namedtuple`), which
keeps building millions of them per second cheap. Two payloads are equal only when they
are of the same class and hold equal values.

:func:`msg_payload` additionally restricts which agent classes may send or receive a
payload; the network checks the restriction on every send.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from .errors import MessageError

try:  # C-implemented getter used by namedtuple; fall back to itemgetter elsewhere.
    from collections import _tuplegetter as _getter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython always has it
    from operator import itemgetter as _itemgetter

    def _getter(index: int, doc: str) -> property:  # type: ignore[misc]
        return property(_itemgetter(index), doc=doc)


_tuple_new = tuple.__new__
_RESERVED = {"_fields", "_sender_types", "_receiver_types", "_asdict", "_replace"}

AgentID = Hashable
T = TypeVar("T")


class _PayloadMeta(type):
    """Turns the annotations of a payload class into immutable positional fields."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any):
        ns.setdefault("__slots__", ())
        inherited: list[str] = []
        inherited_defaults: dict[str, Any] = {}
        for base in bases:
            for field in getattr(base, "_fields", ()):
                if field not in inherited:
                    inherited.append(field)
            inherited_defaults.update(getattr(base, "_field_defaults", {}))
        own = [f for f in ns.get("__annotations__", {}) if not f.startswith("__")]
        for field in own:
            if field in _RESERVED or field.startswith("_"):
                raise MessageError(
                    f"payload {name!r} declares field {field!r}; field names must not "
                    "start with an underscore"
                )
        defaults = dict(inherited_defaults)
        for field in own:
            if field in ns:
                defaults[field] = ns.pop(field)
        fields = inherited + [f for f in own if f not in inherited]
        seen_default = False
        for field in fields:
            if field in defaults:
                seen_default = True
            elif seen_default:
                raise MessageError(
                    f"payload {name!r}: field {field!r} without a default follows a field "
                    "with a default; give it a default or move it before them"
                )
        for index, field in enumerate(fields):
            ns[field] = _getter(index, f"Payload field {field!r}")
        ns["_fields"] = tuple(fields)
        ns["_field_defaults"] = defaults
        if fields or "__new__" not in ns:
            ns["__new__"] = _make_new(name, fields, defaults)
        return super().__new__(mcls, name, bases, ns, **kw)


def _make_new(name: str, fields: list[str], defaults: dict[str, Any]) -> Callable[..., Any]:
    params = ", ".join(fields)
    values = "(" + "".join(f"{f}, " for f in fields) + ")"
    source = f"def __new__(_cls, {params}):\n    return _tuple_new(_cls, {values})\n"
    if not fields:
        source = "def __new__(_cls):\n    return _tuple_new(_cls, ())\n"
    namespace: dict[str, Any] = {"_tuple_new": _tuple_new}
    exec(source, namespace)  # noqa: S102 - generated from validated identifiers only
    new = namespace["__new__"]
    if defaults:
        new.__defaults__ = tuple(defaults[f] for f in fields if f in defaults)
    new.__qualname__ = f"{name}.__new__"
    return new


class MsgPayload(tuple, metaclass=_PayloadMeta):
    """Base class of message payloads: immutable, positional, compared by class and value.

    Subclass it and annotate the fields::

        class StockRequest(ph.MsgPayload):
            size: int
    """

    # Set by the metaclass / msg_payload (not annotated: annotations become fields).
    _sender_types = None
    _receiver_types = None
    _pz_restricted = False

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} payloads are immutable; build a new one with "
            f"payload._replace({name}=...)"
        )

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{type(self).__name__}({inner})"

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def _asdict(self) -> dict[str, Any]:
        """The payload's fields as a new dict."""
        return dict(zip(self._fields, self))

    def _replace(self, **changes: Any) -> MsgPayload:
        """A copy of the payload with some fields replaced."""
        values = self._asdict()
        unknown = set(changes) - set(values)
        if unknown:
            raise MessageError(
                f"{type(self).__name__} has no field(s) {sorted(unknown)}; "
                f"its fields are {list(self._fields)}"
            )
        values.update(changes)
        return type(self)(**values)


def _as_type_tuple(spec: Any, role: str, payload_name: str) -> tuple[Any, ...] | None:
    if spec is None:
        return None
    items = list(spec) if isinstance(spec, (list, tuple, set, frozenset)) else [spec]
    for item in items:
        if not (isinstance(item, type) or isinstance(item, str)):
            raise MessageError(
                f"msg_payload({role}_type=...) for {payload_name!r} got {item!r}; pass an "
                "agent class, a class name, or a list of them"
            )
    return tuple(items)


def msg_payload(sender_type: Any = None, receiver_type: Any = None) -> Callable[[type[T]], type[T]]:
    """Class decorator making a payload and restricting who may send and receive it.

    Args:
        sender_type: An agent class, a class name, or a list of either. Only agents that
            are instances of one of them may send the payload. ``None`` allows any agent.
        receiver_type: Same, for the receiving agent.

    The decorated class may be a plain annotated class or a :class:`MsgPayload` subclass::

        @ph.msg_payload(sender_type=CustomerAgent, receiver_type=ShopAgent)
        class OrderRequest:
            size: int
    """

    def decorate(cls: type[T]) -> type[T]:
        if isinstance(cls, _PayloadMeta):
            payload_cls: Any = cls
        else:
            ns = {
                k: v
                for k, v in vars(cls).items()
                if k not in ("__dict__", "__weakref__", "__slots__")
            }
            payload_cls = _PayloadMeta(cls.__name__, (MsgPayload,), ns)
        type.__setattr__(
            payload_cls, "_sender_types", _as_type_tuple(sender_type, "sender", cls.__name__)
        )
        type.__setattr__(
            payload_cls,
            "_receiver_types",
            _as_type_tuple(receiver_type, "receiver", cls.__name__),
        )
        type.__setattr__(
            payload_cls,
            "_pz_restricted",
            payload_cls._sender_types is not None or payload_cls._receiver_types is not None,
        )
        return payload_cls  # type: ignore[no-any-return]

    return decorate


def _matches(obj: object, allowed: Iterable[Any]) -> bool:
    names = {k.__name__ for k in type(obj).__mro__}
    for spec in allowed:
        if isinstance(spec, str):
            if spec in names:
                return True
        elif isinstance(obj, spec):
            return True
    return False


def _type_names(allowed: Iterable[Any]) -> str:
    return ", ".join(a if isinstance(a, str) else a.__name__ for a in allowed)


def check_payload_types(payload: MsgPayload, sender: object, receiver: object) -> None:
    """Raise :class:`MessageError` if ``payload`` may not travel from sender to receiver."""
    cls = type(payload)
    if cls._sender_types is not None and not _matches(sender, cls._sender_types):
        raise MessageError(
            f"agent {getattr(sender, 'id', sender)!r} ({type(sender).__name__}) may not send "
            f"{cls.__name__}: only {_type_names(cls._sender_types)} may send it "
            f"(see @msg_payload(sender_type=...) on {cls.__name__})"
        )
    if cls._receiver_types is not None and not _matches(receiver, cls._receiver_types):
        raise MessageError(
            f"agent {getattr(receiver, 'id', receiver)!r} ({type(receiver).__name__}) may not "
            f"receive {cls.__name__}: only {_type_names(cls._receiver_types)} may receive it "
            f"(see @msg_payload(receiver_type=...) on {cls.__name__})"
        )


class Message(tuple):
    """A payload in transit: ``sender_id``, ``receiver_id`` and ``payload``.

    Built by the network for every payload an agent sends; handlers receive it.
    """

    __slots__ = ()

    sender_id = _getter(0, "Id of the sending agent.")
    receiver_id = _getter(1, "Id of the receiving agent.")
    payload = _getter(2, "The MsgPayload carried.")

    def __new__(cls, sender_id: AgentID, receiver_id: AgentID, payload: MsgPayload) -> Message:
        return _tuple_new(cls, (sender_id, receiver_id, payload))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return type(other) is Message and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("messages are immutable")

    def __repr__(self) -> str:
        return f"Message(sender_id={self[0]!r}, receiver_id={self[1]!r}, payload={self[2]!r})"
