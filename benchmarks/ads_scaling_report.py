"""The table, goals, plot and JSON of ``benchmarks/ads_scaling.py``.

The goals are this machine's (2 cores), set against the paper's Table 2 only as a
target, never as a stored figure to divide by: converged within 2 minutes of wall time
at 6, 60 and 120 advertisers and within 10 minutes at 1200, and end-to-end training at
>= 50,000 agent-steps/s at 1200 advertisers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ads_convergence

from phantomzoo.cli.bench import format_table, machine_info, write_json

#: Wall seconds to convergence aimed for, by number of advertisers.
TIME_GOALS: dict[int, float] = {6: 120.0, 60: 120.0, 120: 120.0, 1200: 600.0}
#: End-to-end training agent-steps/s aimed for, by number of advertisers.
RATE_GOALS: dict[int, float] = {1200: 50_000.0}
FAMILIES = ("travel", "tech", "sport")


def _pct(value: float, reference: float) -> float | None:
    return 100.0 * value / reference if reference else None


def _costs(summary: Mapping[str, Any]) -> str:
    """``travel/tech/sport`` cost per click, ``-`` for a family without clicks."""
    costs = summary["cost_per_click_by_family"]
    return "/".join("-" if costs[t] is None else f"{costs[t]:.2f}" for t in FAMILIES)


def progress_line(size: int, point: Mapping[str, Any], heuristic: Mapping[str, Any]) -> str:
    """One evaluation, as printed while a size trains."""
    check = point["check"]
    change = check["clicks_change"]
    return (
        f"[{size:>5} adv] train {point['train_seconds']:6.1f} s  wall {point['wall_seconds']:6.1f}"
        f" s  clicks/adv {point['clicks_per_advertiser']:.4g} (heuristic "
        f"{heuristic['clicks_per_advertiser']:.4g})  cost/click {_costs(point)}  behaviour "
        f"{'yes' if check['behaviour']['ok'] else 'no'}  window change "
        f"{'-' if change is None else f'{change:+.1%}'}"
        f"{'  CONVERGED' if check['converged'] else ''}"
    )


def rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One table row per size."""
    out = []
    for r in records:
        final, heuristic = r["final"], r["heuristic"]
        out.append(
            {
                "advertisers": r["advertisers"],
                "converged": "yes" if r["converged"] else "no",
                "wall_conv": r["wall_seconds_to_convergence"],
                "train_conv": r["train_seconds_to_convergence"],
                "train": r["train_seconds"],
                "steps": r["agent_steps"],
                "rate": r["agent_steps_per_s"],
                "rss": r["peak_rss_mib"],
                "clicks": final["clicks_per_advertiser"],
                "heuristic_clicks": heuristic["clicks_per_advertiser"],
                "pct": "saturated"
                if final["check"]["saturated"]
                else _pct(final["clicks_per_advertiser"], heuristic["clicks_per_advertiser"]),
                "cpc": _costs(final),
                "heuristic_cpc": _costs(heuristic),
                "travel_ratio": final["check"]["behaviour"]["travel_bid_ratio_user2_user1"],
                "sport_bids": "yes" if final["check"]["behaviour"]["sport_bids_on_user2"] else "no",
                "left": final["budget_left"],
                "heuristic_left": heuristic["budget_left"],
                "evaluations": len(r["curve"]),
            }
        )
    return out


COLUMNS = [
    ("advertisers", "advertisers", ",d"),
    ("converged", "converged"),
    ("wall_conv", "wall s to conv.", ".1f"),
    ("train_conv", "train s to conv.", ".1f"),
    ("train", "train s", ".1f"),
    ("steps", "agent-steps", ",d"),
    ("rate", "agent-steps/s", ",.0f"),
    ("rss", "peak RSS MiB", ",.0f"),
    ("clicks", "clicks/adv", ".4g"),
    ("heuristic_clicks", "heuristic", ".4g"),
    ("pct", "% of heur.", ".1f"),
    ("cpc", "cost/click tr/te/sp"),
    ("heuristic_cpc", "heuristic cost/click"),
    ("travel_ratio", "travel bid u2/u1", ".3f"),
    ("sport_bids", "sport bids u2"),
    ("left", "budget left", ".2f"),
    ("heuristic_left", "heur. left", ".2f"),
    ("evaluations", "evals", "d"),
]


def table(records: Sequence[Mapping[str, Any]]) -> str:
    """The scaling table as aligned text."""
    return format_table(rows(records), COLUMNS)


def goals(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """PASS / MISS / SKIP for every goal, from the records just measured."""
    by_size = {r["advertisers"]: r for r in records}
    out = []
    for size, limit in TIME_GOALS.items():
        name = f"converged within {limit / 60:g} min of wall time at {size:,} advertisers"
        r = by_size.get(size)
        if r is None:
            out.append({"name": name, "status": "SKIP", "detail": "size not run"})
        elif not r["converged"]:
            detail = f"not converged after {r['wall_seconds']:.0f} s wall ({_unmet(r)})"
            out.append({"name": name, "status": "MISS", "detail": detail})
        else:
            wall = r["wall_seconds_to_convergence"]
            status = "PASS" if wall <= limit else "MISS"
            detail = f"{wall:.1f} s wall ({r['train_seconds_to_convergence']:.1f} s training)"
            out.append({"name": name, "status": status, "detail": detail})
    for size, target in RATE_GOALS.items():
        name = f">= {target:,.0f} training agent-steps/s at {size:,} advertisers"
        r = by_size.get(size)
        if r is None:
            out.append({"name": name, "status": "SKIP", "detail": "size not run"})
            continue
        rate = r["agent_steps_per_s"]
        status = "PASS" if rate >= target else "MISS"
        detail = f"{rate:,.0f} agent-steps/s ({rate / target:.0%} of the goal)"
        out.append({"name": name, "status": status, "detail": detail})
    return out


def _unmet(record: Mapping[str, Any]) -> str:
    """Which convergence conditions the last evaluation did not meet."""
    check = record["final"]["check"]
    unmet = [
        name
        for name, ok in (
            ("clicks", check["clicks_ok"]),
            ("behaviour", check["behaviour"]["ok"]),
            ("plateau", check["plateau_ok"]),
        )
        if not ok
    ]
    return "unmet: " + ", ".join(unmet) if unmet else "all met"


def format_goals(checks: Sequence[Mapping[str, Any]]) -> str:
    """One ``  STATUS  name: detail`` line per goal."""
    return "\n".join(f"  {c['status']:4}  {c['name']}: {c['detail']}" for c in checks)


def plot(records: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Clicks per advertiser vs wall time, one line per size, its heuristic dashed."""
    from phantomzoo.cli import plots

    series, references = {}, {}
    for r in records:
        label = f"{r['advertisers']:,} advertisers"
        series[label] = (
            [p["wall_seconds"] for p in r["curve"]],
            [p["clicks_per_advertiser"] for p in r["curve"]],
        )
        references[label] = r["heuristic"]["clicks_per_advertiser"]
    return plots.curves(
        series,
        path,
        "wall seconds (training, checkpoints and evaluations)",
        "clicks per advertiser per episode",
        "Ads market, cleanrl, one policy per family (dashed: value heuristic)",
        references,
        log_y=True,
    )


def build(
    records: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    before: str,
    after: str,
    argv: Sequence[str],
) -> dict[str, Any]:
    """The JSON document of a run."""
    shown = {k: (str(v) if isinstance(v, Path) else v) for k, v in settings.items()}
    return {
        "command": "python benchmarks/ads_scaling.py " + " ".join(argv),
        "settings": shown,
        "convergence": ads_convergence.DEFINITION,
        "uptime_before": before,
        "uptime_after": after,
        "machine": machine_info(),
        "rows": rows(records),
        "goals": goals(records),
        "sizes": list(records),
    }


def write(path: Path, results: Mapping[str, Any]) -> Path:
    """Write the JSON document (ConfigError if the path cannot be written)."""
    return write_json(path, results)
