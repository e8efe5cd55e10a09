"""Throughput of the digital-ads market against a plain-Python floor and, when a
Phantom interpreter is given, against Phantom 2.2 measured side by side.

Runs whole episodes (resets included) of ``digital_ads_v0`` through the acting-agents
protocol (``acting_reset`` / ``acting_step``, one impression per step) under uniform
random bids drawn in one seeded batch per step, at 6, 60, 120 and 1200 advertisers;
does the same with the hand-written floor
(:class:`phantomzoo.envs.digital_ads.floor.PlainDigitalAds`); prints the table, the goal
checks and the baseline clicks, and writes everything as JSON::

    python benchmarks/ads_throughput.py                        # 6,60,120,1200, >= 2 s each
    python benchmarks/ads_throughput.py --advertisers 6,60 --min-seconds 1 --repeats 1
    python benchmarks/ads_throughput.py --checks off,first      # + runtime-check cost
    python benchmarks/ads_throughput.py --advertisers 6,1200 --phantom-python PATH

Columns: ``env-steps/s`` counts ``acting_step`` calls (one impression, two stages),
``adv-steps/s`` advertiser actions (what a trainer consumes), ``CPU µs/adv-step`` the
process CPU time per advertiser action (less inflated than wall time when other
programs share the cores), ``ours/floor`` phantomzoo adv-steps/s over the floor's.

With a Phantom interpreter (``--phantom-python`` or ``$PHANTOM_PY``) every size is also
measured side by side (:mod:`phantom_side`) on equal work: Phantom's digital-ads example
and ``digital_ads_v0`` with the same advertisers, budget ranges and 10 impressions per
episode, in alternating rounds (``--pairs``, at least 3) of Phantom, phantomzoo's acting
protocol and phantomzoo's PettingZoo AEC API (``agent_iter`` / ``last`` / ``step``);
the ratios phantomzoo / Phantom are printed with median and min-max over rounds.
Without one, only phantomzoo's figures and its ratio to the floor are printed: no
figure of Phantom is stored anywhere.

Goals (PASS / MISS from the numbers just measured, SKIP when not measured): 5x Phantom
2.2 at 6 advertisers and 10x at 1200, through both APIs (median ratio of the same run),
and a cost per advertiser-step that does not grow with the number of advertisers (no
size costs more than 1.25x a smaller one). With ``--checks off,first`` the runtime
check levels are also measured side by side (alternating runs, medians with min-max);
the always-on ``"first"`` checks must cost at most 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import checks_overhead as co
import goals as gl
import numpy as np
import phantom_side as ps
import side_report as sr

import phantomzoo as ph
from phantomzoo.cli.bench import format_table, machine_info
from phantomzoo.envs.digital_ads import RandomBidPolicy, ValueBidPolicy, evaluate_clicks
from phantomzoo.envs.digital_ads.floor import PlainDigitalAds
from phantomzoo.errors import PhantomZooError

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "ads_throughput.json"

WARMUP_STEPS = 10
MAX_BID = 1.0

COLUMNS = [
    ("advertisers", "advertisers", ",d"),
    ("env_steps_per_s", "env-steps/s", ",.0f"),
    ("adv_steps_per_s", "adv-steps/s", ",.0f"),
    ("us_per_adv_step", "µs/adv-step", ".2f"),
    ("cpu_us_per_adv_step", "CPU µs/adv-step", ".2f"),
    ("floor_adv_steps_per_s", "floor adv-steps/s", ",.0f"),
    ("ratio_vs_floor", "ours/floor", ".2f"),
]
BASELINE_COLUMNS = [
    ("auction", "auction"),
    ("policy", "policy"),
    ("travel", "travel", ".2f"),
    ("tech", "tech", ".2f"),
    ("sport", "sport", ".2f"),
    ("overall", "overall", ".2f"),
]


# ----------------------------------------------------------------------- measurement
def _rates(env_steps: int, adv_steps: int, seconds: float, cpu: float) -> dict[str, float]:
    """Rates of a run; ``cpu`` is the process CPU time, which other programs on a shared
    machine inflate less than wall time."""
    return {
        "env_steps": env_steps,
        "adv_steps": adv_steps,
        "seconds": seconds,
        "env_steps_per_s": env_steps / seconds,
        "adv_steps_per_s": adv_steps / seconds,
        "us_per_adv_step": 1e6 * seconds / adv_steps,
        "cpu_us_per_adv_step": 1e6 * cpu / adv_steps,
    }


def measure_env(
    per_family: int, min_seconds: float, seed: int, checks: str | None = None
) -> dict[str, float]:
    """Advertiser-steps per second of ``digital_ads_v0`` (acting-agents protocol).

    ``checks`` sets the env's runtime check level (default: the env's default).
    """
    env = ph.make("digital_ads_v0", advertisers_per_family=per_family, max_bid=MAX_BID)
    if checks is not None:
        env.checks = checks
    rng = np.random.default_rng(seed)

    def bids(count: int) -> np.ndarray:
        return rng.uniform(0.0, MAX_BID, size=(count, 1)).astype(np.float32)

    env.acting_reset(seed=seed)
    for _ in range(WARMUP_STEPS):
        acting = env.acting_agents
        if not acting:
            break
        env.acting_step(dict(zip(acting, bids(len(acting)))))
    env_steps = adv_steps = episode = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while True:
        env.acting_reset(seed=seed + episode)
        episode += 1
        acting = env.acting_agents
        while acting:
            env.acting_step(dict(zip(acting, bids(len(acting)))))
            env_steps += 1
            adv_steps += len(acting)
            acting = env.acting_agents
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            return _rates(env_steps, adv_steps, seconds, time.process_time() - cpu_start)


def measure_floor(per_family: int, min_seconds: float, seed: int) -> dict[str, float]:
    """The same for the plain-Python floor: same warm-up, episodes and bid draws."""
    floor = PlainDigitalAds(per_family, max_bid=MAX_BID)
    rng = np.random.default_rng(seed)

    def bids(count: int) -> np.ndarray:
        return rng.uniform(0.0, MAX_BID, size=(count, 1)).astype(np.float32)

    floor.reset(seed)
    for _ in range(WARMUP_STEPS):
        if not floor.live:
            break
        floor.step(bids(len(floor.live)))
    env_steps = adv_steps = episode = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while True:
        floor.reset(seed + episode)
        episode += 1
        while floor.live:
            count = len(floor.live)
            floor.step(bids(count))
            env_steps += 1
            adv_steps += count
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            return _rates(env_steps, adv_steps, seconds, time.process_time() - cpu_start)


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median advertiser-step rate (shared machines are noisy)."""
    return sorted(runs, key=lambda r: r["adv_steps_per_s"])[len(runs) // 2]


def measure_row(advertisers: int, min_seconds: float, seed: int, repeats: int) -> dict[str, Any]:
    """One table row; framework and floor runs are interleaved, the median kept."""
    per_family = advertisers // 3
    ours_runs, floor_runs = [], []
    for _ in range(max(1, repeats)):
        ours_runs.append(measure_env(per_family, min_seconds, seed))
        floor_runs.append(measure_floor(per_family, min_seconds, seed))
    ours, floor = _median(ours_runs), _median(floor_runs)
    return {
        "advertisers": advertisers,
        "env_steps_per_s": ours["env_steps_per_s"],
        "adv_steps_per_s": ours["adv_steps_per_s"],
        "us_per_adv_step": ours["us_per_adv_step"],
        "cpu_us_per_adv_step": ours["cpu_us_per_adv_step"],
        "floor_env_steps_per_s": floor["env_steps_per_s"],
        "floor_adv_steps_per_s": floor["adv_steps_per_s"],
        "floor_us_per_adv_step": floor["us_per_adv_step"],
        "ratio_vs_floor": ours["adv_steps_per_s"] / floor["adv_steps_per_s"],
        "runs_adv_steps_per_s": [r["adv_steps_per_s"] for r in ours_runs],
        "floor_runs_adv_steps_per_s": [r["adv_steps_per_s"] for r in floor_runs],
        "seconds_measured": ours["seconds"],
    }


# ------------------------------------------------------------------------- baselines
def baseline_rows(episodes: int, seed: int) -> list[dict[str, Any]]:
    """Mean clicks per episode per family of random and value bidding, 6 advertisers."""
    rows = []
    for auction in ("first", "second"):
        env = ph.make("digital_ads_v0", auction=auction)
        agent = env.possible_agents[0]
        spaces = (env.observation_space(agent), env.action_space(agent))
        policies = {
            "random": RandomBidPolicy(*spaces, seed=seed),
            "value heuristic": ValueBidPolicy(*spaces),
        }
        for label, policy in policies.items():
            clicks = evaluate_clicks(env, policy, num_episodes=episodes, seed=seed)
            rows.append({"auction": auction, "policy": label, **clicks})
    return rows


# ------------------------------------------------------------------------------ main
def parse_sizes(text: str) -> tuple[int, ...]:
    """``"6,60"`` -> ``(6, 60)``; each size must be a positive multiple of 3."""
    try:
        sizes = tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        sizes = ()
    if not sizes or any(s < 3 or s % 3 for s in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated multiples of 3 (three families), got {text!r}"
        )
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--advertisers", type=parse_sizes, default=(6, 60, 120, 1200))
    parser.add_argument("--min-seconds", type=float, default=2.0, help="per run (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size; median kept")
    parser.add_argument("--episodes", type=int, default=50, help="baseline episodes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--checks",
        type=co.parse_levels,
        default=None,
        help="also compare runtime check levels side by side, e.g. off,first",
    )
    ps.add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.min_seconds > 0 or args.repeats < 1 or args.episodes < 1:
        parser.error("--min-seconds must be > 0, --repeats and --episodes >= 1")
    return args


def compare_checks(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Advertiser-steps/s of each check level, alternating runs; prints the rows."""

    def measure(advertisers: int, level: str) -> float:
        run = measure_env(advertisers // 3, args.min_seconds, args.seed, checks=level)
        return run["adv_steps_per_s"]

    print(
        f"\nRuntime checks, adv-steps/s: {args.repeats} alternating runs per level of "
        f">= {args.min_seconds:g} s; median, min-max; cost vs {args.checks[0]!r}\n"
    )
    rows = co.compare_levels(args.advertisers, args.checks, args.repeats, measure)
    print(format_table(rows, co.COLUMNS))
    print()
    return rows


def side_by_side(args: argparse.Namespace, phantom_python: str) -> list[dict[str, Any]]:
    """Phantom's ads example vs ``digital_ads_v0`` through both APIs, alternating."""
    print(
        f"\nSide by side, adv-steps/s: {args.pairs} alternating rounds (Phantom, acting "
        f"protocol, AEC API) per size of >= {args.min_seconds:g} s each, 10 impressions "
        "per episode, one subprocess per measurement"
    )
    sides = ps.ads_sides(phantom_python)
    rows = ps.compare_sizes(
        sides, args.advertisers, args.pairs, args.min_seconds, args.seed, quiet_wait=args.quiet_wait
    )
    sr.print_rows("phantomzoo / Phantom 2.2, digital ads (advertiser-steps/s)", rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phantom_python, phantom_info = ps.prepare(args)  # refuse bad options before measuring
    machine = machine_info()
    print(f"{machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs")
    print(
        f"digital_ads_v0 (first price), uniform random bids, median of {args.repeats} runs "
        f"of >= {args.min_seconds:g} s each\n"
    )
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} (1 min) on {machine['cpu_count']} CPUs")
    started = time.perf_counter()
    rows = [measure_row(n, args.min_seconds, args.seed, args.repeats) for n in args.advertisers]
    print(format_table(rows, COLUMNS))
    load_after = os.getloadavg()
    print(
        f"load average after: {load_after[0]:.2f} (1 min); above the CPU count, other "
        "programs share the cores and wall-clock rates fall (CPU µs is less affected)"
    )
    side_rows = None
    if phantom_python is not None:
        side_rows = side_by_side(args, phantom_python)
    goals = gl.check_ads_goals(rows, side_rows)
    print()
    for goal in goals:
        print(f"{goal['status']:4s}  {goal['name']}: {goal.get('detail', 'not measured')}")
    checks_rows: list[dict[str, Any]] = []
    if args.checks:
        checks_rows = compare_checks(args)
        goals.append(co.first_cost_goal(checks_rows))
        print(f"{goals[-1]['status']:4s}  {goals[-1]['name']}: {goals[-1]['detail']}")
    baselines = baseline_rows(args.episodes, args.seed)
    print(
        f"\nMean clicks per episode (6 advertisers, {args.episodes} episodes from seed "
        f"{args.seed}; family totals)\n"
    )
    print(format_table(baselines, BASELINE_COLUMNS))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "settings": {
            "advertisers": list(args.advertisers),
            "min_seconds": args.min_seconds,
            "repeats": args.repeats,
            "seed": args.seed,
            "episodes": args.episodes,
            "auction": "first",
            "max_bid": MAX_BID,
            "checks": list(args.checks or []),
            "phantom_python": phantom_python,
        },
        "machine": machine,
        "load_average_1min": {"before": load_before[0], "after": load_after[0]},
        "rows": rows,
        "side_by_side": None
        if side_rows is None
        else {"phantom": phantom_info, "pairs": args.pairs, "rows": side_rows},
        "goals": goals,
        "checks_rows": checks_rows,
        "baselines": baselines,
        "wall_seconds": time.perf_counter() - started,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except PhantomZooError as exc:
        raise SystemExit(f"{Path(__file__).name}: error: {exc}") from None
