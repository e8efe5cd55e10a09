"""Ranges: sets of values to sweep over in rollouts (one rollout per value).

A range placed in an env config or a supertype is expanded into a grid of
configurations by rollout utilities. During training and plain ``reset`` a range is
not a distribution: use a :mod:`~phantomzoo.samplers` sampler instead.

Every range must hold at least one and at most :data:`MAX_RANGE_VALUES` values; its
bounds must be finite numbers. Bad parameters raise
:class:`~phantomzoo.errors.SamplerError` naming the parameter.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import paramchecks as pc
from .errors import SamplerError

#: Most values a range may hold: each value is one rollout (per repeat), so a larger
#: sweep is almost certainly a mistyped step; split it into several sweeps if meant.
MAX_RANGE_VALUES = 1_000_000


class Range(ABC):
    """Base class of ranges: a finite, ordered list of values.

    Attributes:
        name: Optional label (Phantom's ``name=``), shown in the repr.
    """

    name: str | None = None

    @abstractmethod
    def values(self) -> list[Any]:
        """All values of the range, in order."""

    def __len__(self) -> int:
        return len(self.values())

    def __iter__(self):
        return iter(self.values())


def _check_count(owner: str, count: float) -> None:
    if count > MAX_RANGE_VALUES:
        raise SamplerError(
            f"{owner}: the range would hold {count:.0f} values, more than "
            f"MAX_RANGE_VALUES={MAX_RANGE_VALUES} (one rollout each); use a larger step "
            "or fewer values"
        )


class UniformRange(Range):
    """Evenly spaced values from ``start`` up to (not including) ``end``, by ``step``.

    ``name`` labels the range; ``dtype`` (a NumPy dtype, optional) is the type of the
    values, as in ``np.arange``.
    """

    def __init__(
        self,
        start: float,
        end: float,
        step: float = 1.0,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        owner = type(self).__name__
        self.name, self.dtype = _check_name(owner, name), _check_dtype(owner, dtype)
        name = owner
        start_f = pc.number(SamplerError, name, "start", start, finite=True)
        end_f = pc.number(SamplerError, name, "end", end, finite=True)
        step_f = pc.number(SamplerError, name, "step", step, finite=True)
        if step_f <= 0:
            raise SamplerError(f"{name}: step must be > 0, got {step}")
        if end_f < start_f:
            raise SamplerError(f"{name}: end ({end}) must be >= start ({start})")
        if end_f == start_f:
            raise SamplerError(
                f"{name}: end ({end}) equals start, so the range is empty (end is "
                f"excluded); use ListRange([{start!r}]) for a single value"
            )
        _check_count(name, math.ceil((end_f - start_f) / step_f))
        self.start, self.end, self.step = start, end, step

    def values(self) -> list[Any]:
        return np.arange(self.start, self.end, self.step, dtype=self.dtype).tolist()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.start}, {self.end}, {self.step}{_name_repr(self)})"


class LinspaceRange(Range):
    """``n`` evenly spaced values from ``start`` to ``end`` inclusive.

    ``name`` labels the range; ``dtype`` (a NumPy dtype, optional) is the type of the
    values, as in ``np.linspace``.
    """

    def __init__(
        self, start: float, end: float, n: int, name: str | None = None, dtype: Any = None
    ) -> None:
        owner = type(self).__name__
        self.name, self.dtype = _check_name(owner, name), _check_dtype(owner, dtype)
        name = owner
        pc.number(SamplerError, name, "start", start, finite=True)
        pc.number(SamplerError, name, "end", end, finite=True)
        if not pc.is_int(n) or n < 1:
            raise SamplerError(f"{name}: n must be an int >= 1, got {n!r}")
        _check_count(name, n)
        self.start, self.end, self.n = start, end, int(n)

    def values(self) -> list[Any]:
        return np.linspace(self.start, self.end, self.n, dtype=self.dtype).tolist()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.start}, {self.end}, {self.n}{_name_repr(self)})"


class UnitArrayUniformRange(UniformRange):
    """:class:`UniformRange` whose values are shape-``(1,)`` arrays (``np.array([x])``).

    Useful when the swept field feeds a ``Box(shape=(1,))`` observation directly.
    """

    def values(self) -> list[Any]:
        return [np.array([x]) for x in np.arange(self.start, self.end, self.step, dtype=self.dtype)]


class UnitArrayLinspaceRange(LinspaceRange):
    """:class:`LinspaceRange` whose values are shape-``(1,)`` arrays (``np.array([x])``)."""

    def values(self) -> list[Any]:
        return [np.array([x]) for x in np.linspace(self.start, self.end, self.n, dtype=self.dtype)]


class ListRange(Range):
    """An explicit, ordered list of values (not a string, not a set; no NaN)."""

    def __init__(self, values: Sequence[Any], name: str | None = None) -> None:
        self.name = _check_name("ListRange", name)
        self._values = pc.ordered_sequence(SamplerError, "ListRange", "values", values)
        if not self._values:
            raise SamplerError("ListRange: values must not be empty")
        _check_count("ListRange", len(self._values))
        for value in self._values:
            if isinstance(value, (float, np.floating)) and math.isnan(value):
                raise SamplerError(f"ListRange: values must not be NaN, got {self._values!r}")

    def values(self) -> list[Any]:
        return list(self._values)

    def __repr__(self) -> str:
        return f"ListRange({self._values!r}{_name_repr(self)})"


def _check_name(owner: str, name: Any) -> str | None:
    if name is not None and not isinstance(name, str):
        raise SamplerError(f"{owner}: name must be a string or None, got {name!r}")
    return name


def _check_dtype(owner: str, dtype: Any) -> Any:
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise SamplerError(
            f"{owner}: dtype must be a NumPy dtype such as float or 'int64', got {dtype!r}"
        ) from None
    if resolved.kind not in "iuf":
        raise SamplerError(f"{owner}: dtype must be an integer or float dtype, got {resolved}")
    return resolved


def _name_repr(rng: Range) -> str:
    return "" if rng.name is None else f", name={rng.name!r}"
