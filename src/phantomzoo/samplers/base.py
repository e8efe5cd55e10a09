"""The sampler base classes: :class:`Sampler`, :class:`ComparableSampler`, :class:`Shared`.

A sampler draws one value per call of ``sample(rng)``. Two calling forms work:

* ``sample(rng)`` with a ``numpy.random.Generator``: the form the environment uses,
  reproducible from the seed given to ``reset(seed=...)``;
* ``sample()`` (Phantom's form): draws from a fresh, **unseeded** generator, so the
  value differs from run to run.

A subclass may define ``sample(self, rng)`` (recommended) or Phantom's ``sample(self)``
(it then draws from wherever it likes, typically unseeded); either way
``sampler.sample(rng)`` and ``sampler.sample()`` both work on it, and the last draw is
kept in :attr:`Sampler.value`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import numpy as np

from ..errors import SamplerError
from .checks import INF, Bounds, draw_problem

T = TypeVar("T")


class Sampler(ABC, Generic[T]):
    """Base class of samplers. Subclasses implement :meth:`sample` (and :meth:`bounds`).

    Attributes:
        shape: Shape of every draw; ``()`` for a single number.
        value: The most recent draw (``None`` before the first one).
    """

    shape: tuple[int, ...] = ()
    #: True when draws are guaranteed to fit :attr:`shape` and :meth:`bounds` by
    #: construction, so :meth:`check_draw` can be skipped (the built-in samplers).
    _pz_trusted_draws = False
    _value: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("sample")
        if own is not None and not getattr(own, "__isabstractmethod__", False):
            cls.sample = _remembering(own)  # type: ignore[method-assign]

    @abstractmethod
    def sample(self, rng: np.random.Generator | None = None) -> T:
        """Draw one value from ``rng`` (a fresh unseeded generator when omitted)."""

    @property
    def value(self) -> T | None:
        """The most recent draw of this sampler (``None`` before the first)."""
        return self._value

    @value.setter
    def value(self, value: T | None) -> None:
        self._value = value

    def bounds(self) -> Bounds:
        """The smallest and largest value a draw can take (used for observation spaces)."""
        return (-INF, INF)

    def shared(self) -> Shared:
        """This sampler wrapped so that every use gets one common draw per episode."""
        return Shared(self)

    def check_draw(self, value: Any) -> str | None:
        """What is wrong with ``value`` as a draw of this sampler, or ``None`` if nothing.

        A numeric draw must have :attr:`shape`, must not be NaN and must lie within
        :meth:`bounds`. Non-numeric draws (strings, objects) are left alone: they are
        fine as long as the type is not flattened into an observation.
        """
        if self._pz_trusted_draws:
            return None
        return draw_problem(value, self.shape, self.bounds())


def _takes_rng(func: Callable[..., Any]) -> bool:
    """Whether a ``sample`` method accepts an argument besides ``self``."""
    try:
        parameters = list(inspect.signature(func).parameters.values())[1:]
    except (TypeError, ValueError):
        return True
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    return any(p.kind in positional for p in parameters)


def _remembering(own: Callable[..., Any]) -> Callable[..., Any]:
    """``own`` as a ``sample(self, rng=None)`` that keeps its draw in ``self._value``.

    A Phantom-style ``sample(self)`` is called without the generator.
    """
    if _takes_rng(own):

        def sample(self: Sampler[Any], rng: np.random.Generator | None = None) -> Any:
            value = own(self, rng)
            self._value = value
            return value
    else:

        def sample(self: Sampler[Any], rng: np.random.Generator | None = None) -> Any:
            value = own(self)
            self._value = value
            return value

    sample.__doc__ = own.__doc__
    sample.__name__ = getattr(own, "__name__", "sample")
    sample.__qualname__ = getattr(own, "__qualname__", "sample")
    sample._pz_original = own  # type: ignore[attr-defined]
    return sample


class ComparableSampler(Sampler[T]):
    """A sampler that compares like its most recent draw (Phantom's ``ComparableSampler``).

    ``s < x``, ``s <= x``, ``s > x``, ``s >= x``, ``s == x`` and ``s != x`` compare
    :attr:`value` with ``x`` (for array samplers, element-wise, as NumPy does). Two
    samplers are equal only when they are the same object, so ``s in [a, b]`` asks
    "is it one of these samplers"; ordering two samplers is refused. Samplers stay
    hashable (by identity). Arithmetic is not defined: use ``s.value``.

    Raises:
        SamplerError: ordering a sampler that has not drawn yet, or two samplers.
    """

    __hash__ = Sampler.__hash__

    def _other(self, other: Any, op: str) -> Any:
        if isinstance(other, Sampler):
            raise SamplerError(
                f"cannot order two samplers ({self!r} {op} {other!r}); compare their "
                f"drawn values instead: a.value {op} b.value"
            )
        if self._value is None:
            raise SamplerError(
                f"{self!r} has not drawn a value yet, so `sampler {op} {other!r}` has no "
                "answer; call sampler.sample(rng) first (the environment does on reset)"
            )
        return self._value

    def __lt__(self, other: Any) -> Any:
        return self._other(other, "<") < other

    def __le__(self, other: Any) -> Any:
        return self._other(other, "<=") <= other

    def __gt__(self, other: Any) -> Any:
        return self._other(other, ">") > other

    def __ge__(self, other: Any) -> Any:
        return self._other(other, ">=") >= other

    def __eq__(self, other: object) -> Any:
        if isinstance(other, Sampler):
            return self is other
        return self._value == other

    def __ne__(self, other: object) -> Any:
        if isinstance(other, Sampler):
            return self is not other
        return self._value != other


class Shared(Sampler[T]):
    """Wraps a sampler so that all fields holding this object get one draw per episode."""

    def __init__(self, sampler: Sampler[T]) -> None:
        if not isinstance(sampler, Sampler):
            raise SamplerError(f"Shared(...) needs a Sampler, got {sampler!r}")
        if isinstance(sampler, Shared):
            raise SamplerError("Shared(Shared(...)): the sampler is already shared; wrap it once")
        self.sampler = sampler
        self.shape = sampler.shape
        self._pz_trusted_draws = sampler._pz_trusted_draws

    def sample(self, rng: np.random.Generator | None = None) -> T:
        return self.sampler.sample(rng)

    def bounds(self) -> Bounds:
        return self.sampler.bounds()

    def check_draw(self, value: Any) -> str | None:
        return self.sampler.check_draw(value)

    def __repr__(self) -> str:
        return f"Shared({self.sampler!r})"


def draw_value(
    value: Any, rng: np.random.Generator | None, shared_draws: dict[int, Any] | None = None
) -> Any:
    """``value`` itself, or one draw when it is a sampler (what a field or rate holds).

    A :class:`Shared` sampler is drawn once per ``shared_draws`` mapping (one episode):
    later calls with the same mapping return the same draw. ``rng=None`` draws unseeded.
    """
    if not isinstance(value, Sampler):
        return value
    if isinstance(value, Shared) and shared_draws is not None:
        key = id(value)
        if key not in shared_draws:
            shared_draws[key] = value.sample(rng)
        return shared_draws[key]
    return value.sample(rng)
