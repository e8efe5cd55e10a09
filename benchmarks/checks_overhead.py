"""The cost of the runtime checks (``checks="off"|"first"|"full"``), measured side by side.

Shared by ``throughput.py`` and ``ads_throughput.py`` (``--checks off,first``): for each
size, the levels are measured in turn, ``repeats`` rounds of one run per level in the
same process, so machine noise hits every level alike. Each level reports the median
rate with the min-max over its runs, and its cost relative to the first level listed
(normally ``off``). The goal: the always-on ``"first"`` checks cost at most
:data:`MAX_FIRST_COST` of throughput.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from phantomzoo.engine.checks import CHECK_LEVELS

#: The most the always-on checks may cost, as a fraction of the unchecked rate.
MAX_FIRST_COST = 0.05

COLUMNS = [
    ("size", "size", ",d"),
    ("level", "checks", ""),
    ("median", "median /s", ",.0f"),
    ("low", "min /s", ",.0f"),
    ("high", "max /s", ",.0f"),
    ("cost_pct", "cost vs base %", "+.1f"),
]


def parse_levels(text: str) -> tuple[str, ...]:
    """``"off,first"`` -> ``("off", "first")``; each a check level, no repeats."""
    levels = tuple(p.strip() for p in text.split(",") if p.strip())
    if len(levels) < 2 or len(set(levels)) != len(levels) or not set(levels) <= set(CHECK_LEVELS):
        raise argparse.ArgumentTypeError(
            f"expected two or more distinct levels of {list(CHECK_LEVELS)} separated by "
            f"commas (e.g. off,first), got {text!r}"
        )
    return levels


def compare_levels(
    sizes: Sequence[int],
    levels: Sequence[str],
    repeats: int,
    measure: Callable[[int, str], float],
) -> list[dict[str, Any]]:
    """One row per (size, level): median, min and max rate, and the cost vs ``levels[0]``.

    Args:
        sizes: The model sizes to measure.
        levels: Check levels; the first is the base the others are compared with.
        repeats: Rounds; each round measures every level once, in turn.
        measure: ``measure(size, level)`` -> agent-steps per second of one run.
    """
    rows = []
    for size in sizes:
        runs: dict[str, list[float]] = {level: [] for level in levels}
        for _ in range(max(1, repeats)):
            for level in levels:
                runs[level].append(measure(size, level))
        base = _median(runs[levels[0]])
        for level in levels:
            median = _median(runs[level])
            rows.append(
                {
                    "size": size,
                    "level": level,
                    "median": median,
                    "low": min(runs[level]),
                    "high": max(runs[level]),
                    "cost_pct": 100.0 * (1.0 - median / base),
                    "runs": runs[level],
                }
            )
    return rows


def first_cost_goal(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """PASS when the ``"first"`` level costs at most :data:`MAX_FIRST_COST` at every size."""
    name = f'always-on checks ("first") cost <= {100 * MAX_FIRST_COST:g}% of throughput'
    costs = [(r["size"], r["cost_pct"]) for r in rows if r["level"] == "first"]
    if not costs or rows[0]["level"] != "off":
        return {"name": name, "status": "SKIP", "detail": "needs --checks off,first"}
    worst = max(cost for _, cost in costs)
    listing = ", ".join(f"{size:,}: {cost:+.1f}%" for size, cost in costs)
    return {
        "name": name,
        "target": 100 * MAX_FIRST_COST,
        "measured": worst,
        "status": "PASS" if worst <= 100 * MAX_FIRST_COST else "MISS",
        "detail": f"cost by size {{{listing}}}; worst {worst:+.1f}% (negative = noise)",
    }


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return 0.5 * (ordered[middle - 1] + ordered[middle])
