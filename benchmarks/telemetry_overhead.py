"""What telemetry costs: supply_chain_v0 env steps per second with it off and on.

Plays whole episodes (resets included) of ``supply_chain_v0`` with fixed actions for
``--seconds`` per measurement, at each number of shops, and prints the median over
``--rounds`` alternating measurements, each in a fresh process::

    python benchmarks/telemetry_overhead.py                     # off vs on, this tree
    python benchmarks/telemetry_overhead.py --trees OLD/src,NEW/src --modes off

With ``--trees`` each source tree (a ``src`` directory holding ``phantomzoo``, with the
bundled models importable as ``phantomzoo.envs``) is measured in turn, alternating, so a
change's cost when telemetry is off is read from one run: the figure asked of telemetry
is that the off path costs nothing measurable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def measure(num_shops: int, seconds: float, mode: str) -> float:
    """Env steps per second of ``supply_chain_v0`` with telemetry ``mode`` (off / on)."""
    import numpy as np

    import phantomzoo as ph

    env = ph.make("supply_chain_v0", num_shops=num_shops)
    if mode == "on":
        folder = tempfile.mkdtemp()
        env.telemetry = ph.Telemetry(os.path.join(folder, "log.jsonl"))
    actions = {a: np.array([5.0], dtype=np.float32) for a in env.possible_agents}
    steps, seed = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.reset(seed=seed)
        seed += 1
        while env.agents:
            env.step(actions)
            steps += 1
    return steps / (time.perf_counter() - start)


def run_child(tree: str | None, num_shops: int, seconds: float, mode: str) -> float:
    """One measurement in a fresh interpreter (``tree`` first on its path)."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import telemetry_overhead as t; "
        "print(t.measure(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [sys.executable, "-c", code, here, str(num_shops), str(seconds), mode],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", default="1,100", help="comma-separated shop counts")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median)")
    parser.add_argument("--modes", default="off,on", help="telemetry modes: off, on")
    parser.add_argument("--trees", default="", help="comma-separated src trees to compare")
    args = parser.parse_args(argv)
    trees = [t for t in args.trees.split(",") if t] or [None]
    variants = [(t, m) for t in trees for m in args.modes.split(",")]
    table = []
    for shops in (int(s) for s in args.shops.split(",")):
        rates: dict[tuple[str | None, str], list[float]] = {v: [] for v in variants}
        for _ in range(args.rounds):
            for variant in variants:
                rates[variant].append(run_child(variant[0], shops, args.seconds, variant[1]))
        for (tree, mode), values in rates.items():
            row = {
                "shops": shops,
                "tree": tree or "installed",
                "telemetry": mode,
                "env_steps_per_s_median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
            table.append(row)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
