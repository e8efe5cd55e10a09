"""Samplers of single values: uniform, integer, normal and discrete distributions.

Each ``sample(rng)`` draws from the generator it is given (the environment passes the
one seeded by ``reset(seed=...)``); ``sample()`` draws unseeded (Phantom's form).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import paramchecks as pc
from ..errors import SamplerError
from .base import ComparableSampler, Sampler
from .checks import (
    Bounds,
    clip,
    clip_bounds,
    clip_repr,
    discrete_shape_and_bounds,
    generator,
    normal_bounds,
    normal_params,
    uniform_params,
)


class UniformFloatSampler(ComparableSampler[float]):
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
        params = uniform_params("UniformFloatSampler", low, high, clip_low, clip_high)
        self.low, self.high, self.clip_low, self.clip_high = params

    def sample(self, rng: np.random.Generator | None = None) -> float:
        value = float(generator("UniformFloatSampler", rng).uniform(self.low, self.high))
        return clip(value, self.clip_low, self.clip_high)

    def bounds(self) -> Bounds:
        return clip_bounds(self.low, self.high, self.clip_low, self.clip_high)

    def __repr__(self) -> str:
        return f"UniformFloatSampler(low={self.low}, high={self.high}{clip_repr(self)})"


class UniformIntSampler(ComparableSampler[int]):
    """Uniform integer in ``[low, high)`` (``high`` exclusive, as in NumPy).

    ``clip_low`` / ``clip_high`` (ints, optional) clip the draw, as in Phantom.
    """

    _pz_trusted_draws = True

    def __init__(
        self,
        low: int = 0,
        high: int = 1,
        clip_low: int | None = None,
        clip_high: int | None = None,
    ) -> None:
        name = "UniformIntSampler"
        for label, value in (("low", low), ("high", high)):
            if not pc.is_int(value):
                raise SamplerError(
                    f"{name}: {label} must be an int, got {value!r} "
                    f"({type(value).__name__}); for floats use UniformFloatSampler"
                )
        if not low < high:
            raise SamplerError(
                f"{name}: low ({low}) must be < high ({high}); high is exclusive, "
                f"so UniformIntSampler({low}, {low + 1}) always draws {low}"
            )
        for label, value in (("clip_low", clip_low), ("clip_high", clip_high)):
            if value is not None and not pc.is_int(value):
                raise SamplerError(f"{name}: {label} must be an int or None, got {value!r}")
        pc.clip_pair(SamplerError, name, clip_low, clip_high)
        pc.clip_overlaps(SamplerError, name, low, high - 1, clip_low, clip_high)
        self.low = int(low)
        self.high = int(high)
        self.clip_low = None if clip_low is None else int(clip_low)
        self.clip_high = None if clip_high is None else int(clip_high)

    def sample(self, rng: np.random.Generator | None = None) -> int:
        value = int(generator("UniformIntSampler", rng).integers(self.low, self.high))
        return int(clip(value, self.clip_low, self.clip_high))

    def bounds(self) -> Bounds:
        low, high = clip_bounds(self.low, self.high - 1, self.clip_low, self.clip_high)
        return (float(low), float(high))

    def __repr__(self) -> str:
        return f"UniformIntSampler(low={self.low}, high={self.high}{clip_repr(self)})"


class NormalSampler(ComparableSampler[float]):
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
        params = normal_params("NormalSampler", mu, sigma, clip_low, clip_high)
        self.mu, self.sigma, self.clip_low, self.clip_high = params

    def sample(self, rng: np.random.Generator | None = None) -> float:
        value = float(generator("NormalSampler", rng).normal(self.mu, self.sigma))
        return clip(value, self.clip_low, self.clip_high)

    def bounds(self) -> Bounds:
        return normal_bounds(self)

    def __repr__(self) -> str:
        return f"NormalSampler(mu={self.mu}, sigma={self.sigma}{clip_repr(self)})"


class DiscreteSampler(Sampler[Any]):
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
        self.shape, self._bounds = discrete_shape_and_bounds(self.values)

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

    def sample(self, rng: np.random.Generator | None = None) -> Any:
        chosen = generator("DiscreteSampler", rng).choice(len(self.values), p=self.probabilities)
        return self.values[int(chosen)]

    def bounds(self) -> Bounds:
        return self._bounds

    def __repr__(self) -> str:
        return f"DiscreteSampler(values={self.values!r})"
