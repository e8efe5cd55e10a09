"""Checks of the numeric parameters users give samplers, ranges and the like.

Each check either returns the value in a normalised form or raises the error class it
is given, with a message naming the owner (``"UniformFloatSampler"``), the parameter
and what was wrong. ``bool`` is refused wherever a number is expected: ``True`` passed
as a bound or a probability is always a slip, never a deliberate 1.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (Python or NumPy scalar), excluding bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or NumPy scalar), excluding bools."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def number(
    error: type[Exception], owner: str, name: str, value: Any, *, finite: bool = False
) -> float:
    """``value`` as a float; refuses non-numbers, bools, NaN and (if ``finite``) infinities."""
    if not is_number(value):
        raise error(f"{owner}: {name} must be a number, got {value!r} ({type(value).__name__})")
    out = float(value)
    if math.isnan(out):
        raise error(f"{owner}: {name} must not be NaN; give a number")
    if finite and math.isinf(out):
        raise error(f"{owner}: {name} must be finite, got {out}; give a finite number")
    return out


def optional_number(error: type[Exception], owner: str, name: str, value: Any) -> float | None:
    """``None`` or ``value`` as a non-NaN float (infinities allowed: an open bound)."""
    return None if value is None else number(error, owner, name, value)


def integer(error: type[Exception], owner: str, name: str, value: Any, *, minimum: int) -> int:
    """``value`` as an int ``>= minimum``; refuses floats (even ``3.0``) and bools."""
    if not is_int(value):
        raise error(
            f"{owner}: {name} must be an int, got {value!r} ({type(value).__name__}); "
            f"write e.g. {name}={minimum}"
        )
    if value < minimum:
        raise error(f"{owner}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def ordered_sequence(error: type[Exception], owner: str, name: str, value: Any) -> list[Any]:
    """``value`` as a list; refuses strings (iterated as characters) and unordered sets.

    Sets are refused because their iteration order of strings changes with
    ``PYTHONHASHSEED``, which would make seeded runs differ between processes.
    """
    if isinstance(value, (str, bytes)):
        raise error(
            f"{owner}: {name} must be a list, got the string {value!r} (it would be read "
            f"character by character); write {name}=[{value!r}]"
        )
    if isinstance(value, (set, frozenset)):
        raise error(
            f"{owner}: {name} must be an ordered list, got a set {value!r} whose order varies "
            f"between runs; write {name}=sorted(...) or a list"
        )
    try:
        return list(value)
    except TypeError:
        raise error(f"{owner}: {name} must be a list, got {value!r}") from None


def clip_pair(
    error: type[Exception], owner: str, clip_low: Any, clip_high: Any
) -> tuple[float | None, float | None]:
    """Checked ``(clip_low, clip_high)``: numbers or ``None``, not NaN, in order."""
    low = optional_number(error, owner, "clip_low", clip_low)
    high = optional_number(error, owner, "clip_high", clip_high)
    if low is not None and high is not None and low > high:
        raise error(f"{owner}: clip_low ({low}) must be <= clip_high ({high}); swap them")
    return low, high


def clip_overlaps(
    error: type[Exception],
    owner: str,
    low: float,
    high: float,
    clip_low: float | None,
    clip_high: float | None,
) -> None:
    """Refuse clip bounds that exclude the whole ``[low, high]`` range of the draws."""
    if (clip_low is not None and clip_low > high) or (clip_high is not None and clip_high < low):
        raise error(
            f"{owner}: clip bounds [{clip_low}, {clip_high}] exclude the whole range "
            f"[{low}, {high}] of the draws, so every draw would be clipped to one value; "
            "widen the clip bounds or use a constant instead"
        )
