"""The ``phantomzoo`` command line.

Usage::

    phantomzoo list
    phantomzoo train ENV --backend cleanrl [--config KEY=VALUE ...] [--timesteps N] [--out DIR]
    phantomzoo rollout DIR [--episodes N] [--out FILE.jsonl]
    phantomzoo bench ENV [--backends cleanrl,sb3,rllib] [--seconds S] [--episodes N] [--out DIR]

Mistakes a user can make (an unknown environment, a bad option value) print one line,
``phantomzoo: error: ...``, to stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .errors import ConfigError, PhantomZooError

PROG = "phantomzoo"

#: Environments ``phantomzoo bench`` has baselines for.
BENCH_ENVS = ("supply_chain_v0",)

DEFAULT_SHOPS = (1, 10, 100, 1000)
QUICK_SECONDS = 1.0
NORMAL_SECONDS = 3.0

DESCRIPTION = "Agent-based models with typed messages over networks, as PettingZoo environments."

EPILOG = """\
examples:
  phantomzoo list                                   environments and trainer backends
  phantomzoo train supply_chain_v0 --backend sb3    train the default policies
  phantomzoo rollout results/RUN --episodes 20      replay saved policies
  phantomzoo bench supply_chain_v0                  train, compare with baselines, plot

Run 'phantomzoo COMMAND --help' for the options of a command.
"""

TRAIN_DESCRIPTION = """\
Train the default policies of a registered environment with one backend.

The budget is --timesteps agent-steps and/or --seconds of wall time (60 s when neither
is given). Policies, training.json and TensorBoard files go to --out (default:
results/ENV-BACKEND-TIME). --config passes environment keywords, --option backend
options, both as KEY=VALUE (values parsed as JSON when possible).
"""

ROLLOUT_DESCRIPTION = """\
Replay the policies a training run saved (any backend) in the environment they were
trained on, and print the mean return per agent. --out writes every step as JSON lines.
"""

BENCH_DESCRIPTION = f"""\
Benchmark an environment: train each backend in --backends (default: cleanrl) under one
budget (--seconds, default 60, and/or --timesteps), evaluate the trained policies and
the environment's baselines (for the supply chain: the best order-up-to rule and random
restocking) on the same --episodes seeds, and print one comparison table: wall time,
training agent-steps/s, mean return +- std and % of the heuristic. Writes bench.json,
learning_curves.png and the model's plots to --out (default: bench_out).

For supply_chain_v0 it also measures environment throughput at --shops sizes against a
plain-Python floor of the same dynamics (each measurement >= --min-seconds, default
{NORMAL_SECONDS:g} s, {QUICK_SECONDS:g} s with --quick; skip it with --no-throughput).
"""


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- argument types
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _shop_counts(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        counts = tuple(int(p) for p in parts)
    except ValueError:
        counts = ()
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= 1 (like 1,10,100), got {text!r}"
        )
    return counts


def _backend_list(text: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    if names == ("none",):
        return ()
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated backend names, got {text!r}")
    return names


def _add_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timesteps", type=_positive_int, default=None, help="agent-steps to train"
    )
    parser.add_argument(
        "--seconds", type=_positive_float, default=None, help="wall-time budget (default: 60 s)"
    )


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The ``phantomzoo`` argument parser with its subcommands."""
    parser = _ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )

    commands.add_parser(
        "list",
        help="show registered environments and trainer backends",
        description="Show the registered environments and the installed trainer backends.",
    )

    train = commands.add_parser(
        "train",
        help="train an environment's default policies",
        description=TRAIN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("env", metavar="ENV", help="registered environment id")
    train.add_argument("--backend", default="cleanrl", help="cleanrl (default), sb3 or rllib")
    _add_budget(train)
    train.add_argument(
        "--config", nargs="*", default=[], metavar="KEY=VALUE", help="environment keywords"
    )
    train.add_argument(
        "--option", nargs="*", default=[], metavar="KEY=VALUE", help="backend options"
    )
    train.add_argument("--seed", type=_non_negative_int, default=0, help="seed (default: 0)")
    train.add_argument("--out", type=Path, default=None, help="results directory")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    rollout = commands.add_parser(
        "rollout",
        help="replay saved policies",
        description=ROLLOUT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rollout.add_argument(
        "dir", metavar="DIR", type=Path, help="results directory of a training run"
    )
    rollout.add_argument(
        "--episodes", type=_positive_int, default=10, help="episodes (default: 10)"
    )
    rollout.add_argument(
        "--seed", type=_non_negative_int, default=0, help="first seed (default: 0)"
    )
    rollout.add_argument(
        "--out", type=Path, default=None, help="JSON-lines file to write the steps to"
    )

    bench = commands.add_parser(
        "bench",
        help="train backends and compare them with baselines",
        description=BENCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("env", metavar="ENV", help="registered environment id, e.g. supply_chain_v0")
    bench.add_argument(
        "--backends",
        type=_backend_list,
        default=("cleanrl",),
        help="comma-separated backends to train (default: cleanrl); 'none' for baselines only",
    )
    _add_budget(bench)
    bench.add_argument(
        "--config", nargs="*", default=[], metavar="KEY=VALUE", help="environment keywords"
    )
    bench.add_argument("--no-throughput", action="store_true", help="skip the throughput table")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.add_argument(
        "--episodes",
        type=_positive_int,
        default=100,
        help="evaluation episodes per baseline policy (default: 100)",
    )
    bench.add_argument(
        "--seed", type=_non_negative_int, default=0, help="first evaluation seed (default: 0)"
    )
    bench.add_argument(
        "--out",
        type=Path,
        default=Path("bench_out"),
        help="directory for bench.json and plots (default: bench_out)",
    )
    bench.add_argument(
        "--quick",
        action="store_true",
        help=f"shorter throughput measurements ({QUICK_SECONDS:g} s instead of "
        f"{NORMAL_SECONDS:g} s each)",
    )
    bench.add_argument(
        "--shops",
        type=_shop_counts,
        default=DEFAULT_SHOPS,
        help="comma-separated shop counts for the throughput table (default: 1,10,100,1000)",
    )
    bench.add_argument(
        "--min-seconds",
        type=_positive_float,
        default=None,
        help="least seconds per throughput measurement (overrides --quick)",
    )
    return parser


# --------------------------------------------------------------------------- commands
def cmd_list(args: argparse.Namespace) -> int:
    """Print the registered environments and the available trainer backends."""
    from .registry import registered_envs

    envs = registered_envs()
    print("Environments:")
    if not envs:
        print("  (none registered)")
    width = max((len(i) for i in envs), default=0)
    for env_id in sorted(envs):
        description = envs[env_id].description or str(envs[env_id].entry_point)
        print(f"  {env_id.ljust(width)}  {description}")

    from phantomzoo.backends import available_backends

    backends = available_backends()
    print("\nTrainer backends:")
    if backends:
        for name in backends:
            print(f"  {name}")
    else:
        print("  (none installed yet)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train an environment's default policies and print where they went."""
    from .workflow import parse_config, train_env

    result = train_env(
        args.env,
        args.backend,
        parse_config(args.config),
        args.timesteps,
        args.seconds,
        args.seed,
        args.out,
        parse_config(args.option),
        progress=not args.quiet,
    )
    last = result.history[-1] if result.history else {}
    returns = ", ".join(f"{p}: {v:.1f}" for p, v in last.get("returns", {}).items())
    print(
        f"Trained {args.env} with {args.backend} in {result.wall_seconds:.1f} s "
        f"({last.get('timesteps', 0):,} agent-steps); latest mean returns: {returns or '-'}"
    )
    print(f"Policies, training.json and TensorBoard files: {result.results_dir}")
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    """Replay saved policies and print mean returns per agent."""
    from .workflow import rollout_results

    report = rollout_results(args.dir, args.episodes, args.seed, args.out)
    print(f"{report['env']['name']}: {args.episodes} episodes from seed {args.seed}")
    for agent_id, (mean, std) in report["returns"].items():
        print(f"  {agent_id}: {mean:.2f} ± {std:.2f}")
    if args.out is not None:
        print(f"Steps written to {args.out}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Train, evaluate against baselines, plot; add throughput for the supply chain."""
    from . import benchmarking as bm
    from .registry import spec
    from .workflow import bench, bench_table, parse_config

    spec(args.env)  # unknown ids raise RegistryError with a "did you mean" hint
    config = parse_config(args.config)
    seconds = args.seconds
    if seconds is None and args.timesteps is None:
        seconds = 20.0 if args.quick else 60.0
    throughput = None
    min_seconds = args.min_seconds or (QUICK_SECONDS if args.quick else NORMAL_SECONDS)
    if args.env in BENCH_ENVS and not args.no_throughput:
        # Measured first: after training, the interpreter's heap (torch, rollout buffers)
        # slows the same loop down by a third or more.
        throughput = bm.supply_chain_throughput_table(
            args.shops, min_seconds=min_seconds, seed=args.seed
        )
    report = bench(
        args.env,
        args.backends,
        config,
        args.timesteps,
        seconds,
        args.episodes,
        args.seed,
        args.out,
        progress=not args.quiet,
    )
    print(f"\n{args.env}: {args.episodes} evaluation episodes from seed {args.seed}")
    print(bench_table(report["rows"]))
    if throughput is not None:
        shops = ", ".join(str(n) for n in args.shops)
        print(f"\nThroughput: random actions, >= {min_seconds:g} s per measurement, shops {shops}")
        print(bm.format_table(throughput, bm.THROUGHPUT_COLUMNS))
        goals = bm.check_goals(throughput)
        for goal in goals:
            print(f"  {goal['status']:4}  {goal['name']}: {goal['detail']}")
        report["throughput"] = throughput
        report["goals"] = goals
        report["machine"] = bm.machine_info()
    path = _write_json(args.out, report)
    print(f"\nWrote {path}")
    for plot in report["plots"]:
        print(f"Plot: {plot}")
    return 0


def _write_json(out_dir: Path, payload: dict[str, Any]) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "bench.json"
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write results to {str(out_dir)!r}: {exc.strerror}") from exc
    return path


COMMANDS = {"list": cmd_list, "train": cmd_train, "rollout": cmd_rollout, "bench": cmd_bench}


# --------------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``phantomzoo`` command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a usage or configuration error.
    """
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except PhantomZooError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version exit through argparse
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
