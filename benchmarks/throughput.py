"""Throughput of the tutorial supply chain against a plain-Python floor and, when a
Phantom interpreter is given, against Phantom 2.2 measured side by side.

Runs whole episodes (resets included) of ``supply_chain_v0`` under uniform random
actions at each number of shops, does the same with the hand-written floor
(:class:`phantomzoo.envs.supply_chain.floor.PlainSupplyChain`), prints the table and the
goal checks, and writes everything with the machine's description as JSON::

    python benchmarks/throughput.py                       # 1,10,100,1000 shops, >= 2 s each
    python benchmarks/throughput.py --shops 1,10 --min-seconds 1
    python benchmarks/throughput.py --checks off,first     # + the cost of runtime checks
    python benchmarks/throughput.py --batched --shops 100,1000,10000  # + the batched path
    python benchmarks/throughput.py --phantom-python ~/phantom-venv/bin/python
    PHANTOM_PY=/path/to/phantom-venv/bin/python python benchmarks/throughput.py --shops 1,1000

With a Phantom interpreter (``--phantom-python`` or ``$PHANTOM_PY``) every size is also
measured side by side (:mod:`phantom_side`): Phantom's tutorial supply chain and
``supply_chain_v0`` through its ``ParallelEnv`` API, equal work, alternating rounds
(``--pairs``, at least 3); the ratio phantomzoo / Phantom is printed with its median
and min-max over rounds. Without one, only phantomzoo's figures and its ratio to the
floor are printed: no figure of Phantom is stored anywhere.

Goals (PASS / MISS from the numbers just measured, SKIP when not measured): 5x Phantom
2.2 at 1 shop and 10x at 1000 shops (median ratio of the same run), and a cost per
shop-step that does not grow with shops. With ``--batched`` the batched path
(``supply_chain_v0(batched=True)``, :mod:`phantomzoo.engine.batched`) is measured too,
alternating with the per-agent path at each size (same run, medians with min-max), with
its goals: 50x Phantom 2.2 at 1000 shops (side by side, when a Phantom interpreter is
given) and a cost per shop-step flat from 100 to 10,000 shops. With ``--checks off,first``
the runtime check levels are also measured (alternating runs, medians with min-max) and
the always-on ``"first"`` checks must cost at most 5% of the unchecked rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import checks_overhead as co
import goals as gl
import phantom_side as ps
import side_report as sr

import phantomzoo as ph
from phantomzoo.cli import bench as bm
from phantomzoo.envs.supply_chain import throughput as sc
from phantomzoo.errors import PhantomZooError

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "throughput.json"
#: The side-by-side worker of the batched supply chain (``--batched``).
BATCHED_WORKER = Path(__file__).resolve().parent / "side_pz_batched_worker.py"
#: Goals of the batched path: this many times Phantom 2.2 at 1000 shops (same run).
BATCHED_RATIO_GOAL = 50.0
BATCHED_COLUMNS = [
    ("shops", "shops", ",d"),
    ("path", "path", ""),
    ("median", "shop-steps/s", ",.0f"),
    ("low", "min /s", ",.0f"),
    ("high", "max /s", ",.0f"),
    ("speedup", "x per-agent", ".2f"),
    ("us_per_shop_step", "µs/shop-step", ".2f"),
]


def parse_shops(text: str) -> tuple[int, ...]:
    """``"1,10,100"`` -> ``(1, 10, 100)``."""
    try:
        counts = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1, got {text!r}")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shops",
        type=parse_shops,
        default=(1, 10, 100, 1000),
        help="comma-separated shop counts (default: 1,10,100,1000)",
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=2.0,
        help="least seconds per measurement, framework and floor each (default: 2)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="measurements per size and side; the median is reported (default: 3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="episode and action seed")
    parser.add_argument(
        "--checks",
        type=co.parse_levels,
        default=None,
        help="also compare runtime check levels side by side, e.g. off,first (the first "
        "listed is the base)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON file to write (default: benchmarks/results/throughput.json)",
    )
    parser.add_argument(
        "--batched",
        action="store_true",
        help="also measure the batched path (supply_chain_v0 with batched=True), "
        "alternating with the per-agent path, and side by side with Phantom when given",
    )
    ps.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phantom_python, phantom_info = ps.prepare(args)  # refuse bad options before measuring
    machine = bm.machine_info()
    print(f"{machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs")
    print(
        f"supply_chain_v0, random actions, median of {args.repeats} runs of "
        f">= {args.min_seconds:g} s each\n"
    )

    started = time.perf_counter()
    rows = sc.supply_chain_throughput_table(args.shops, args.min_seconds, args.seed, args.repeats)
    print(bm.format_table(rows, sc.THROUGHPUT_COLUMNS))
    side_rows = None
    if phantom_python is not None:
        side_rows = side_by_side(args, phantom_python)
    print()
    goals = gl.check_supply_chain_goals(rows, side_rows)
    for goal in goals:
        print(f"{goal['status']:4}  {goal['name']}: {goal['detail']}")

    batched_rows: list[dict] = []
    if args.batched:
        batched_rows = compare_batched(args)
        goals.extend(batched_goals(batched_rows, side_rows))
        for goal in goals[-2:]:
            print(f"{goal['status']:4}  {goal['name']}: {goal['detail']}")

    checks_rows: list[dict] = []
    if args.checks:
        checks_rows = compare_checks(args)
        goals.append(co.first_cost_goal(checks_rows))
        print(f"{goals[-1]['status']:4}  {goals[-1]['name']}: {goals[-1]['detail']}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "supply_chain_v0 throughput",
        "settings": {
            "shops": list(args.shops),
            "min_seconds": args.min_seconds,
            "repeats": args.repeats,
            "seed": args.seed,
            "checks": list(args.checks or []),
            "batched": args.batched,
            "phantom_python": phantom_python,
        },
        "machine": machine,
        "rows": rows,
        "side_by_side": None
        if side_rows is None
        else {"phantom": phantom_info, "pairs": args.pairs, "rows": side_rows},
        "goals": goals,
        "checks_rows": checks_rows,
        "batched_rows": batched_rows,
        "wall_seconds": time.perf_counter() - started,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {args.out}")
    return 0


def side_by_side(args: argparse.Namespace, phantom_python: str) -> list[dict]:
    """Phantom's tutorial supply chain vs ``supply_chain_v0`` (ParallelEnv), alternating."""
    print(
        f"\nSide by side, shop-steps/s: {args.pairs} alternating rounds (Phantom, phantomzoo) "
        f"per size of >= {args.min_seconds:g} s each, one subprocess per measurement"
    )
    sides = ps.supply_chain_sides(phantom_python)
    if args.batched:
        sides.append(ps.Side("ours_batched", "batched", sys.executable, BATCHED_WORKER, "sc"))
    rows = ps.compare_sizes(
        sides, args.shops, args.pairs, args.min_seconds, args.seed, quiet_wait=args.quiet_wait
    )
    sr.print_rows("phantomzoo / Phantom 2.2, supply chain (shop-steps/s)", rows)
    return rows


def compare_checks(args: argparse.Namespace) -> list[dict]:
    """Shop-steps/s of each check level, alternating runs; prints and returns the rows."""

    def measure(shops: int, level: str) -> float:
        def build() -> ph.PhantomEnv:
            env = ph.make("supply_chain_v0", num_shops=shops)
            env.checks = level
            return env

        rate = bm.measure_env_throughput(build, shops, args.min_seconds, args.seed)
        return rate["agent_steps_per_s"]

    print(
        f"\nRuntime checks, shop-steps/s: {args.repeats} alternating runs per level of "
        f">= {args.min_seconds:g} s; median, min-max; cost vs {args.checks[0]!r}\n"
    )
    rows = co.compare_levels(args.shops, args.checks, args.repeats, measure)
    print(bm.format_table(rows, co.COLUMNS))
    print()
    return rows


def compare_batched(args: argparse.Namespace) -> list[dict]:
    """Shop-steps/s of the per-agent and the batched path, alternating runs per size;
    prints and returns one row per (size, path)."""

    def measure(shops: int, path: str) -> float:
        def build() -> ph.PhantomEnv:
            return ph.make("supply_chain_v0", num_shops=shops, batched=path == "batched")

        rate = bm.measure_env_throughput(build, shops, args.min_seconds, args.seed)
        return rate["agent_steps_per_s"]

    print(
        f"\nBatched path, shop-steps/s: {args.repeats} alternating runs per path of "
        f">= {args.min_seconds:g} s; median, min-max\n"
    )
    rows = co.compare_levels(args.shops, ("per-agent", "batched"), args.repeats, measure)
    base = {r["size"]: r["median"] for r in rows if r["level"] == "per-agent"}
    for row in rows:
        row.update(
            shops=row["size"],
            path=row.pop("level"),
            speedup=row["median"] / base[row["size"]],
            us_per_shop_step=1e6 / row["median"],
        )
        row.pop("cost_pct")
    print(bm.format_table(rows, BATCHED_COLUMNS))
    print()
    return rows


def batched_goals(rows: list[dict], side_rows: list[dict] | None) -> list[dict]:
    """50x Phantom 2.2 at 1000 shops (batched side, same run) and a flat cost per
    shop-step of the batched path over the sizes measured."""
    by_size = {int(r["size"]): r for r in side_rows or ()}
    ratio = gl.ratio_goal(
        by_size.get(1000), 1000, BATCHED_RATIO_GOAL, "shops", "ours_batched", side_rows is not None
    )
    batched = [r for r in rows if r["path"] == "batched"]
    flat = bm.growth_check(batched, "shops", "us_per_shop_step", unit="shop-step (batched)")
    return [ratio, flat]


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except PhantomZooError as exc:
        raise SystemExit(f"{Path(__file__).name}: error: {exc}") from None
