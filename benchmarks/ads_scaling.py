"""The paper's scalability table on this machine: time to converge for the ads market.

The paper (Table 2) trains the digital-ads market with one shared policy per advertiser
family and reports the time to converge at 6, 60, 120 and 1200 advertisers (48 vCPUs,
RLlib). This script trains the same market with the built-in ``cleanrl`` backend
(``ph.train(..., backend="cleanrl")``, one policy per family) and reports, per size:
wall time to convergence, end-to-end training agent-steps/s (env, inference and PPO
updates, on the training clock) and peak RSS.

**Convergence, defined before the run** (see :mod:`ads_convergence`, stored in the
JSON): one training run per size, with the backend's default PPO settings and a
budget of ``--max-seconds`` (the learning rate anneals over it), is paused every
``--eval-every`` seconds the way Ctrl-C pauses it (policies and a checkpoint saved,
then ``resume=True``; see :class:`StopAfter`). After each chunk the policies are
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
import signal
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

from phantomzoo.errors import ConfigError, PhantomZooError, TrainingInterrupted  # noqa: E402
from phantomzoo.training.interrupts import StopSignals  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "ads_scaling.json"
ENV_ID = "digital_ads_v0"
DEFAULT_SIZES = (6, 60, 120, 1200)
#: Seconds of training between evaluations, by default: more at 1200 advertisers, where
#: an evaluation episode costs about 2 s.
EVAL_EVERY = {1200: 30.0}
EVAL_EVERY_DEFAULT = 10.0
#: cleanrl options of every size besides the backend's defaults (``num_envs`` is set per
#: size, see :func:`size_settings`): 64 acting steps per env copy per PPO update.
BASE_OPTIONS: dict[str, Any] = {"num_steps": 64}
QUICK = {"sizes": (6,), "max_seconds": 4.0, "eval_every": 2.0, "eval_episodes": 2}
_UNBOUNDED_STEPS = 10**12  # the wall-time budget stops training


# ------------------------------------------------------------------------ arguments
def parse_sizes(text: str) -> tuple[int, ...]:
    """``"6,60"`` -> ``(6, 60)``: advertisers in all, each a multiple of 3 (3 families)."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--sizes must be comma-separated ints such as 6,60, got {text!r}"
        ) from None
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
        help="training budget per size (default: 100 s, 500 s at 1200: the wall goals less evals)",
    )
    parser.add_argument("--eval-every", type=float, default=None, help="seconds between evals")
    parser.add_argument("--eval-episodes", type=int, default=None, help="episodes per eval")
    parser.add_argument("--eval-seed", type=int, default=1000, help="first evaluation seed")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--options", type=json.loads, default={}, help="cleanrl options (JSON)")
    parser.add_argument("--quick", action="store_true", help="6 advertisers, a few seconds")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--report",
        type=Path,
        nargs="+",
        default=None,
        help="print the table of results JSONs (several: merged into --out), run nothing",
    )
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
        options["num_steps"] = min(options.get("num_steps", 16), 16)
    return {
        "advertisers": size,
        "env_config": {"advertisers_per_family": per_family},
        "max_seconds": args.max_seconds or (500.0 if size >= 1200 else 100.0),
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


class StopAfter:
    """Ask the ``ph.train`` call in progress to stop after ``seconds``, as Ctrl-C would.

    ``ph.train`` turns SIGINT into a stop request (:class:`StopSignals`): the loop ends
    at the next iteration boundary, saves policies and a checkpoint and raises
    ``TrainingInterrupted``; ``resume=True`` then continues the same run, on the same
    learning-rate schedule (annealed over the whole ``max_seconds``) and clock. A
    ``SIGALRM`` timer makes the request (POSIX only); it retries every 0.2 s until
    ``ph.train`` has installed its handler.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._previous: Any = None

    def __enter__(self) -> StopAfter:
        self._previous = signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)

    def _fire(self, signum: int, frame: Any) -> None:
        stop = getattr(signal.getsignal(signal.SIGINT), "__self__", None)
        if isinstance(stop, StopSignals):
            stop.request("SIGINT")
        else:  # not inside the training loop yet (or already out of it)
            signal.setitimer(signal.ITIMER_REAL, 0.2)


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
    options = {**settings["options"], "max_seconds": settings["max_seconds"]}
    with tempfile.TemporaryDirectory(prefix="ads_scaling_") as out:
        chunk, begun = settings["eval_every"], False
        while True:
            with StopAfter(chunk):
                try:
                    result = ph.train(
                        ENV_ID, families, backend="cleanrl", env_config=config,
                        timesteps=_UNBOUNDED_STEPS, seed=settings["seed"], results_dir=out,
                        options=options, progress=False, overwrite=not begun, resume=begun,
                        checkpoint_seconds=None,
                    )  # fmt: skip
                except TrainingInterrupted as stopped:  # the chunk is over: evaluate
                    result = stopped.result
            begun = True
            if not result.history or result.history[-1]["seconds"] <= trained:
                if not result.interrupted:
                    break  # the budget is spent
                chunk *= 2  # stopped before its first update (setup took the chunk): longer
                continue
            chunk = settings["eval_every"]
            last = result.history[-1]
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
            if point["check"]["converged"] or not result.interrupted:
                break  # converged, or the whole budget is spent
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


def check_options(args: argparse.Namespace) -> None:
    """ConfigError if the cleanrl options of some size are not the backend's."""
    from phantomzoo.backends import load_backend

    backend = load_backend("cleanrl")
    for size in args.sizes:
        options = size_settings(size, args)["options"]
        unknown = sorted(set(options) - set(backend.OPTIONS))
        if unknown:
            raise ConfigError(
                f"--options: cleanrl has no option(s) {unknown}; it takes {sorted(backend.OPTIONS)}"
            )
        backend.check_options(options)


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
        if args.report is not None:
            return show_report(args.report, args.out)
        check_options(args)  # a bad option is refused before any size trains
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


def show_report(paths: Sequence[Path], out: Path | None = None) -> int:
    """Print the table and goals of results JSONs written earlier (several: their sizes
    together, e.g. 6-120 and 1200 run apart); redraw the plot next to ``out`` (default:
    next to the first file) and, for several files, write their union to ``out``."""
    runs, records = [], []
    for path in paths:
        try:
            results = json.loads(Path(path).read_text(encoding="utf-8"))
            records.extend(results["sizes"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"--report: {str(path)!r} is not a results file of this script ({exc}); give "
                "the JSON that --out wrote"
            ) from None
        runs.append(results)
        print(f"{results.get('command', '')}\n  uptime before: {results.get('uptime_before')}")
        print(f"  uptime after: {results.get('uptime_after')}")
    records.sort(key=lambda r: r["advertisers"])
    print(report.table(records))
    checks = report.goals(records)
    print(report.format_goals(checks))
    target = Path(out if out is not None and len(paths) > 1 else paths[0])
    print(f"plot: {report.plot(records, target.with_suffix('.png'))}")
    if len(paths) > 1:
        merged = {
            "commands": [r.get("command") for r in runs],
            "uptime": [[r.get("uptime_before"), r.get("uptime_after")] for r in runs],
            "convergence": runs[0].get("convergence"),
            "machine": runs[0].get("machine"),
            "rows": report.rows(records),
            "goals": checks,
            "sizes": records,
        }
        print(f"results: {report.write(target, merged)}")
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
