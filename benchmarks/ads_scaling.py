"""The paper's scalability table on this machine: time to converge for the ads market.

The paper (Table 2) trains the digital-ads market with one shared policy per advertiser
family and reports the time to converge at 6, 60, 120 and 1200 advertisers (48 vCPUs,
RLlib). This script trains the same market with the built-in ``cleanrl`` backend
(``ph.train(..., backend="cleanrl")``, one policy per family) and reports, per size:
wall time to convergence, end-to-end training agent-steps/s (env, inference and PPO
updates, on the training clock) and peak RSS.

**Convergence, defined before the run** (see :mod:`ads_convergence`, stored in the
JSON): training runs in chunks of ``--eval-every`` seconds (``ph.train`` resumed from its
checkpoint, so it is one run; the learning rate is constant because a wall-time budget
that grows chunk by chunk cannot be annealed). After each chunk the policies are
evaluated deterministically on fixed seeds (``--eval-seed`` ...), next to the value
heuristic (``ValueBidPolicy``) on the same seeds. A size has converged at the first
evaluation where (1) mean clicks per advertiser per episode >= the heuristic's, (2) the
paper's behaviour is present (travel advertisers' bid on user 2, who never clicks travel
ads, < 10% of their bid on user 1; sport advertisers bid on user 2, who always clicks
sport ads), and (3) the clicks curve improved by < 2% over the last 20% of the training
time (with >= 3 evaluations; once clicks saturate, the cost per click must also have
stopped falling by 2%). Clicks saturate at large sizes (more advertisers than
impressions: someone always wins and the user clicks), so cost per click (spend /
clicks, per family; lower is better) and budget left are reported too.

"Wall to conv." counts everything from the start of the size's run: training, the
checkpoint round trips between chunks and the evaluations; "train s" is the training
clock alone. The goals (PASS/MISS) use the wall figure. Each size runs in its own
process, so its peak RSS is its own. The machine is shared: ``uptime`` is recorded
before and after::

    python benchmarks/ads_scaling.py                       # 6, 60, 120, 1200 advertisers
    python benchmarks/ads_scaling.py --sizes 6,60,120 --max-seconds 120
    python benchmarks/ads_scaling.py --quick               # a smoke run, seconds
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ads_convergence  # noqa: E402
import ads_scaling_report as report  # noqa: E402

from phantomzoo.errors import ConfigError, PhantomZooError  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "ads_scaling.json"
ENV_ID = "digital_ads_v0"
DEFAULT_SIZES = (6, 60, 120, 1200)
#: Seconds of training between evaluations, by default: more at 1200 advertisers, where
#: an evaluation episode costs about 2 s.
EVAL_EVERY = {1200: 30.0}
EVAL_EVERY_DEFAULT = 10.0
#: cleanrl options of every size (num_envs is set per size, see ``size_options``): more
#: exploration than the backend's defaults (as benchmarks/train_cleanrl.py), so travel
#: advertisers find out that user 2 never clicks; a constant rate (chunked budget).
BASE_OPTIONS: dict[str, Any] = {
    "num_steps": 64,
    "anneal_lr": False,
    "learning_rate": 3e-4,
    "ent_coef": 0.01,
    "log_std_init": -0.5,
}
QUICK = {"sizes": (6,), "max_seconds": 6.0, "eval_every": 2.0, "eval_episodes": 2}
_UNBOUNDED_STEPS = 10**12  # the wall-time budget stops training


# ------------------------------------------------------------------------ arguments
def parse_sizes(text: str) -> tuple[int, ...]:
    """``"6,60"`` -> ``(6, 60)``: advertisers in all, each a multiple of 3 (3 families)."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--sizes must be comma-separated ints such as 6,60, got {text!r}")
    bad = [n for n in sizes if n < 3 or n % 3]
    if bad:
        raise ConfigError(
            f"--sizes: {bad} not a multiple of 3 advertisers >= 3 (three families of equal "
            "size); use e.g. 6,60,120,1200"
        )
    return sizes


def positive(name: str, value: float | None) -> float | None:
    """``value`` unless it is given and not a finite number > 0 (ConfigError)."""
    if value is not None and not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be a number of seconds > 0, got {value!r}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=None, help="advertisers (default: 6,60,120,1200)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="training-clock budget per size (default: 120, 600 at 1200 advertisers)",
    )
    parser.add_argument("--eval-every", type=float, default=None, help="seconds between evals")
    parser.add_argument("--eval-episodes", type=int, default=None, help="episodes per eval")
    parser.add_argument("--eval-seed", type=int, default=1000, help="first evaluation seed")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--options", type=json.loads, default={}, help="cleanrl options (JSON)")
    parser.add_argument("--quick", action="store_true", help="6 advertisers, a few seconds")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.eval_episodes is not None and args.eval_episodes < 1:
        raise ConfigError(f"--eval-episodes must be >= 1, got {args.eval_episodes}")
    if not isinstance(args.options, dict):
        raise ConfigError(f"--options must be a JSON object, got {args.options!r}")
    positive("--max-seconds", args.max_seconds)
    positive("--eval-every", args.eval_every)
    if args.quick:
        args.sizes = args.sizes or ",".join(map(str, QUICK["sizes"]))
        args.max_seconds = args.max_seconds or QUICK["max_seconds"]
        args.eval_every = args.eval_every or QUICK["eval_every"]
        args.eval_episodes = args.eval_episodes or QUICK["eval_episodes"]
    args.sizes = parse_sizes(args.sizes) if args.sizes else DEFAULT_SIZES
    return args


def size_settings(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Budget, evaluation and cleanrl options of one size."""
    per_family = size // 3
    options = {**BASE_OPTIONS, "num_envs": max(1, 32 // per_family), **args.options}
    if args.quick:
        options.setdefault("num_steps", 16)
        options["num_steps"] = min(options["num_steps"], 16)
    return {
        "advertisers": size,
        "env_config": {"advertisers_per_family": per_family},
        "max_seconds": args.max_seconds or (600.0 if size >= 1200 else 120.0),
        "eval_every": args.eval_every or EVAL_EVERY.get(size, EVAL_EVERY_DEFAULT),
        "eval_episodes": args.eval_episodes or max(3, min(10, 3600 // size)),
        "eval_seed": args.eval_seed,
        "seed": args.seed,
        "options": options,
    }


# --------------------------------------------------------------------------- worker
def peak_rss_mib() -> float:
    """This process's peak resident set size (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_size(settings: dict[str, Any], log: Any = print) -> dict[str, Any]:
    """Train one size in chunks until it converges or its budget is spent (see the docs)."""
    import phantomzoo as ph
    from phantomzoo.envs.digital_ads import bench

    config = settings["env_config"]
    env = ph.make(ENV_ID, **config)
    families = bench.policies(env)
    episodes, eval_seed = settings["eval_episodes"], settings["eval_seed"]
    heuristic = bench.market_summary(
        bench.baselines(env)["value heuristic"], env, episodes, eval_seed
    )
    curve: list[dict[str, Any]] = []
    trained = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ads_scaling_") as out:
        while trained < settings["max_seconds"]:
            target = min(settings["max_seconds"], trained + settings["eval_every"])
            result = ph.train(
                ENV_ID, families, backend="cleanrl", env_config=config,
                timesteps=_UNBOUNDED_STEPS, seed=settings["seed"], results_dir=out,
                options={**settings["options"], "max_seconds": target}, progress=False,
                overwrite=not curve, resume=bool(curve), checkpoint_seconds=None,
            )  # fmt: skip
            last = result.history[-1]
            if curve and last["seconds"] <= trained:
                break  # no progress: the budget is spent
            trained = float(last["seconds"])
            point = bench.market_summary(result.policies, env, episodes, eval_seed)
            point.update(
                train_seconds=trained,
                wall_seconds=time.perf_counter() - started,
                agent_steps=int(last["timesteps"]),
            )
            curve.append(point)
            point["check"] = ads_convergence.check(point, heuristic, curve, env.config["min_bid"])
            log(report.progress_line(settings["advertisers"], point, heuristic))
            if point["check"]["converged"]:
                break
    final = curve[-1]
    converged = final["check"]["converged"]
    return {
        **settings,
        "converged": converged,
        "train_seconds_to_convergence": final["train_seconds"] if converged else None,
        "wall_seconds_to_convergence": final["wall_seconds"] if converged else None,
        "train_seconds": final["train_seconds"],
        "wall_seconds": time.perf_counter() - started,
        "agent_steps": final["agent_steps"],
        "agent_steps_per_s": final["agent_steps"] / final["train_seconds"],
        "peak_rss_mib": peak_rss_mib(),
        "heuristic": heuristic,
        "final": final,
        "curve": curve,
    }


def worker_main(args: argparse.Namespace) -> int:
    """Run one size in this process and write its record to ``--worker-out``."""
    record = run_size(size_settings(args.worker, args), log=lambda s: print(s, flush=True))
    args.worker_out.write_text(json.dumps(record, default=str))
    return 0


# --------------------------------------------------------------------------- parent
def uptime() -> str:
    """``uptime``'s line (load averages), or the load averages alone."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def run_in_process(size: int, argv: Sequence[str]) -> dict[str, Any]:
    """One size in a fresh interpreter (its own peak RSS); its record."""
    with tempfile.TemporaryDirectory(prefix="ads_scaling_worker_") as tmp:
        out = Path(tmp) / "record.json"
        command = [sys.executable, str(Path(__file__).resolve()), *argv]
        command += ["--worker", str(size), "--worker-out", str(out)]
        done = subprocess.run(command, check=False)
        if done.returncode != 0 or not out.is_file():
            raise ConfigError(f"the run at {size} advertisers failed (exit {done.returncode})")
        return json.loads(out.read_text())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        if args.worker is not None:
            return worker_main(args)
        before = uptime()
        print(f"uptime before: {before}")
        records = [run_in_process(size, _without_out(argv)) for size in args.sizes]
        after = uptime()
        print(f"uptime after: {after}")
        results = report.build(records, vars(args), before, after, argv)
        print(report.table(records))
        print(report.format_goals(results["goals"]))
        results["plot"] = str(report.plot(records, args.out.with_suffix(".png")))
        report.write(args.out, results)
        print(f"results: {args.out}\nplot: {results['plot']}")
    except PhantomZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _without_out(argv: Sequence[str]) -> list[str]:
    """``argv`` less ``--out PATH`` (workers write their record elsewhere)."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--out":
            skip = True
        elif not arg.startswith("--out="):
            kept.append(arg)
    return kept


if __name__ == "__main__":
    sys.exit(main())
