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

**Field types are checked.** A field annotated with a plain ``int``, ``float``, ``str``
or ``bool`` only accepts values of that kind, checked when the payload is built:
``int`` takes Python and NumPy integers (not bools), ``float`` takes Python and NumPy
floats and integers (not bools), ``bool`` takes Python and NumPy bools, ``str`` takes
strings. A wrong value raises :class:`~phantomzoo.errors.MessageError` naming the field.
Other annotations (``float | None``, ``list[int]``, classes) are not checked, and
defaults are checked once, when the class is defined. The check is on by default
because it is cheap: about 10 ns per checked field (one set lookup of ``type(value)``
in the exact types already accepted; 1e6 two-field payloads built in 0.15-0.18 s
unchecked, 0.17-0.20 s checked, on a 2-core box: about 1% of a supply-chain step).
Opt out per class, inherited by subclasses::

    class Tick(ph.MsgPayload, check_types=False):
        value: int
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np

from .errors import MessageError, PayloadTypeError
from .types import AgentID

try:  # C-implemented getter used by namedtuple; fall back to itemgetter elsewhere.
    from collections import _tuplegetter as _getter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython always has it
    from operator import itemgetter as _itemgetter

    def _getter(index: int, doc: str) -> property:  # type: ignore[misc]
        return property(_itemgetter(index), doc=doc)


_tuple_new = tuple.__new__
_RESERVED = {
    "_fields",
    "_field_types",
    "_sender_types",
    "_receiver_types",
    "_asdict",
    "_replace",
}

T = TypeVar("T")


class _PayloadMeta(type):
    """Turns the annotations of a payload class into immutable positional fields."""

    def __new__(
        mcls,
        name: str,
        bases: tuple[type, ...],
        ns: dict[str, Any],
        check_types: bool | None = None,
        **kw: Any,
    ):
        ns.setdefault("__slots__", ())
        # Every payload class carries these in its own namespace, so a ``@dataclass``
        # (Phantom's payload style) finds them defined and keeps them: it then adds only
        # its field metadata and a frozen __setattr__. ``object.__init__`` is the tuple's
        # own initialiser (a no-op in C), so construction costs the same either way.
        for dunder, method in _PAYLOAD_METHODS.items():
            ns.setdefault(dunder, method)
        if check_types is None:
            check_types = all(getattr(base, "_pz_check_types", True) for base in bases)
        elif not isinstance(check_types, bool):
            raise MessageError(
                f"payload {name!r}: check_types must be True or False, got {check_types!r}"
            )
        inherited: list[str] = []
        inherited_defaults: dict[str, Any] = {}
        kinds: dict[str, type | None] = {}
        for base in bases:
            for field in getattr(base, "_fields", ()):
                if field not in inherited:
                    inherited.append(field)
            inherited_defaults.update(getattr(base, "_field_defaults", {}))
            kinds.update(getattr(base, "_field_types", {}))
        annotations = ns.get("__annotations__", {})
        own = [f for f in annotations if not f.startswith("__")]
        kinds.update({f: _plain_type(annotations[f]) for f in own})
        for field in own:
            if field in _RESERVED or field.startswith("_"):
                raise MessageError(
                    f"payload {name!r} declares field {field!r}; field names must not "
                    "start with an underscore"
                )
        defaults = dict(inherited_defaults)
        for field in own:
            if field in ns:
                defaults[field] = _field_default(name, field, ns.pop(field))
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
        ns["_field_types"] = {f: kinds.get(f) for f in fields}
        ns["_pz_check_types"] = check_types
        checked = {f: kinds.get(f) for f in fields} if check_types else {}
        for field, value in defaults.items():
            if checked.get(field) is not None and not _ACCEPTS[checked[field]](value):
                raise MessageError(
                    f"payload {name!r}: the default of field {field!r} is {value!r} "
                    f"({type(value).__name__}) but the field is annotated "
                    f"{checked[field].__name__}; "
                    "fix the default or the annotation (e.g. `float | None` is not checked)"
                )
        if fields or "__new__" not in ns:
            ns["__new__"] = _make_new(name, fields, defaults, checked)
        return super().__new__(mcls, name, bases, ns, **kw)

    def __init__(cls, name: str, bases: tuple[type, ...], ns: dict[str, Any], **kw: Any):
        kw.pop("check_types", None)
        super().__init__(name, bases, ns, **kw)


def _field_default(name: str, field: str, value: Any) -> Any:
    """A field's default; a ``dataclasses.field(default=...)`` gives its ``default``."""
    if not isinstance(value, dataclasses.Field):
        return value
    if value.default is not dataclasses.MISSING:
        return value.default
    raise MessageError(
        f"payload {name!r}: field {field!r} uses dataclasses.field() without a plain "
        "default (default_factory is not supported: payloads are immutable); give it a "
        "default value or no default"
    )


def _make_new(
    name: str, fields: list[str], defaults: dict[str, Any], kinds: dict[str, type | None]
) -> Callable[..., Any]:
    """Generate ``__new__`` (like namedtuple), with one inline type test per plain field.

    A field annotated ``int``/``float``/``str``/``bool`` costs one set lookup of
    ``type(x)`` in the exact types already accepted for that kind; a new type falls
    back to the full acceptance test, which remembers it when it passes (so NumPy
    scalars are fast from their second use on) and raises when it fails.
    """
    params = ", ".join(fields)
    values = "(" + "".join(f"{f}, " for f in fields) + ")"
    namespace: dict[str, Any] = {
        "_tuple_new": _tuple_new,
        "_type": type,
        "_accept": _accept,
        "_bad": _bad_field,
    }
    checks = []
    for index, field in enumerate(fields):
        kind = kinds.get(field)
        if kind is None:
            continue
        namespace[f"_T{index}"] = kind
        namespace[f"_F{index}"] = _FAST_TYPES[kind]
        checks.append(
            f"    if _type({field}) not in _F{index} and not _accept(_T{index}, {field}):\n"
            f"        _bad(_cls, {field!r}, _T{index}, {field})\n"
        )
    source = f"def __new__(_cls, {params}):\n" + "".join(checks)
    source += f"    return _tuple_new(_cls, {values})\n"
    if not fields:
        source = "def __new__(_cls):\n    return _tuple_new(_cls, ())\n"
    exec(source, namespace)  # noqa: S102 - generated from validated identifiers only
    new = namespace["__new__"]
    if defaults:
        new.__defaults__ = tuple(defaults[f] for f in fields if f in defaults)
    new.__qualname__ = f"{name}.__new__"
    return new


# ------------------------------------------------------------- field type checks
def _accepts_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _accepts_float(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _accepts_str(value: Any) -> bool:
    return isinstance(value, str)


def _accepts_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


_ACCEPTS: dict[type, Callable[[Any], bool]] = {
    int: _accepts_int,
    float: _accepts_float,
    str: _accepts_str,
    bool: _accepts_bool,
}
#: Exact value types already accepted per field kind (grown by :func:`_accept`).
_FAST_TYPES: dict[type, set[type]] = {int: {int}, float: {float, int}, str: {str}, bool: {bool}}
_PLAIN_NAMES = {t.__name__: t for t in _ACCEPTS}


def _accept(kind: type, value: Any) -> bool:
    """Full test of ``value`` for a field of ``kind``; remembers accepted exact types."""
    if _ACCEPTS[kind](value):
        _FAST_TYPES[kind].add(type(value))
        return True
    return False


_ACCEPTED_DESC = {
    int: "an int (or NumPy integer; not a bool)",
    float: "a float or int (or NumPy number; not a bool)",
    str: "a str",
    bool: "a bool (or NumPy bool)",
}


def _plain_type(annotation: Any) -> type | None:
    """``int``/``float``/``str``/``bool`` if ``annotation`` is exactly one, else ``None``."""
    if isinstance(annotation, str):
        return _PLAIN_NAMES.get(annotation.strip())
    return annotation if annotation in _ACCEPTS else None


def _bad_field(cls: type, field: str, kind: type, value: Any) -> None:
    raise MessageError(
        f"{cls.__name__}.{field} must be {_ACCEPTED_DESC[kind]}, got {value!r} "
        f"({type(value).__name__}); convert it (e.g. {kind.__name__}(x)), change the "
        f"annotation, or define the payload with check_types=False"
    )


def _payload_eq(self: tuple, other: object) -> bool:
    return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]


def _payload_ne(self: tuple, other: object) -> bool:
    return not _payload_eq(self, other)


def _payload_repr(self: Any) -> str:
    inner = ", ".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"{type(self).__name__}({inner})"


#: Set in every payload class's own namespace (see :class:`_PayloadMeta`).
_PAYLOAD_METHODS: dict[str, Any] = {
    "__init__": object.__init__,
    "__eq__": _payload_eq,
    "__ne__": _payload_ne,
    "__hash__": tuple.__hash__,
    "__repr__": _payload_repr,
}


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


def msg_payload(
    sender_type: Any = None, receiver_type: Any = None, check_types: bool | None = None
) -> Callable[[type[T]], type[T]]:
    """Class decorator making a payload and restricting who may send and receive it.

    Args:
        sender_type: An agent class, a class name, or a list of either. Only agents that
            are instances of one of them may send the payload. ``None`` allows any agent.
        receiver_type: Same, for the receiving agent.
        check_types: Whether fields annotated ``int``/``float``/``str``/``bool`` are
            checked on construction (default on; see the module docs). Only used when
            the decorated class is a plain class; a ``MsgPayload`` subclass takes it as
            a class keyword instead.

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
            payload_cls = _PayloadMeta(cls.__name__, (MsgPayload,), ns, check_types=check_types)
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
    """Raise :class:`~phantomzoo.errors.PayloadTypeError` (a MessageError and a
    NetworkError) if ``payload`` may not travel from sender to receiver."""
    cls = type(payload)
    if cls._sender_types is not None and not _matches(sender, cls._sender_types):
        raise PayloadTypeError(
            f"agent {getattr(sender, 'id', sender)!r} ({type(sender).__name__}) may not send "
            f"{cls.__name__}: only {_type_names(cls._sender_types)} may send it "
            f"(see @msg_payload(sender_type=...) on {cls.__name__})"
        )
    if cls._receiver_types is not None and not _matches(receiver, cls._receiver_types):
        raise PayloadTypeError(
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
