"""The ``phantomzoo`` command line: list environments, benchmark one.

Usage::

    phantomzoo list
    phantomzoo bench supply_chain_v0 [--episodes 100] [--seed 0] [--out bench_out] [--quick]

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
  phantomzoo list                          registered environments and trainer backends
  phantomzoo bench supply_chain_v0         baselines and throughput (about a minute)
  phantomzoo bench supply_chain_v0 --quick shorter throughput measurements

Run 'phantomzoo COMMAND --help' for the options of a command.
"""

BENCH_DESCRIPTION = f"""\
Benchmark an environment (currently: supply_chain_v0).

Baselines: the best order-up-to level for one shop is searched on separate seeds, then
the heuristic and uniform random actions are evaluated on --episodes episodes (seeds
--seed, --seed + 1, ...); the table shows mean return +- std and % of the heuristic.

Throughput: full episodes (resets included) under uniform random actions at each
--shops size, against a hand-written plain-Python floor of the same dynamics and the
Phantom 2.2 reference figures. Each measurement runs at least --min-seconds (default
{NORMAL_SECONDS:g} s, or {QUICK_SECONDS:g} s with --quick).

Results are written to OUT/bench.json.
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

    bench = commands.add_parser(
        "bench",
        help="baselines and throughput of an environment",
        description=BENCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("env", metavar="ENV", help="registered environment id, e.g. supply_chain_v0")
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
        help="directory to write bench.json to (default: bench_out)",
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


def cmd_bench(args: argparse.Namespace) -> int:
    """Print baseline and throughput tables for ``args.env`` and write bench.json."""
    from . import benchmarking as bm
    from .registry import spec

    spec(args.env)  # unknown ids raise RegistryError with a "did you mean" hint
    if args.env not in BENCH_ENVS:
        raise ConfigError(
            f"bench has no baselines for {args.env!r} yet; supported: {', '.join(BENCH_ENVS)}"
        )
    min_seconds = args.min_seconds or (QUICK_SECONDS if args.quick else NORMAL_SECONDS)

    print(f"Baselines: {args.env}, 1 shop, {args.episodes} episodes from seed {args.seed}")
    baselines = bm.baseline_returns(num_episodes=args.episodes, seed=args.seed)
    print(bm.format_table(bm.baseline_rows(baselines), bm.BASELINE_COLUMNS))

    shops = ", ".join(str(n) for n in args.shops)
    print(f"\nThroughput: random actions, >= {min_seconds:g} s per measurement, shops {shops}")
    rows = bm.supply_chain_throughput_table(args.shops, min_seconds=min_seconds, seed=args.seed)
    print(bm.format_table(rows, bm.THROUGHPUT_COLUMNS))
    goals = bm.check_goals(rows)
    for goal in goals:
        print(f"  {goal['status']:4}  {goal['name']}: {goal['detail']}")

    path = _write_json(
        args.out,
        {
            "env": args.env,
            "settings": {
                "episodes": args.episodes,
                "seed": args.seed,
                "quick": args.quick,
                "shops": list(args.shops),
                "min_seconds": min_seconds,
            },
            "machine": bm.machine_info(),
            "baselines": baselines,
            "throughput": rows,
            "goals": goals,
        },
    )
    print(f"\nWrote {path}")
    return 0


def _write_json(out_dir: Path, payload: dict[str, Any]) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "bench.json"
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write results to {str(out_dir)!r}: {exc.strerror}") from exc
    return path


COMMANDS = {"list": cmd_list, "bench": cmd_bench}


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
