"""Samplers of arrays: every element drawn independently (Phantom's array samplers).

``UniformArraySampler(0, 1, shape=(3,))`` draws a float array of shape ``(3,)``; a
type-augmented observation gets one entry per element. As with the scalar samplers,
``sample(rng)`` draws from the given generator and ``sample()`` draws unseeded.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .base import ComparableSampler
from .checks import (
    Bounds,
    check_shape,
    clip_array,
    clip_bounds,
    clip_repr,
    generator,
    normal_bounds,
    normal_params,
    uniform_params,
)


class UniformArraySampler(ComparableSampler[np.ndarray]):
    """An array of ``shape`` with elements uniform in ``[low, high)``, optionally clipped.

    ``low``/``high`` are finite numbers shared by every element; ``shape`` is an int or
    a tuple of ints >= 1 (default ``(1,)``, as in Phantom).
    """

    _pz_trusted_draws = True

    def __init__(
        self,
        low: float = 0.0,
        high: float = 1.0,
        shape: Iterable[int] | int = (1,),
        clip_low: float | None = None,
        clip_high: float | None = None,
    ) -> None:
        name = "UniformArraySampler"
        params = uniform_params(name, low, high, clip_low, clip_high)
        self.low, self.high, self.clip_low, self.clip_high = params
        self.shape = check_shape(name, shape)

    def sample(self, rng: np.random.Generator | None = None) -> np.ndarray:
        gen = generator("UniformArraySampler", rng)
        return clip_array(
            gen.uniform(self.low, self.high, self.shape), self.clip_low, self.clip_high
        )

    def bounds(self) -> Bounds:
        return clip_bounds(self.low, self.high, self.clip_low, self.clip_high)

    def __repr__(self) -> str:
        return (
            f"UniformArraySampler(low={self.low}, high={self.high}, shape={self.shape}"
            f"{clip_repr(self)})"
        )


class NormalArraySampler(ComparableSampler[np.ndarray]):
    """An array of ``shape`` with elements ``N(mu, sigma**2)``, optionally clipped.

    ``mu``/``sigma`` are finite numbers shared by every element, ``sigma >= 0``;
    ``shape`` is an int or a tuple of ints >= 1 (default ``(1,)``, as in Phantom).
    """

    _pz_trusted_draws = True

    def __init__(
        self,
        mu: float = 0.0,
        sigma: float = 1.0,
        shape: Iterable[int] | int = (1,),
        clip_low: float | None = None,
        clip_high: float | None = None,
    ) -> None:
        name = "NormalArraySampler"
        self.mu, self.sigma, self.clip_low, self.clip_high = normal_params(
            name, mu, sigma, clip_low, clip_high
        )
        self.shape = check_shape(name, shape)

    def sample(self, rng: np.random.Generator | None = None) -> np.ndarray:
        gen = generator("NormalArraySampler", rng)
        return clip_array(
            gen.normal(self.mu, self.sigma, self.shape), self.clip_low, self.clip_high
        )

    def bounds(self) -> Bounds:
        return normal_bounds(self)

    def __repr__(self) -> str:
        return (
            f"NormalArraySampler(mu={self.mu}, sigma={self.sigma}, shape={self.shape}"
            f"{clip_repr(self)})"
        )
