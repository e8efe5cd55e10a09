"""Configuration values as declarative JSON records, safe to save and to load back.

A results directory records the environment configuration it was trained with, and
that configuration may hold more than JSON: phantomzoo samplers
(``cost_of_carry=UniformFloatSampler(0.1, 0.5)``), supertypes (``agent_supertypes=
{"SHOP": ShopSupertype(...)}``), ranges, tuples, NumPy arrays. :func:`encode` turns
such a value into JSON made of plain data — a sampler is its class name from
phantomzoo's own sampler set plus its parameters — and :func:`decode` rebuilds it.

Decoding never imports a module and never calls anything named in the record, except
phantomzoo's own sampler and range classes, looked up in a fixed table. A supertype is
rebuilt, by default, as a new dataclass with the recorded name and fields (the values
and draws are the same; methods of the original class are not available). Pass
``supertype_classes`` to rebuild instances of your own classes instead.

Anything that cannot be recorded (a function, a ``LambdaSampler``, an arbitrary object)
raises :class:`~phantomzoo.errors.ConfigError` naming where it sits and what to do, so
``ph.train`` can refuse it before any training time is spent.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .. import ranges, samplers
from ..errors import ConfigError, ManifestError
from ..supertype import Supertype

#: The classes a record may name, and nothing else.
RECORDABLE_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        samplers.UniformFloatSampler,
        samplers.UniformIntSampler,
        samplers.NormalSampler,
        samplers.DiscreteSampler,
        samplers.UniformArraySampler,
        samplers.NormalArraySampler,
        ranges.UniformRange,
        ranges.LinspaceRange,
        ranges.ListRange,
        ranges.UnitArrayUniformRange,
        ranges.UnitArrayLinspaceRange,
    )
}
#: NumPy scalar types recorded as dtypes (``dtype=np.float32`` in a range), by name.
_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
           np.uint64, np.float16, np.float32, np.float64)  # fmt: skip
_DTYPE_NAMES = frozenset(np.dtype(t).name for t in _DTYPES)
_MAX_ARRAY = 1_000_000  # elements; a config array larger than this is refused
_MAX_DEPTH = 64
_MISSING = object()


# ------------------------------------------------------------------------ encoding
def encode(value: Any, where: str = "config") -> Any:
    """``value`` as JSON-able plain data (see the module docs).

    Raises:
        ConfigError: naming the path (``where``) of the first value that cannot be recorded.
    """
    return _Encoder().encode(value, where, 0)


NOT_SCALAR = object()


def plain_scalar(value: Any) -> Any:
    """The JSON form of None, a bool, str, int or float (NumPy scalars too), else
    :data:`NOT_SCALAR`. Non-finite floats become ``{"$float": "nan"}`` and the like."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"$float": repr(value)}
    return NOT_SCALAR


def check_recordable(value: Any, where: str = "config") -> None:
    """Raise :class:`ConfigError` now if ``value`` could not be saved with the results."""
    encode(value, where)


class _Encoder:
    def __init__(self) -> None:
        self.shared: dict[int, int] = {}  # id(Shared) -> reference number

    def encode(self, value: Any, where: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise ConfigError(f"{where} is nested more than {_MAX_DEPTH} levels deep")
        scalar = plain_scalar(value)
        if scalar is not NOT_SCALAR:
            return scalar
        if isinstance(value, np.ndarray):
            return self._array(value, where)
        if isinstance(value, np.dtype) or (isinstance(value, type) and value in _DTYPES):
            dtype = np.dtype(value)
            if dtype.kind not in "biuf":
                raise ConfigError(f"{where} is the dtype {dtype}; only numeric dtypes are recorded")
            return {"$dtype": dtype.name}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"$tuple": items}
        if isinstance(value, Mapping):
            return self._mapping(value, where, depth)
        if isinstance(value, samplers.Shared):
            key = id(value)
            if key in self.shared:
                return {"$ref": self.shared[key]}
            self.shared[key] = number = len(self.shared)
            return {"$shared": number, "of": self.encode(value.sampler, where, depth + 1)}
        if isinstance(value, Supertype) and dataclasses.is_dataclass(value):
            fields = {
                f.name: self.encode(getattr(value, f.name), f"{where}.{f.name}", depth + 1)
                for f in dataclasses.fields(value)
            }
            return {"$supertype": type(value).__name__, "fields": fields}
        name = type(value).__name__
        if RECORDABLE_CLASSES.get(name) is type(value):
            params = {
                p: self.encode(v, f"{where}.{p}", depth + 1) for p, v in _params(value).items()
            }
            return {"$object": name, "params": params}
        raise ConfigError(_unrecordable(value, where))

    def _array(self, value: np.ndarray, where: str) -> dict[str, Any]:
        if value.dtype.kind not in "biuf" or value.size > _MAX_ARRAY:
            raise ConfigError(
                f"{where} is a {value.dtype} array of {value.size} elements; a results "
                f"directory records numeric arrays of at most {_MAX_ARRAY:,} elements"
            )
        flat = [self.encode(v, where, 0) for v in value.ravel().tolist()]
        return {"$array": flat, "dtype": value.dtype.str, "shape": list(value.shape)}

    def _mapping(self, value: Mapping[Any, Any], where: str, depth: int) -> Any:
        plain = all(isinstance(k, str) and not k.startswith("$") for k in value)
        if plain:
            return {k: self.encode(v, f"{where}[{k!r}]", depth + 1) for k, v in value.items()}
        items = []
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                raise ConfigError(
                    f"{where} has the key {key!r} ({type(key).__name__}); recorded mappings "
                    "need str, int, float, bool, None or tuple keys"
                )
            items.append(
                [
                    self.encode(key, where, depth + 1),
                    self.encode(item, f"{where}[{key!r}]", depth + 1),
                ]
            )
        return {"$dict": items}


def _params(obj: Any) -> dict[str, Any]:
    """Constructor parameters of a sampler or range, read back from its attributes."""
    out = {}
    for name, parameter in inspect.signature(type(obj).__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        for attribute in (name, f"_{name}"):
            value = getattr(obj, attribute, _MISSING)
            if value is not _MISSING and not inspect.ismethod(value):
                out[name] = value
                break
        else:
            raise ConfigError(f"{type(obj).__name__} does not expose its parameter {name!r}")
    return out


def _unrecordable(value: Any, where: str) -> str:
    if isinstance(value, samplers.LambdaSampler):
        return (
            f"{where} is a LambdaSampler: it holds a function, which a results directory "
            "cannot record as data. Use one of phantomzoo's samplers "
            f"({', '.join(sorted(k for k in RECORDABLE_CLASSES if k.endswith('Sampler')))}), "
            "or build the sampler inside a registered env factory and pass plain numbers"
        )
    if isinstance(value, Supertype):
        return f"{where} is a Supertype that is not a dataclass; decorate its class with @dataclass"
    kind = "a function" if callable(value) and not isinstance(value, type) else "an object"
    return (
        f"{where} = {value!r} is {kind} of type {type(value).__qualname__}, which cannot be "
        "recorded with the results (only numbers, strings, lists, dicts, NumPy arrays, "
        "phantomzoo samplers, ranges and dataclass supertypes can). Pass plain values and "
        "build the object inside the env factory"
    )


# ------------------------------------------------------------------------ decoding
def decode(
    data: Any,
    where: str = "config",
    supertype_classes: Mapping[str, type[Supertype]] | None = None,
) -> Any:
    """Rebuild a value recorded by :func:`encode` (imports nothing; see the module docs).

    Args:
        data: The JSON record.
        where: Names the record in error messages (e.g. the file it came from).
        supertype_classes: Optional ``{class name: Supertype subclass}`` used to rebuild
            supertypes as instances of your classes.

    Raises:
        ManifestError: for a malformed record, naming ``where``.
    """
    return _Decoder(where, dict(supertype_classes or {})).decode(data, 0)


class _Decoder:
    def __init__(self, where: str, classes: dict[str, type[Supertype]]) -> None:
        self.where = where
        self.classes = classes
        self.shared: dict[int, samplers.Shared] = {}
        self.made: dict[tuple[str, tuple[str, ...]], type[Supertype]] = {}

    def fail(self, problem: str) -> ManifestError:
        return ManifestError(f"{self.where}: {problem}")

    def decode(self, data: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail(f"a value is nested more than {_MAX_DEPTH} levels deep")
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        if isinstance(data, list):
            return [self.decode(v, depth + 1) for v in data]
        if not isinstance(data, dict):
            raise self.fail(f"unexpected value {data!r}")
        tags = [k for k in data if isinstance(k, str) and k.startswith("$")]
        if not tags:
            return {k: self.decode(v, depth + 1) for k, v in data.items()}
        handler: Callable[[dict[str, Any], int], Any] | None = _TAGS.get(tags[0])
        if len(tags) != 1 or handler is None:
            raise self.fail(f"unknown record tag(s) {tags}")
        return handler(self, data, depth)

    def dtype_(self, data: dict[str, Any], depth: int) -> np.dtype:
        name = data["$dtype"]
        if not isinstance(name, str) or name not in _DTYPE_NAMES:
            raise self.fail(f"$dtype must be one of {sorted(_DTYPE_NAMES)}, got {name!r}")
        return np.dtype(name)

    def tuple_(self, data: dict[str, Any], depth: int) -> tuple[Any, ...]:
        return tuple(self.decode(_list(self, data, "$tuple"), depth + 1))

    def float_(self, data: dict[str, Any], depth: int) -> float:
        text = data["$float"]
        if text not in ("nan", "inf", "-inf"):
            raise self.fail(f"$float must be 'nan', 'inf' or '-inf', got {text!r}")
        return float(text)

    def dict_(self, data: dict[str, Any], depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for pair in _list(self, data, "$dict"):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.fail(f"$dict items must be [key, value] pairs, got {pair!r}")
            key = self.decode(pair[0], depth + 1)
            try:
                out[key] = self.decode(pair[1], depth + 1)
            except TypeError:
                raise self.fail(f"unusable mapping key {key!r}") from None
        return out

    def array(self, data: dict[str, Any], depth: int) -> np.ndarray:
        flat, dtype, shape = _list(self, data, "$array"), data.get("dtype"), data.get("shape")
        try:
            kind = np.dtype(dtype).kind if isinstance(dtype, str) else ""
        except TypeError:
            kind = ""
        if kind not in "biuf" or not kind:
            raise self.fail(f"$array needs a numeric dtype, got {dtype!r}")
        if not (isinstance(shape, list) and all(_count(n) for n in shape)):
            raise self.fail(f"$array needs a shape of ints >= 0, got {shape!r}")
        if math.prod(shape) != len(flat) or len(flat) > _MAX_ARRAY:
            raise self.fail(f"$array holds {len(flat)} values for shape {shape}")
        values = [self.decode(v, depth + 1) for v in flat]
        if not all(isinstance(v, (int, float)) for v in values):
            raise self.fail("$array values must be numbers")
        return np.asarray(values, dtype=dtype).reshape(shape)

    def shared_(self, data: dict[str, Any], depth: int) -> samplers.Shared:
        number = data["$shared"]
        if not _count(number) or number in self.shared:
            raise self.fail(f"$shared needs a new reference number, got {number!r}")
        inner = self.decode(data.get("of"), depth + 1)
        try:
            self.shared[number] = samplers.Shared(inner)
        except Exception as exc:
            raise self.fail(f"$shared: {exc}") from None
        return self.shared[number]

    def ref(self, data: dict[str, Any], depth: int) -> samplers.Shared:
        number = data["$ref"]
        if not (_count(number) and number in self.shared):
            raise self.fail(f"$ref {number!r} does not name an earlier $shared sampler")
        return self.shared[number]

    def object_(self, data: dict[str, Any], depth: int) -> Any:
        name, params = data["$object"], data.get("params")
        cls = RECORDABLE_CLASSES.get(name) if isinstance(name, str) else None
        if cls is None:
            raise self.fail(
                f"$object {name!r} is not one of phantomzoo's recordable classes "
                f"{sorted(RECORDABLE_CLASSES)}"
            )
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise self.fail(f"$object {name} needs a params mapping, got {params!r}")
        values = {k: self.decode(v, depth + 1) for k, v in params.items()}
        try:
            return cls(**values)
        except Exception as exc:  # the class validates its own parameters
            raise self.fail(f"cannot rebuild {name}({values}): {exc}") from None

    def supertype(self, data: dict[str, Any], depth: int) -> Supertype:
        name, fields = data["$supertype"], data.get("fields")
        if not (isinstance(name, str) and name.isidentifier()):
            raise self.fail(f"$supertype needs a class name, got {name!r}")
        if not isinstance(fields, dict) or not all(
            isinstance(k, str) and k.isidentifier() and not k.startswith("_") for k in fields
        ):
            raise self.fail(f"$supertype {name} needs a mapping of field names, got {fields!r}")
        values = {k: self.decode(v, depth + 1) for k, v in fields.items()}
        cls = self.classes.get(name) or self._dataclass(name, tuple(values))
        try:
            return cls(**values)
        except TypeError as exc:
            raise self.fail(f"cannot rebuild supertype {name}: {exc}") from None

    def _dataclass(self, name: str, fields: tuple[str, ...]) -> type[Supertype]:
        key = (name, fields)
        if key not in self.made:
            self.made[key] = dataclasses.make_dataclass(
                name, [(f, Any) for f in fields], bases=(Supertype,)
            )
        return self.made[key]


_TAGS: dict[str, Callable[[_Decoder, dict[str, Any], int], Any]] = {
    "$dtype": _Decoder.dtype_,
    "$tuple": _Decoder.tuple_,
    "$float": _Decoder.float_,
    "$dict": _Decoder.dict_,
    "$array": _Decoder.array,
    "$shared": _Decoder.shared_,
    "$ref": _Decoder.ref,
    "$object": _Decoder.object_,
    "$supertype": _Decoder.supertype,
}


def _list(decoder: _Decoder, data: dict[str, Any], tag: str) -> list[Any]:
    value = data[tag]
    if not isinstance(value, list):
        raise decoder.fail(f"{tag} needs a list, got {value!r}")
    return value


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
