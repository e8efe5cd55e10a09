"""The grammar of the ``phantomzoo`` command line: its subcommands, flags and help texts.

The parser never prints usage or exits by itself: a mistake raises
:class:`~phantomzoo.errors.ConfigError`, which :func:`phantomzoo.cli.main` reports on
one line. Values are checked by the types in :mod:`phantomzoo.cli.args`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from ..errors import ConfigError
from . import args as types

PROG = "phantomzoo"

QUICK_SECONDS = 1.0
NORMAL_SECONDS = 3.0
DEFAULT_CHECKPOINT_SECONDS = 300.0

DESCRIPTION = "Agent-based models with typed messages over networks, as PettingZoo environments."

EPILOG = """\
examples:
  phantomzoo list                                   environments and trainer backends
  phantomzoo train supply_chain_v0 --backend sb3    train the default policies
  phantomzoo train --resume results/RUN             continue an interrupted run
  phantomzoo rollout results/RUN --episodes 20      replay saved policies
  phantomzoo bench supply_chain_v0                  train, compare with baselines, plot

Run 'phantomzoo COMMAND --help' for the options of a command. Errors print one line
(exit status 2); add --debug to see the full traceback of any error.
"""

TRAIN_DESCRIPTION = f"""\
Train the default policies of a registered environment with one backend.

The budget is --timesteps agent-steps and/or --seconds of wall time (60 s when neither
is given). Policies, training.json, checkpoints and TensorBoard files go to --out
(default: results/ENV-BACKEND-TIME). --config passes environment keywords, --option
backend options, both as KEY=VALUE (values parsed as JSON when possible).

An existing results directory is refused unless --overwrite (start again) is given.
Training checkpoints every --checkpoint-seconds (default {DEFAULT_CHECKPOINT_SECONDS:g})
and on Ctrl-C/SIGTERM; 'train --resume DIR' continues from the last checkpoint with
the run's recorded environment, backend, options and seed (give a new --timesteps or
--seconds budget to extend it).
"""

ROLLOUT_DESCRIPTION = """\
Replay the policies a training run saved (any backend) in the environment they were
trained on, and print the mean return per agent. --out writes every step as JSON lines;
--plots DIR draws the first episode's message graph and timeline there (PNG files).

A results directory is untrusted input: by default it may only name registered
environments and phantomzoo's own policy classes. If it names your own module (an
environment factory or a fixed policy class), pass --trust --allow MODULE to let it
import exactly that module.
"""

BENCH_DESCRIPTION = f"""\
Benchmark an environment: train each backend in --backends (default: cleanrl) under one
budget (--seconds, default 60, and/or --timesteps), evaluate the trained policies and
the environment's baselines (for the supply chain: the best order-up-to rule and random
restocking) on the same --episodes seeds, and print one comparison table: wall time,
training agent-steps/s, mean return +- std and % of the heuristic. Writes bench.json,
learning_curves.png, the model's plots and one episode's message_graph.png and
timeline.png to --out (default: bench_out).

It also measures environment throughput under random actions (each measurement
>= --min-seconds, default {NORMAL_SECONDS:g} s, {QUICK_SECONDS:g} s with --quick; skip it with
--no-throughput). A model may define the sizes to measure and what to compare with
(supply_chain_v0: 1, 10, 100 and 1000 shops against a plain-Python floor; choose others
with --sizes); any other environment is measured as configured by --config.
"""


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- flag groups
def _add_debug(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show the full traceback of any error (before or after the command)",
    )


def _add_budget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timesteps", type=types.timesteps, default=None, help="agent-steps to train"
    )
    parser.add_argument(
        "--seconds", type=types.seconds, default=None, help="wall-time budget (default: 60 s)"
    )


def _add_trust(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust",
        action="store_true",
        help="let the results directory import the modules named with --allow (by "
        "default it may name registered environments only)",
    )
    parser.add_argument(
        "--allow",
        nargs="+",
        action="extend",
        default=[],
        metavar="MODULE",
        help="module prefixes the results directory may import (needs --trust)",
    )


def _pairs(parser: argparse.ArgumentParser, flag: str, what: str) -> None:
    parser.add_argument(flag, nargs="*", default=None, metavar="KEY=VALUE", help=what)


# --------------------------------------------------------------------------- subcommands
def _add_train(commands: Any) -> None:
    train = commands.add_parser(
        "train",
        help="train an environment's default policies (or resume a run)",
        description=TRAIN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument(
        "env", metavar="ENV", nargs="?", default=None, help="registered environment id"
    )
    train.add_argument("--backend", default=None, help="cleanrl (default), sb3 or rllib")
    _add_budget(train)
    _pairs(train, "--config", "environment keywords")
    _pairs(train, "--option", "backend options")
    train.add_argument("--seed", type=types.seed, default=None, help="seed (default: 0)")
    train.add_argument("--out", type=types.path, default=None, help="results directory")
    train.add_argument(
        "--overwrite", action="store_true", help="replace an existing results directory"
    )
    train.add_argument(
        "--resume",
        type=types.path,
        default=None,
        metavar="DIR",
        help="continue the run saved in DIR from its latest checkpoint",
    )
    train.add_argument(
        "--checkpoint-seconds",
        type=types.seconds,
        default=None,
        metavar="S",
        help=f"seconds between checkpoints (default: {DEFAULT_CHECKPOINT_SECONDS:g})",
    )
    _add_trust(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_debug(train, argparse.SUPPRESS)


def _add_rollout(commands: Any) -> None:
    rollout = commands.add_parser(
        "rollout",
        help="replay saved policies",
        description=ROLLOUT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rollout.add_argument(
        "dir", metavar="DIR", type=types.path, help="results directory of a training run"
    )
    rollout.add_argument(
        "--episodes", type=types.episodes, default=10, help="episodes (default: 10)"
    )
    rollout.add_argument("--seed", type=types.seed, default=0, help="first seed (default: 0)")
    rollout.add_argument(
        "--out", type=types.path, default=None, help="JSON-lines file to write the steps to"
    )
    rollout.add_argument(
        "--plots",
        type=types.path,
        default=None,
        metavar="DIR",
        help="directory for the first episode's message_graph.png and timeline.png",
    )
    _add_trust(rollout)
    _add_debug(rollout, argparse.SUPPRESS)


def _add_bench(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="train backends and compare them with baselines",
        description=BENCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("env", metavar="ENV", help="registered environment id, e.g. supply_chain_v0")
    bench.add_argument(
        "--backends",
        type=types.backend_list,
        default=("cleanrl",),
        help="comma-separated backends to train (default: cleanrl); 'none' for baselines only",
    )
    _add_budget(bench)
    _pairs(bench, "--config", "environment keywords")
    bench.add_argument("--no-throughput", action="store_true", help="skip the throughput table")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.add_argument(
        "--episodes",
        type=types.episodes,
        default=100,
        help="evaluation episodes per baseline policy (default: 100)",
    )
    bench.add_argument(
        "--seed", type=types.seed, default=0, help="first evaluation seed (default: 0)"
    )
    bench.add_argument(
        "--out",
        type=types.path,
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
        "--sizes",
        type=types.shop_counts,
        default=None,
        help="comma-separated sizes for the throughput table, as the model defines them "
        "(supply_chain_v0: shop counts; default: the model's own, 1,10,100,1000)",
    )
    bench.add_argument(  # the older name of --sizes
        "--shops", dest="sizes", type=types.shop_counts, default=None, help=argparse.SUPPRESS
    )
    bench.add_argument(
        "--min-seconds",
        type=types.seconds_in_range(3600.0),
        default=None,
        help="least seconds per throughput measurement (overrides --quick)",
    )
    _add_debug(bench, argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The ``phantomzoo`` argument parser with its subcommands."""
    parser = _ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_debug(parser, False)
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    listing = commands.add_parser(
        "list",
        help="show registered environments and trainer backends",
        description="Show the registered environments and the installed trainer backends.",
    )
    _add_debug(listing, argparse.SUPPRESS)
    _add_train(commands)
    _add_rollout(commands)
    _add_bench(commands)
    from .lint import add_lint_parser  # its own module (imports this one's flag helpers)

    add_lint_parser(commands)
    from .replay import add_replay_parsers  # replay and branch (phantomzoo.cli.replay)

    add_replay_parsers(commands)
    from .exploit import add_exploit_parser  # its own module (imports the flag helpers)

    add_exploit_parser(commands)
    return parser
