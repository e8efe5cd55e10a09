"""Samplers: distributions a :class:`~phantomzoo.Supertype` field is drawn from.

Every sampler draws from the ``numpy.random.Generator`` it is given; the environment
passes the generator seeded by ``reset(seed=...)``, so a seed fixes every draw.

**Shared or independent draws.** One sampler object used by several agents (or several
fields) gives each use its *own, independent* draw: ``budget = UniformFloatSampler(0, 1)``
put in ten agents' supertypes gives ten different budgets. To give every use the *same*
draw per episode, wrap it: ``Shared(UniformFloatSampler(0, 1))`` (or call
``.shared()``); every field holding that one ``Shared`` object receives one common value
per episode.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .errors import SamplerError

_INF = math.inf


def _finite(name: str, value: Any, owner: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise SamplerError(f"{owner}: {name} must be a number, got {value!r}") from None
    if math.isnan(out):
        raise SamplerError(f"{owner}: {name} must not be NaN")
    return out


class Sampler(ABC):
    """Base class of samplers. Subclasses implement :meth:`sample` and :meth:`bounds`."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one value using ``rng``."""

    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value a draw can take (used for observation spaces)."""
        return (-_INF, _INF)

    def shared(self) -> Shared:
        """This sampler wrapped so that every use gets one common draw per episode."""
        return Shared(self)


class Shared(Sampler):
    """Wraps a sampler so that all fields holding this object get one draw per episode."""

    def __init__(self, sampler: Sampler) -> None:
        if not isinstance(sampler, Sampler):
            raise SamplerError(f"Shared(...) needs a Sampler, got {sampler!r}")
        self.sampler = sampler

    def sample(self, rng: np.random.Generator) -> Any:
        return self.sampler.sample(rng)

    def bounds(self) -> tuple[float, float]:
        return self.sampler.bounds()

    def __repr__(self) -> str:
        return f"Shared({self.sampler!r})"


class UniformFloatSampler(Sampler):
    """Uniform float in ``[low, high)``, optionally clipped to ``[clip_low, clip_high]``."""

    def __init__(
        self,
        low: float = 0.0,
        high: float = 1.0,
        clip_low: float | None = None,
        clip_high: float | None = None,
    ) -> None:
        name = "UniformFloatSampler"
        self.low = _finite("low", low, name)
        self.high = _finite("high", high, name)
        if not self.low <= self.high:
            raise SamplerError(f"{name}: low ({low}) must be <= high ({high}); swap them")
        self.clip_low = clip_low
        self.clip_high = clip_high

    def sample(self, rng: np.random.Generator) -> float:
        value = float(rng.uniform(self.low, self.high))
        return _clip(value, self.clip_low, self.clip_high)

    def bounds(self) -> tuple[float, float]:
        return _clip_bounds(self.low, self.high, self.clip_low, self.clip_high)

    def __repr__(self) -> str:
        return f"UniformFloatSampler(low={self.low}, high={self.high})"


class UniformIntSampler(Sampler):
    """Uniform integer in ``[low, high)`` (``high`` exclusive, as in NumPy)."""

    def __init__(self, low: int = 0, high: int = 1) -> None:
        for name, value in (("low", low), ("high", high)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise SamplerError(f"UniformIntSampler: {name} must be an int, got {value!r}")
        if not low < high:
            raise SamplerError(
                f"UniformIntSampler: low ({low}) must be < high ({high}); high is exclusive, "
                f"so UniformIntSampler({low}, {low + 1}) always draws {low}"
            )
        self.low = int(low)
        self.high = int(high)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high))

    def bounds(self) -> tuple[float, float]:
        return (float(self.low), float(self.high - 1))

    def __repr__(self) -> str:
        return f"UniformIntSampler(low={self.low}, high={self.high})"


class NormalSampler(Sampler):
    """Normal distribution ``N(mu, sigma**2)``, optionally clipped."""

    def __init__(
        self,
        mu: float = 0.0,
        sigma: float = 1.0,
        clip_low: float | None = None,
        clip_high: float | None = None,
    ) -> None:
        self.mu = _finite("mu", mu, "NormalSampler")
        self.sigma = _finite("sigma", sigma, "NormalSampler")
        if self.sigma < 0:
            raise SamplerError(f"NormalSampler: sigma must be >= 0, got {sigma}")
        if clip_low is not None and clip_high is not None and clip_low > clip_high:
            raise SamplerError(
                f"NormalSampler: clip_low ({clip_low}) must be <= clip_high ({clip_high})"
            )
        self.clip_low = clip_low
        self.clip_high = clip_high

    def sample(self, rng: np.random.Generator) -> float:
        return _clip(float(rng.normal(self.mu, self.sigma)), self.clip_low, self.clip_high)

    def bounds(self) -> tuple[float, float]:
        return _clip_bounds(-_INF, _INF, self.clip_low, self.clip_high)

    def __repr__(self) -> str:
        return f"NormalSampler(mu={self.mu}, sigma={self.sigma})"


class DiscreteSampler(Sampler):
    """One of ``values``, chosen with ``probabilities`` (uniform when omitted)."""

    def __init__(self, values: Sequence[Any], probabilities: Sequence[float] | None = None):
        self.values = list(values)
        if not self.values:
            raise SamplerError("DiscreteSampler: values must not be empty")
        if probabilities is None:
            self.probabilities = None
        else:
            probs = np.asarray(probabilities, dtype=float)
            if probs.shape != (len(self.values),):
                raise SamplerError(
                    f"DiscreteSampler: got {len(self.values)} values but "
                    f"{probs.size} probabilities; give one probability per value"
                )
            if np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
                raise SamplerError(
                    "DiscreteSampler: probabilities must be >= 0 and sum to 1, "
                    f"got {list(probabilities)} (sum {probs.sum():.4g})"
                )
            self.probabilities = probs

    def sample(self, rng: np.random.Generator) -> Any:
        index = int(rng.choice(len(self.values), p=self.probabilities))
        return self.values[index]

    def bounds(self) -> tuple[float, float]:
        try:
            numeric = [float(v) for v in self.values]
        except (TypeError, ValueError):
            return (-_INF, _INF)
        return (min(numeric), max(numeric))

    def __repr__(self) -> str:
        return f"DiscreteSampler(values={self.values!r})"


class LambdaSampler(Sampler):
    """Calls ``func(rng, *args, **kwargs)``; draw only from the ``rng`` it receives.

    Args:
        func: Called with the episode's generator first, then ``args`` and ``kwargs``.
        bounds: Optional ``(low, high)`` of the values ``func`` returns.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *args: Any,
        bounds: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(func):
            raise SamplerError(f"LambdaSampler: func must be callable, got {func!r}")
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self._bounds = bounds

    def sample(self, rng: np.random.Generator) -> Any:
        return self.func(rng, *self.args, **self.kwargs)

    def bounds(self) -> tuple[float, float]:
        return self._bounds if self._bounds is not None else (-_INF, _INF)


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
