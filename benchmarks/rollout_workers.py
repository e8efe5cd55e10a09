"""Rollouts on workers: configurations x repeats per second, 1 vs 2 workers.

One workload (the bundled supply chain with its order-up-to heuristic over a grid of
``cost_of_carry`` values, ``--configs`` x ``--repeats`` episodes of ``--steps`` steps,
``batch_size=1`` so every (configuration, repeat) is one work unit) is played by each
setting in turn, ``--rounds`` times, alternating settings within a round so that machine
noise hits all alike:

* ``in-process``: ``num_workers=0``;
* ``processes x1`` / ``x2``: a fresh process pool per call (its start-up is counted: it is
  what a user waits for);
* ``ray x1`` / ``x2`` (when Ray is installed): one private local Ray instance started
  once for the whole benchmark (its start-up, reported separately, is not counted).

Each setting reports the median rate (episodes = configurations x repeats per second)
with the min-max over its rounds, and its speed-up over in-process. Every run's rollouts
are checked to equal the in-process ones. Prints a table; ``--json PATH`` writes the
figures.

What the 2-core machine allows (measured with other jobs running, load average 1.7-3.6;
``--json``; results/ is not committed): no speed-up. In-process ~14 episodes/s;
processes x1 0.49x, x2 0.31x; Ray x1 0.24x, x2 0.22x. Two reasons: with other jobs on both
cores a second worker has no free core, and every Rollout carries every step (dicts of
observations, actions, infos), whose pickling to and from a worker costs about as much
as playing it (16 x 2000-step rollouts: 1.0 s to play, 0.5 s to pickle, 0.6 s to unpickle
in the parent, 4.9 MB). Workers pay off with more free cores and episodes whose steps
cost more to compute than to record.

Usage: ``python benchmarks/rollout_workers.py [--configs 4 --repeats 4 --steps 2000
--rounds 3] [--no-ray] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.ranges import LinspaceRange


def workload(configs: int, repeats: int, steps: int) -> dict[str, Any]:
    """The keyword arguments of the benchmarked ``ph.rollout`` call."""
    return {
        "env": "supply_chain_v0",
        "env_config": {"num_steps": steps, "cost_of_carry": LinspaceRange(0.1, 0.9, configs)},
        "custom_policy_mapping": {"SHOP": (OrderUpToPolicy, {"level": 25})},
        "num_repeats": repeats,
        "batch_size": 1,
        "show_progress_bar": False,
    }


def settings(use_ray: bool) -> dict[str, dict[str, Any]]:
    """Setting name -> the extra ``ph.rollout`` arguments."""
    out: dict[str, dict[str, Any]] = {
        "in-process": {"num_workers": 0},
        "processes x1": {"num_workers": 1, "backend": "processes"},
        "processes x2": {"num_workers": 2, "backend": "processes"},
    }
    if use_ray:
        out["ray x1"] = {"num_workers": 1, "backend": "ray"}
        out["ray x2"] = {"num_workers": 2, "backend": "ray"}
    return out


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def run(args: argparse.Namespace) -> dict[str, Any]:
    base = workload(args.configs, args.repeats, args.steps)
    episodes = args.configs * args.repeats
    use_ray = not args.no_ray and find_spec("ray") is not None
    table = settings(use_ray)
    rates: dict[str, list[float]] = {name: [] for name in table}
    ray_startup = None
    with ExitStack() as stack:
        if use_ray:
            import ray

            from phantomzoo.experiments.ray_workers import _local_instance

            ray_startup, _ = timed(lambda: stack.enter_context(_local_instance(ray, 2)))
        reference = ph.rollout(**base)
        for _ in range(args.rounds):
            for name, extra in table.items():
                seconds, rollouts = timed(lambda extra=extra: ph.rollout(**base, **extra))
                if rollouts != reference:
                    raise SystemExit(f"{name}: the rollouts differ from the in-process ones")
                rates[name].append(episodes / seconds)
    rows = []
    base_rate = statistics.median(rates["in-process"])
    for name, values in rates.items():
        median = statistics.median(values)
        rows.append({"setting": name, "median": median, "low": min(values),
                     "high": max(values), "speedup": median / base_rate})  # fmt: skip
    return {
        "workload": {
            "configs": args.configs,
            "repeats": args.repeats,
            "steps": args.steps,
            "episodes": episodes,
            "rounds": args.rounds,
        },  # fmt: skip
        "cpus": os.cpu_count(),
        "ray_startup_seconds": ray_startup,
        "rows": rows,
    }


def show(result: dict[str, Any]) -> None:
    w = result["workload"]
    print(f"{w['configs']} configurations x {w['repeats']} repeats of {w['steps']} steps, "
          f"{w['rounds']} rounds, {result['cpus']} CPUs")  # fmt: skip
    print(f"{'setting':<14} {'episodes/s':>11} {'min':>8} {'max':>8} {'vs in-process':>14}")
    for row in result["rows"]:
        print(f"{row['setting']:<14} {row['median']:>11.2f} {row['low']:>8.2f} "
              f"{row['high']:>8.2f} {row['speedup']:>13.2f}x")  # fmt: skip
    if result["ray_startup_seconds"] is not None:
        print(f"(Ray local instance start-up, not counted: {result['ray_startup_seconds']:.1f} s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray settings")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    for name in ("configs", "repeats", "steps", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    result = run(args)
    show(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
