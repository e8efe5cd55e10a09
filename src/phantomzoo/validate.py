"""Checks of environment constructor arguments, raising :class:`ConfigError`.

Models call these at the top of ``__init__`` so a bad keyword (``cost_of_carry=NaN``,
``num_shops="3"``, ``num_steps=0``) is refused at construction, before any training
time is spent, with a message naming the model, the argument, the value received and
the accepted range. Values typed on the command line arrive already parsed as JSON
(``3``, ``0.5``, ``true``), so strings are never read as numbers here, and ``bool`` is
never accepted where a number is expected (``True`` is always a slip there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import ConfigError


def _got(value: Any) -> str:
    return f"got {value!r} ({type(value).__name__})"


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _accepted(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """``">= 1 and <= 100000"``-style text of an accepted interval (empty if unbounded)."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def check_int(owner: str, name: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; refuses floats, strings and bools."""
    wanted = f"an int {_accepted(low, high, False, False)}"
    if not _is_int(value):
        raise ConfigError(f"{owner}: {name} must be {wanted}, {_got(value)}")
    if value < low or (high is not None and value > high):
        raise ConfigError(f"{owner}: {name} must be {wanted}, got {value!r}")
    return int(value)


def check_number(
    owner: str,
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the given interval (open ends if asked).

    NaN and infinities are always refused: a model parameter that is not finite makes
    every reward or observation that uses it meaningless.
    """
    accepted = _accepted(low, high, low_open, high_open)
    wanted = f"a finite number {accepted}".rstrip()
    if not _is_number(value):
        raise ConfigError(f"{owner}: {name} must be {wanted}, {_got(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{owner}: {name} must be finite, got {value!r}; give {wanted}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ConfigError(f"{owner}: {name} must be {wanted}, got {value!r}")
    return number


def check_bool(owner: str, name: str, value: Any) -> bool:
    """``value`` as a bool; refuses ``0``/``1``, strings such as ``"yes"`` and ``None``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{owner}: {name} must be True or False, {_got(value)}")
    return bool(value)


def check_choice(owner: str, name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{owner}: {name} must be one of {list(choices)}, {_got(value)}")
    return value


def check_pair(
    owner: str, name: str, value: Any, low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    """A ``(low, high)`` pair of finite numbers in ``[low, high]`` with ``first <= second``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ConfigError(f"{owner}: {name} must be a (low, high) pair, {_got(value)}")
    if len(value) != 2:
        raise ConfigError(
            f"{owner}: {name} must be a (low, high) pair, got {len(value)} entries: {value!r}"
        )
    first = check_number(owner, f"{name} low", value[0], low, high)
    second = check_number(owner, f"{name} high", value[1], low, high)
    if first > second:
        raise ConfigError(
            f"{owner}: {name} must have low <= high, got ({first:g}, {second:g}); swap them"
        )
    return (first, second)


def check_total_agents(owner: str, count: int, limit: int) -> None:
    """Refuse a network of more than ``limit`` agents before building it."""
    if count > limit:
        raise ConfigError(
            f"{owner}: this configuration builds {count:,} agents, more than the {limit:,} "
            "this model supports; use fewer or smaller groups"
        )
