"""Ranges: sets of values to sweep over in rollouts (one rollout per value).

A range placed in an env config or a supertype is expanded into a grid of
configurations by rollout utilities. During training and plain ``reset`` a range is
not a distribution: use a :mod:`~phantomzoo.samplers` sampler instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import SamplerError


class Range(ABC):
    """Base class of ranges: a finite, ordered list of values."""

    @abstractmethod
    def values(self) -> list[Any]:
        """All values of the range, in order."""

    def __len__(self) -> int:
        return len(self.values())

    def __iter__(self):
        return iter(self.values())


class UniformRange(Range):
    """Evenly spaced values from ``start`` up to (not including) ``end``, by ``step``."""

    def __init__(self, start: float, end: float, step: float = 1.0) -> None:
        if step <= 0:
            raise SamplerError(f"UniformRange: step must be > 0, got {step}")
        if end < start:
            raise SamplerError(f"UniformRange: end ({end}) must be >= start ({start})")
        self.start, self.end, self.step = start, end, step

    def values(self) -> list[Any]:
        return np.arange(self.start, self.end, self.step).tolist()

    def __repr__(self) -> str:
        return f"UniformRange({self.start}, {self.end}, {self.step})"


class LinspaceRange(Range):
    """``n`` evenly spaced values from ``start`` to ``end`` inclusive."""

    def __init__(self, start: float, end: float, n: int) -> None:
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise SamplerError(f"LinspaceRange: n must be an int >= 1, got {n!r}")
        self.start, self.end, self.n = start, end, int(n)

    def values(self) -> list[Any]:
        return np.linspace(self.start, self.end, self.n).tolist()

    def __repr__(self) -> str:
        return f"LinspaceRange({self.start}, {self.end}, {self.n})"


class ListRange(Range):
    """An explicit list of values."""

    def __init__(self, values: Sequence[Any]) -> None:
        self._values = list(values)
        if not self._values:
            raise SamplerError("ListRange: values must not be empty")

    def values(self) -> list[Any]:
        return list(self._values)

    def __repr__(self) -> str:
        return f"ListRange({self._values!r})"
