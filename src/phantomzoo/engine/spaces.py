"""Say why a value cannot be a member of a gymnasium space, in words a user can act on.

The engine checks observations and actions against their agents' spaces and rewards
against "one finite number". ``space.contains`` only answers yes or no; the functions
here answer *what* is wrong ("has shape (3,), expected (1,)", "99 is outside 0..4"),
so the errors raised from them can name the problem.

Two strictness levels, chosen by the caller:

* ``bounds=False`` (structural): the value could be meant for the space at all: right
  kind (numbers, not ``None`` or strings), right shape, no NaN, no infinity where the
  space is bounded, integers where the space holds integers (``Discrete`` values must
  lie in ``start .. start + n - 1``: outside, they are not an action at all).
* ``bounds=True`` (membership): additionally every entry of a ``Box`` lies within
  ``[low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

#: Array kinds accepted as numbers: bool, signed and unsigned ints, floats.
_NUMERIC_KINDS = "biuf"
#: Arrays up to this size are checked with plain Python (faster than NumPy calls).
_SMALL = 8
#: Longest text of a received value quoted in an error message.
_MAX_REPR = 200


def short_repr(value: Any) -> str:
    """``repr(value)`` cut to a readable length (observations can be large arrays)."""
    text = repr(value)
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 5] + " ...)"
    return text


def space_mismatch(
    space: gym.Space[Any], value: Any, *, bounds: bool, any_shape: bool = False
) -> str | None:
    """Why ``value`` is not a member of ``space``, or ``None`` when it is.

    Args:
        space: The gymnasium space the value should belong to.
        value: The observation or action received.
        bounds: Also require ``Box`` entries to lie within ``[low, high]``.
        any_shape: Accept a ``Box`` value of another shape holding exactly the space's
            number of values (actions: some consumers squeeze a (1,) action to a 0-d
            array); a different number of values is still refused.
    """
    if value is None:
        return "got None"
    if isinstance(space, gym.spaces.Box):
        return _box_mismatch(space, value, bounds, any_shape)
    if isinstance(space, gym.spaces.Discrete):
        return _discrete_mismatch(space, value)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return _multi_discrete_mismatch(space, value)
    if isinstance(space, gym.spaces.MultiBinary):
        return _multi_binary_mismatch(space, value)
    if isinstance(space, gym.spaces.Dict):
        return _dict_mismatch(space, value, bounds)
    if isinstance(space, gym.spaces.Tuple):
        return _tuple_mismatch(space, value, bounds)
    try:
        inside = bool(space.contains(value))
    except Exception as exc:  # a foreign space may raise anything on a foreign value
        return f"cannot be checked against the space ({type(exc).__name__}: {exc})"
    return None if inside else "does not lie in the space"


def reward_problem(value: Any) -> str | None:
    """Why ``value`` is not usable as a reward (one real number), or ``None``.

    Finiteness is checked by the caller on the converted float.
    """
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None
    if value is None:
        return "is None"
    if isinstance(value, (str, bytes)):
        return f"is a string ({value!r}), not a number"
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMERIC_KINDS:
            return f"is an array of dtype {value.dtype}, not a number"
        if value.size != 1:
            return f"is an array of shape {value.shape}; a reward is one number"
        return None
    return f"is a {type(value).__name__}, not a number"


# ------------------------------------------------------------------------------- Box
def _as_numeric_array(value: Any) -> tuple[np.ndarray | None, str | None]:
    if isinstance(value, (str, bytes)):
        return None, f"is a string ({value!r}), not numbers"
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        return None, f"cannot be read as an array ({exc})"
    if array.dtype.kind not in _NUMERIC_KINDS:
        return None, f"has dtype {array.dtype}, not numbers"
    return array, None


def _box_mismatch(
    space: gym.spaces.Box, value: Any, bounds: bool, any_shape: bool = False
) -> str | None:
    if not bounds and type(value) is np.ndarray and value.shape == space.shape:
        # Fast accept of the common case (a float array of the right shape, all finite;
        # or an integer array for an integer space); anything else is examined below.
        kind, space_kind = value.dtype.kind, space.dtype.kind
        if kind in "iu" and space_kind in "iu":
            return None
        if kind == "f" and space_kind == "f":
            if value.size <= _SMALL:  # x - x is 0.0 for a finite float, NaN otherwise
                if not any(x - x for x in value.ravel().tolist()):
                    return None
            elif np.isfinite(value).all():
                return None
    array, problem = _as_numeric_array(value)
    if array is None:
        return problem
    if array.shape != space.shape:
        if not any_shape or array.size != math.prod(space.shape):
            return f"has shape {array.shape}, expected {space.shape}"
        array = array.reshape(space.shape)
    integral_space = space.dtype is not None and space.dtype.kind in "iu"
    if array.size <= _SMALL:
        return _small_box_mismatch(space, array, bounds, integral_space)
    if array.dtype.kind == "f":
        if np.isnan(array).any():
            return f"contains NaN at index {_first(np.isnan(array))}"
        infinite = np.isinf(array) & ~((array == space.low) | (array == space.high))
        if infinite.any():
            return f"contains an infinity where the space is bounded, at index {_first(infinite)}"
        if integral_space and (array != np.round(array)).any():
            return f"has non-integral values for an integer space ({space.dtype})"
    if bounds:
        outside = (array < space.low) | (array > space.high)
        if outside.any():
            index = _first(outside)
            return (
                f"has {array[index]!r} at index {index}, outside "
                f"[{space.low[index]!r}, {space.high[index]!r}]"
            )
    return None


def _small_box_mismatch(
    space: gym.spaces.Box, array: np.ndarray, bounds: bool, integral_space: bool
) -> str | None:
    values = array.ravel().tolist()
    lows, highs = space.low.ravel().tolist(), space.high.ravel().tolist()
    for position, (x, low, high) in enumerate(zip(values, lows, highs)):
        if x != x:
            return f"contains NaN at index {_where(position, space.shape)}"
        if x in (math.inf, -math.inf) and x not in (low, high):
            where = _where(position, space.shape)
            return f"contains {x} at index {where} where the space is bounded"
        if integral_space and x != int(x):
            where = _where(position, space.shape)
            return f"has non-integral value {x!r} at index {where} for an integer space"
        if bounds and not low <= x <= high:
            return (
                f"has {x!r} at index {_where(position, space.shape)}, outside [{low!r}, {high!r}]"
            )
    return None


def _where(position: int, shape: tuple[int, ...]) -> str:
    """The index of flat ``position`` in an array of ``shape``, as text."""
    if len(shape) <= 1:
        return str(position)
    return str(tuple(int(i) for i in np.unravel_index(position, shape)))


def _first(mask: np.ndarray) -> tuple[int, ...] | int:
    index = tuple(int(i) for i in np.argwhere(mask)[0])
    return index[0] if len(index) == 1 else index


# -------------------------------------------------------------------------- integers
def _as_integer(value: Any) -> tuple[int | None, str | None]:
    """An integer from an int, an integral float or a one-element numeric array."""
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.ndim > 1:
            return None, f"has shape {value.shape}, expected a single integer"
        if value.dtype.kind not in _NUMERIC_KINDS:
            return None, f"has dtype {value.dtype}, not an integer"
        value = value.reshape(()).item()
    if isinstance(value, (int, np.integer)):
        return int(value), None
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or value != int(value):
            return None, f"{value!r} is not an integer"
        return int(value), None
    return None, f"is a {type(value).__name__}, not an integer"


def _discrete_mismatch(space: gym.spaces.Discrete, value: Any) -> str | None:
    number, problem = _as_integer(value)
    if number is None:
        return problem
    start, n = int(space.start), int(space.n)
    if not start <= number < start + n:
        return f"{number} is outside {start}..{start + n - 1}"
    return None


def _integer_array(value: Any, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str | None]:
    array, problem = _as_numeric_array(value)
    if array is None:
        return None, problem
    if array.shape != shape:
        return None, f"has shape {array.shape}, expected {shape}"
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or (array != np.round(array)).any():
            return None, "has non-integral values; expected integers"
        array = array.astype(np.int64)
    return array, None


def _multi_discrete_mismatch(space: gym.spaces.MultiDiscrete, value: Any) -> str | None:
    array, problem = _integer_array(value, space.shape)
    if array is None:
        return problem
    offset = array - space.start
    if ((offset < 0) | (offset >= space.nvec)).any():
        return f"has values outside start..start + nvec - 1 (nvec={space.nvec.tolist()})"
    return None


def _multi_binary_mismatch(space: gym.spaces.MultiBinary, value: Any) -> str | None:
    array, problem = _integer_array(value, space.shape)
    if array is None:
        return problem
    if ((array != 0) & (array != 1)).any():
        return "has values other than 0 and 1"
    return None


# ------------------------------------------------------------------------ composites
def _dict_mismatch(space: gym.spaces.Dict, value: Any, bounds: bool) -> str | None:
    if not isinstance(value, Mapping):
        return f"is a {type(value).__name__}, expected a dict with keys {list(space.spaces)}"
    missing = [k for k in space.spaces if k not in value]
    extra = [k for k in value if k not in space.spaces]
    if missing or extra:
        return f"has keys {list(value)}, expected {list(space.spaces)}"
    for key, subspace in space.spaces.items():
        problem = space_mismatch(subspace, value[key], bounds=bounds)
        if problem is not None:
            return f"[{key!r}] {problem}"
    return None


def _tuple_mismatch(space: gym.spaces.Tuple, value: Any, bounds: bool) -> str | None:
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        return f"is a {type(value).__name__}, expected a tuple of {len(space.spaces)}"
    if len(value) != len(space.spaces):
        return f"has {len(value)} entries, expected {len(space.spaces)}"
    for index, (subspace, item) in enumerate(zip(space.spaces, value)):
        problem = space_mismatch(subspace, item, bounds=bounds)
        if problem is not None:
            return f"[{index}] {problem}"
    return None
