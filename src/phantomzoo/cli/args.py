"""Argument types of the ``phantomzoo`` command line.

Each type turns one command-line word into a checked value or raises
:class:`argparse.ArgumentTypeError` with a message that says what was expected, so the
parser reports ``phantomzoo: error: argument --seconds: ...`` on one line. Every
numeric value has an upper bound as well as a lower one: a budget of ``inf`` seconds
or ``1e30`` steps would never end, and a seed beyond 32 bits is refused by some
trainer libraries long after training started.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path

#: Largest agent-step budget (the budget training treats as "no step limit").
MAX_TIMESTEPS = 10**12
#: Largest wall-time budget or interval: one year.
MAX_SECONDS = 366 * 24 * 3600.0
#: Largest number of evaluation or rollout episodes.
MAX_EPISODES = 10**7
#: Largest seed: trainer libraries accept 32-bit seeds everywhere.
MAX_SEED = 2**32 - 1
#: Largest shop count in the throughput table.
MAX_SHOPS = 100_000


def _integer(text: str) -> int | None:
    """``text`` as an int (``"2048"``, ``"1_000"``, ``"1e6"``), or None if it is not one."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def int_in_range(low: int, high: int, what: str = "an integer") -> Callable[[str], int]:
    """An argument type accepting integers ``low <= n <= high``."""

    def parse(text: str) -> int:
        value = _integer(text)
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {what} from {low:,} to {high:,}, got {text!r}"
            )
        return value

    parse.__name__ = "integer"  # argparse names the type in some messages
    return parse


def seconds_in_range(high: float = MAX_SECONDS) -> Callable[[str], float]:
    """An argument type accepting a finite number of seconds ``0 < s <= high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and 0 < value <= high):  # also refuses nan and inf
            raise argparse.ArgumentTypeError(
                f"expected a finite number of seconds > 0 and <= {high:,.0f} (like 60 or 1.5), "
                f"got {text!r}"
            )
        return value

    parse.__name__ = "seconds"
    return parse


positive_int = int_in_range(1, MAX_TIMESTEPS, "an integer")
timesteps = int_in_range(1, MAX_TIMESTEPS, "a number of agent-steps")
episodes = int_in_range(1, MAX_EPISODES, "a number of episodes")
seed = int_in_range(0, MAX_SEED, "a seed")
seconds = seconds_in_range()


def path(text: str) -> Path:
    """A file or directory path: not empty (that would mean the current directory,
    silently), no NUL byte (no system call accepts one); ``~`` is expanded."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "expected a path, got an empty string (write '.' for the current directory)"
        )
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"a path cannot contain a NUL byte, got {text!r}")
    return Path(text).expanduser()


def shop_counts(text: str) -> tuple[int, ...]:
    """``"1,10,100"`` -> ``(1, 10, 100)``; every count from 1 to :data:`MAX_SHOPS`."""
    parts = [p.strip() for p in text.split(",")]
    counts = tuple(_integer(p) for p in parts)
    if not parts or any(n is None or not 1 <= n <= MAX_SHOPS for n in counts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers from 1 to {MAX_SHOPS:,} (like 1,10,100), "
            f"got {text!r}"
        )
    return counts  # type: ignore[return-value]  # None was refused above


def backend_list(text: str) -> tuple[str, ...]:
    """``"cleanrl,sb3"`` -> ``("cleanrl", "sb3")``; ``"none"`` -> ``()`` (baselines only).

    Names are checked against the registered backends here, so a typo in the last name
    is refused before the first backend trains.
    """
    from phantomzoo.backends import available_backends

    names = tuple(p.strip() for p in text.split(","))
    if names == ("none",):
        return ()
    known = available_backends()
    if not names or any(not n for n in names):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated backend names from {known} (or 'none'), got {text!r}"
        )
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown backend(s) {unknown}; available backends: {known} (or 'none' for "
            "baselines only)"
        )
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a backend is named twice in {text!r}")
    return names


def wants_debug(argv: Sequence[str]) -> bool:
    """Whether ``--debug`` appears among the options (before any ``--``).

    Read before parsing, so that ``--debug`` also shows the traceback of an error the
    parser itself raises, wherever the flag sits on the line.
    """
    for word in argv:
        if word == "--":
            return False
        if word == "--debug":
            return True
    return False
