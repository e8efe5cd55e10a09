"""The side-by-side table of :mod:`phantom_side` rows: one line per size and phantomzoo
API with both medians, the ratio median and min-max over rounds, the CPU-time ratio and
the pair spread; then notes on the work each side did (messages in one episode, agents
acting per step), noisy rounds and the machine's load averages.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from phantomzoo.cli.bench import format_table

#: Pair spread above which the rounds are flagged as disagreeing.
DISAGREE = 0.30

COLUMNS = [
    ("size", "size", ",d"),
    ("api", "phantomzoo API", ""),
    ("phantom", "Phantom /s", ",.0f"),
    ("ours", "phantomzoo /s", ",.0f"),
    ("ratio", "ratio median", ".2f"),
    ("ratio_range", "ratio min-max", ""),
    ("cpu_ratio", "CPU-time ratio", ".2f"),
    ("spread_pct", "pair spread %", ".0f"),
]


def table_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One display line per size and phantomzoo API (for :data:`COLUMNS`)."""
    out = []
    for row in rows:
        phantom = row["sides"]["phantom"]["agent_steps_per_s"]["median"]
        for key, ratio in row["ratios"].items():
            out.append(
                {
                    "size": row["size"],
                    "api": row["sides"][key]["label"],
                    "phantom": phantom,
                    "ours": row["sides"][key]["agent_steps_per_s"]["median"],
                    "ratio": ratio["median"],
                    "ratio_range": f"{ratio['min']:.2f}-{ratio['max']:.2f}",
                    "cpu_ratio": row["cpu_ratios"][key]["median"],
                    "spread_pct": 100.0 * row["spread"],
                }
            )
    return out


def notes(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Warnings about unequal work or noisy pairs, one line each."""
    lines = []
    for row in rows:
        sides = row["sides"]
        messages = {s["label"]: s["messages"] for s in sides.values() if s["messages"]}
        if messages:
            listing = ", ".join(f"{k} {v:,}" for k, v in messages.items())
            lines.append(f"size {row['size']:,}: messages in one episode: {listing}")
        acting = ", ".join(
            f"{s['label']} {s['acting_per_acting_step']:.2f}" for s in sides.values()
        )
        lines.append(f"size {row['size']:,}: agents acting per acting step: {acting}")
        if row["spread"] > DISAGREE:
            lines.append(
                f"size {row['size']:,}: rounds disagree by {row['spread']:.0%} (> "
                f"{DISAGREE:.0%}); the machine was busy, rerun when it is quieter"
            )
    return lines


def load_line(rows: Sequence[Mapping[str, Any]]) -> str:
    """The load averages around the side-by-side measurements (as ``uptime`` shows)."""
    if not rows:
        return ""
    first, last = rows[0]["load_before"], rows[-1]["load_after"]
    return (
        "load average (1/5/15 min) before: "
        + "/".join(f"{x:.2f}" for x in first)
        + ", after: "
        + "/".join(f"{x:.2f}" for x in last)
        + f" on {os.cpu_count()} CPUs"
    )


def print_rows(
    title: str, rows: Sequence[Mapping[str, Any]], log: Callable[[str], None] = print
) -> None:
    """The side-by-side table, its notes and the load averages."""
    log(f"\n{title}\n")
    log(format_table(table_rows(rows), COLUMNS))
    for line in [*notes(rows), load_line(rows)]:
        log(line)
