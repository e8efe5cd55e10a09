"""Checks shared by the samplers: parameter validation and "does this draw fit".

Kept apart from the sampler classes so that each sampler module holds one family of
distributions; nothing here draws a random number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import paramchecks as pc
from ..errors import SamplerError

INF = math.inf
Bounds = tuple[Any, Any]  # floats, or arrays of the sampler's shape


def generator(owner: str, rng: Any) -> np.random.Generator:
    """``rng`` itself, or a fresh **unseeded** generator when ``rng`` is ``None``.

    ``sample()`` without a generator is Phantom's calling form; its draws differ from
    run to run. The environment always passes its seeded generator.
    """
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise SamplerError(
            f"{owner}.sample(rng): rng must be a numpy Generator, got {rng!r} "
            f"({type(rng).__name__}); pass np.random.default_rng(seed), or nothing for an "
            "unseeded draw"
        )
    return rng


def is_numeric(value: Any) -> bool:
    """Whether ``value`` is a number or an array of numbers (bools included)."""
    if isinstance(value, (float, int, np.number, np.bool_)):
        return True
    try:
        return np.asarray(value).dtype.kind in "biuf"
    except Exception:  # noqa: BLE001 - arbitrary user objects: not numeric
        return False


def draw_problem(value: Any, shape: tuple[int, ...], bounds: Bounds) -> str | None:
    """Why ``value`` does not fit ``shape`` and ``bounds`` (``None`` if it does)."""
    if not is_numeric(value):
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


def check_shape(owner: str, shape: Any) -> tuple[int, ...]:
    """``shape`` (an int or a tuple of ints >= 1; ``()`` for one number) as a tuple."""
    if pc.is_int(shape):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(pc.is_int(n) and n >= 1 for n in shape):
        raise SamplerError(
            f"{owner}: shape must be a tuple of ints >= 1 (or () for one number), got {shape!r}"
        )
    return tuple(int(n) for n in shape)


def check_bounds_pair(owner: str, bounds: Any, shape: tuple[int, ...]) -> Bounds:
    """A user's ``(low, high)``: numbers or arrays of ``shape``, no NaN, ``low <= high``."""
    if (
        isinstance(bounds, (str, bytes))
        or not isinstance(bounds, (tuple, list))
        or len(bounds) != 2
    ):
        raise SamplerError(f"{owner}: bounds must be a (low, high) pair, got {bounds!r}")
    out = []
    for label, bound in zip(("low", "high"), bounds):
        if pc.is_number(bound):
            out.append(pc.number(SamplerError, owner, f"bounds {label}", bound))
            continue
        numeric = is_numeric(bound) and not isinstance(bound, (bool, np.bool_))
        array = np.asarray(bound, dtype=float) if numeric else None
        if array is None or array.shape != shape or np.isnan(array).any():
            raise SamplerError(
                f"{owner}: bounds {label} must be a number or an array of shape {shape} "
                f"without NaN, got {bound!r}"
            )
        out.append(array)
    if np.any(np.asarray(out[0]) > np.asarray(out[1])):
        raise SamplerError(f"{owner}: bounds low {bounds[0]} must be <= high {bounds[1]}")
    return (out[0], out[1])


def discrete_shape_and_bounds(values: list[Any]) -> tuple[tuple[int, ...], Bounds]:
    """The common shape and element-wise bounds of a DiscreteSampler's numeric values."""
    if not all(is_numeric(v) for v in values):
        return (), (-INF, INF)
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


def clip(value: float, low: float | None, high: float | None) -> float:
    """``value`` clipped to the optional bounds."""
    if low is not None and value < low:
        return float(low)
    if high is not None and value > high:
        return float(high)
    return value


def clip_array(value: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    """``value`` clipped element-wise to the optional bounds."""
    if low is None and high is None:
        return value
    return np.clip(value, low, high)


def clip_bounds(
    low: float, high: float, clip_low: float | None, clip_high: float | None
) -> tuple[float, float]:
    """The range ``[low, high]`` narrowed by the optional clip bounds."""
    if clip_low is not None:
        low = max(low, clip_low)
    if clip_high is not None:
        high = min(high, clip_high)
    return (low, high)


def clip_repr(sampler: Any) -> str:
    """The ``, clip_low=..., clip_high=...`` part of a sampler's repr."""
    out = ""
    if sampler.clip_low is not None:
        out += f", clip_low={sampler.clip_low}"
    if sampler.clip_high is not None:
        out += f", clip_high={sampler.clip_high}"
    return out


def uniform_params(owner: str, low: Any, high: Any, clip_low: Any, clip_high: Any) -> tuple:
    """Validated ``(low, high, clip_low, clip_high)`` of a uniform distribution."""
    low_f = pc.number(SamplerError, owner, "low", low, finite=True)
    high_f = pc.number(SamplerError, owner, "high", high, finite=True)
    if not low_f <= high_f:
        raise SamplerError(f"{owner}: low ({low}) must be <= high ({high}); swap them")
    clip_low_f, clip_high_f = pc.clip_pair(SamplerError, owner, clip_low, clip_high)
    pc.clip_overlaps(SamplerError, owner, low_f, high_f, clip_low_f, clip_high_f)
    return low_f, high_f, clip_low_f, clip_high_f


def normal_params(owner: str, mu: Any, sigma: Any, clip_low: Any, clip_high: Any) -> tuple:
    """Validated ``(mu, sigma, clip_low, clip_high)`` of a normal distribution."""
    mu_f = pc.number(SamplerError, owner, "mu", mu, finite=True)
    sigma_f = pc.number(SamplerError, owner, "sigma", sigma, finite=True)
    if sigma_f < 0:
        raise SamplerError(f"{owner}: sigma must be >= 0, got {sigma}")
    clip_low_f, clip_high_f = pc.clip_pair(SamplerError, owner, clip_low, clip_high)
    return mu_f, sigma_f, clip_low_f, clip_high_f


def normal_bounds(sampler: Any) -> tuple[float, float]:
    """Bounds of a (possibly clipped) normal draw: ``mu`` itself when ``sigma`` is 0."""
    if sampler.sigma == 0:
        return clip_bounds(sampler.mu, sampler.mu, sampler.clip_low, sampler.clip_high)
    return clip_bounds(-INF, INF, sampler.clip_low, sampler.clip_high)
