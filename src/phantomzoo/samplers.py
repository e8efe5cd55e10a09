"""Samplers: distributions a :class:`~phantomzoo.Supertype` field is drawn from.

Every sampler draws from the ``numpy.random.Generator`` it is given; the environment
passes the generator seeded by ``reset(seed=...)``, so a seed fixes every draw.

**Shared or independent draws.** One sampler object used by several agents (or several
fields) gives each use its *own, independent* draw: ``budget = UniformFloatSampler(0, 1)``
put in ten agents' supertypes gives ten different budgets. To give every use the *same*
draw per episode, wrap it: ``Shared(UniformFloatSampler(0, 1))`` (or call
``.shared()``); every field holding that one ``Shared`` object receives one common value
per episode.

**Shapes.** Every sampler declares the shape of its draws in :attr:`Sampler.shape`:
``()`` (one number) for the built-in samplers, the common shape of the values for a
:class:`DiscreteSampler` over equally shaped arrays, and whatever is passed as
``shape=`` for a :class:`LambdaSampler` (default ``()``). A type-augmented observation
gets one entry per element of that shape. A draw whose shape differs from the declared
one (or that leaves the declared bounds) is refused when the supertype is sampled, with
the field named; see :meth:`Sampler.check_draw`.

Every constructor validates its parameters and raises
:class:`~phantomzoo.errors.SamplerError` naming the parameter and the fix.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import paramchecks as pc
from .errors import SamplerError

_INF = math.inf
Bounds = tuple[Any, Any]  # floats, or arrays of the sampler's shape


class Sampler(ABC):
    """Base class of samplers. Subclasses implement :meth:`sample` (and :meth:`bounds`).

    Attributes:
        shape: Shape of every draw; ``()`` for a single number.
    """

    shape: tuple[int, ...] = ()
    #: True when draws are guaranteed to fit :attr:`shape` and :meth:`bounds` by
    #: construction, so :meth:`check_draw` can be skipped (the built-in samplers).
    _pz_trusted_draws = False

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value using ``rng``."""

    def bounds(self) -> Bounds:
        """The smallest and largest value a draw can take (used for observation spaces)."""
        return (-_INF, _INF)

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
        return _draw_problem(value, self.shape, self.bounds())


class Shared(Sampler):
    """Wraps a sampler so that all fields holding this object get one draw per episode."""

    def __init__(self, sampler: Sampler) -> None:
        if not isinstance(sampler, Sampler):
            raise SamplerError(f"Shared(...) needs a Sampler, got {sampler!r}")
        if isinstance(sampler, Shared):
            raise SamplerError("Shared(Shared(...)): the sampler is already shared; wrap it once")
        self.sampler = sampler
        self.shape = sampler.shape
        self._pz_trusted_draws = sampler._pz_trusted_draws

    def sample(self, rng: np.random.Generator) -> Any:
        return self.sampler.sample(rng)

    def bounds(self) -> Bounds:
        return self.sampler.bounds()

    def check_draw(self, value: Any) -> str | None:
        return self.sampler.check_draw(value)

    def __repr__(self) -> str:
        return f"Shared({self.sampler!r})"


class UniformFloatSampler(Sampler):
    """Uniform float in ``[low, high)``, optionally clipped to ``[clip_low, clip_high]``.

    ``low`` and ``high`` must be finite (a uniform distribution over an infinite range
    does not exist); clip bounds must not exclude the whole range.
    """

    _pz_trusted_draws = True

    def __init__(
        self,
        low: float = 0.0,
        high: float = 1.0,
        clip_low: float | None = None,
        clip_high: float | None = None,
    ) -> None:
        name = "UniformFloatSampler"
        self.low = pc.number(SamplerError, name, "low", low, finite=True)
        self.high = pc.number(SamplerError, name, "high", high, finite=True)
        if not self.low <= self.high:
            raise SamplerError(f"{name}: low ({low}) must be <= high ({high}); swap them")
        self.clip_low, self.clip_high = pc.clip_pair(SamplerError, name, clip_low, clip_high)
        pc.clip_overlaps(SamplerError, name, self.low, self.high, self.clip_low, self.clip_high)

    def sample(self, rng: np.random.Generator) -> float:
        value = float(rng.uniform(self.low, self.high))
        return _clip(value, self.clip_low, self.clip_high)

    def bounds(self) -> Bounds:
        return _clip_bounds(self.low, self.high, self.clip_low, self.clip_high)

    def __repr__(self) -> str:
        return f"UniformFloatSampler(low={self.low}, high={self.high}{_clip_repr(self)})"


class UniformIntSampler(Sampler):
    """Uniform integer in ``[low, high)`` (``high`` exclusive, as in NumPy)."""

    _pz_trusted_draws = True

    def __init__(self, low: int = 0, high: int = 1) -> None:
        for name, value in (("low", low), ("high", high)):
            if not pc.is_int(value):
                raise SamplerError(
                    f"UniformIntSampler: {name} must be an int, got {value!r} "
                    f"({type(value).__name__}); for floats use UniformFloatSampler"
                )
        if not low < high:
            raise SamplerError(
                f"UniformIntSampler: low ({low}) must be < high ({high}); high is exclusive, "
                f"so UniformIntSampler({low}, {low + 1}) always draws {low}"
            )
        self.low = int(low)
        self.high = int(high)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high))

    def bounds(self) -> Bounds:
        return (float(self.low), float(self.high - 1))

    def __repr__(self) -> str:
        return f"UniformIntSampler(low={self.low}, high={self.high})"


class NormalSampler(Sampler):
    """Normal distribution ``N(mu, sigma**2)``, optionally clipped.

    ``mu`` and ``sigma`` must be finite and ``sigma >= 0`` (``0`` always draws ``mu``).
    """

    _pz_trusted_draws = True

    def __init__(
        self,
        mu: float = 0.0,
        sigma: float = 1.0,
        clip_low: float | None = None,
        clip_high: float | None = None,
    ) -> None:
        name = "NormalSampler"
        self.mu = pc.number(SamplerError, name, "mu", mu, finite=True)
        self.sigma = pc.number(SamplerError, name, "sigma", sigma, finite=True)
        if self.sigma < 0:
            raise SamplerError(f"{name}: sigma must be >= 0, got {sigma}")
        self.clip_low, self.clip_high = pc.clip_pair(SamplerError, name, clip_low, clip_high)

    def sample(self, rng: np.random.Generator) -> float:
        return _clip(float(rng.normal(self.mu, self.sigma)), self.clip_low, self.clip_high)

    def bounds(self) -> Bounds:
        if self.sigma == 0:
            return _clip_bounds(self.mu, self.mu, self.clip_low, self.clip_high)
        return _clip_bounds(-_INF, _INF, self.clip_low, self.clip_high)

    def __repr__(self) -> str:
        return f"NormalSampler(mu={self.mu}, sigma={self.sigma}{_clip_repr(self)})"


class DiscreteSampler(Sampler):
    """One of ``values``, chosen with ``probabilities`` (uniform when omitted).

    ``values`` is an ordered, non-empty list (not a string or a set). When every value
    is numeric they must share one shape (numbers, or arrays of one shape), which
    becomes :attr:`shape`; the bounds are then their element-wise minimum and maximum.
    Probabilities must be finite numbers ``>= 0``, one per value, summing to 1.
    """

    _pz_trusted_draws = True  # the values are checked once, here

    def __init__(self, values: Sequence[Any], probabilities: Sequence[float] | None = None):
        name = "DiscreteSampler"
        self.values = pc.ordered_sequence(SamplerError, name, "values", values)
        if not self.values:
            raise SamplerError(f"{name}: values must not be empty")
        self.probabilities = None if probabilities is None else self._check_probs(probabilities)
        self.shape, self._bounds = _discrete_shape_and_bounds(self.values)

    def _check_probs(self, probabilities: Sequence[float]) -> np.ndarray:
        name = "DiscreteSampler"
        items = pc.ordered_sequence(SamplerError, name, "probabilities", probabilities)
        if len(items) != len(self.values):
            raise SamplerError(
                f"{name}: got {len(self.values)} values but {len(items)} probabilities; "
                "give one probability per value"
            )
        probs = np.array(
            [pc.number(SamplerError, name, "every probability", p, finite=True) for p in items]
        )
        if np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
            raise SamplerError(
                f"{name}: probabilities must be >= 0 and sum to 1, "
                f"got {items} (sum {probs.sum():.4g})"
            )
        total = probs.sum()
        # numpy's own tolerance is tighter than isclose's: renormalise only if needed,
        # so exact distributions keep drawing bit-identically.
        return probs if total == 1.0 else probs / total

    def sample(self, rng: np.random.Generator) -> Any:
        index = int(rng.choice(len(self.values), p=self.probabilities))
        return self.values[index]

    def bounds(self) -> Bounds:
        return self._bounds

    def __repr__(self) -> str:
        return f"DiscreteSampler(values={self.values!r})"


class LambdaSampler(Sampler):
    """Calls ``func(rng, *args, **kwargs)``; draw only from the ``rng`` it receives.

    Args:
        func: Called with the episode's generator first, then ``args`` and ``kwargs``.
        bounds: Optional ``(low, high)`` of the values ``func`` returns: numbers (for
            every element) or arrays of ``shape``, with ``low <= high``. A draw outside
            them is an error naming the field.
        shape: Shape of what ``func`` returns: ``()`` (default) for one number,
            ``(3,)`` for a 3-vector, and so on. Type-augmented observations get one
            entry per element; a draw of another shape is an error naming the field.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *args: Any,
        bounds: tuple[Any, Any] | None = None,
        shape: tuple[int, ...] | int = (),
        **kwargs: Any,
    ) -> None:
        if not callable(func):
            raise SamplerError(f"LambdaSampler: func must be callable, got {func!r}")
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.shape = _check_shape(shape)
        self._bounds = None if bounds is None else _check_lambda_bounds(bounds, self.shape)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.func(rng, *self.args, **self.kwargs)

    def bounds(self) -> Bounds:
        return self._bounds if self._bounds is not None else (-_INF, _INF)

    def check_draw(self, value: Any) -> str | None:
        problem = _draw_problem(value, self.shape, self.bounds())
        if problem is None and self._bounds is not None and not _is_numeric(value):
            return f"drew {value!r}, which is not a number, but bounds={self._bounds} were given"
        return problem

    def __repr__(self) -> str:
        name = getattr(self.func, "__qualname__", repr(self.func))
        return f"LambdaSampler({name}, shape={self.shape}, bounds={self._bounds})"


# ------------------------------------------------------------------ helpers
def _is_numeric(value: Any) -> bool:
    if isinstance(value, (float, int, np.number, np.bool_)):
        return True
    try:
        return np.asarray(value).dtype.kind in "biuf"
    except Exception:  # noqa: BLE001 - arbitrary user objects: not numeric
        return False


def _draw_problem(value: Any, shape: tuple[int, ...], bounds: Bounds) -> str | None:
    """Why ``value`` does not fit ``shape`` and ``bounds`` (``None`` if it does)."""
    if not _is_numeric(value):
        if shape != ():
            return f"promised shape {shape} but drew {value!r}, which is not a numeric array"
        return None
    array = np.asarray(value, dtype=float)
    if array.shape != shape:
        return (
            f"promised shape {shape} but drew shape {array.shape} ({value!r}); declare the "
            f"shape the sampler returns, e.g. LambdaSampler(func, shape={array.shape})"
        )
    if np.isnan(array).any():
        return f"drew NaN ({value!r}); samplers must draw numbers"
    low, high = bounds
    if np.any(array < low) or np.any(array > high):
        return f"drew {value!r}, outside its declared bounds ({low}, {high})"
    return None


def _check_shape(shape: Any) -> tuple[int, ...]:
    if pc.is_int(shape):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(pc.is_int(n) and n >= 1 for n in shape):
        raise SamplerError(
            f"LambdaSampler: shape must be a tuple of ints >= 1 (or () for one number), "
            f"got {shape!r}"
        )
    return tuple(int(n) for n in shape)


def _check_lambda_bounds(bounds: Any, shape: tuple[int, ...]) -> Bounds:
    name = "LambdaSampler"
    if (
        isinstance(bounds, (str, bytes))
        or not isinstance(bounds, (tuple, list))
        or len(bounds) != 2
    ):
        raise SamplerError(f"{name}: bounds must be a (low, high) pair, got {bounds!r}")
    out = []
    for label, bound in zip(("low", "high"), bounds):
        if pc.is_number(bound):
            out.append(pc.number(SamplerError, name, f"bounds {label}", bound))
            continue
        numeric = _is_numeric(bound) and not isinstance(bound, (bool, np.bool_))
        array = np.asarray(bound, dtype=float) if numeric else None
        if array is None or array.shape != shape or np.isnan(array).any():
            raise SamplerError(
                f"{name}: bounds {label} must be a number or an array of shape {shape} "
                f"without NaN, got {bound!r}"
            )
        out.append(array)
    if np.any(np.asarray(out[0]) > np.asarray(out[1])):
        raise SamplerError(f"{name}: bounds low {bounds[0]} must be <= high {bounds[1]}")
    return (out[0], out[1])


def _discrete_shape_and_bounds(values: list[Any]) -> tuple[tuple[int, ...], Bounds]:
    if not all(_is_numeric(v) for v in values):
        return (), (-_INF, _INF)
    arrays = [np.asarray(v, dtype=float) for v in values]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise SamplerError(
            f"DiscreteSampler: numeric values must all have one shape, got shapes "
            f"{sorted(shapes)}; use values of one shape"
        )
    if any(np.isnan(a).any() for a in arrays):
        raise SamplerError("DiscreteSampler: values must not be NaN")
    stacked = np.stack(arrays)
    shape = arrays[0].shape
    if shape == ():
        return (), (float(stacked.min()), float(stacked.max()))
    return shape, (stacked.min(axis=0), stacked.max(axis=0))


def _clip(value: float, low: float | None, high: float | None) -> float:
    if low is not None and value < low:
        return float(low)
    if high is not None and value > high:
        return float(high)
    return value


def _clip_bounds(
    low: float, high: float, clip_low: float | None, clip_high: float | None
) -> tuple[float, float]:
    if clip_low is not None:
        low = max(low, clip_low)
    if clip_high is not None:
        high = min(high, clip_high)
    return (low, high)


def _clip_repr(sampler: Any) -> str:
    out = ""
    if sampler.clip_low is not None:
        out += f", clip_low={sampler.clip_low}"
    if sampler.clip_high is not None:
        out += f", clip_high={sampler.clip_high}"
    return out
