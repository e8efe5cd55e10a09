"""``phantomzoo lint ENV``: print a registered model's message-contract findings.

Runs :func:`phantomzoo.testing.lint` on ``ENV`` built with ``--config`` and prints one
block per finding, then a summary line. Exit status: 0 when there is no error (warnings
alone still exit 0), 1 when any finding is an error, 2 for a usage error (an unknown
environment, a bad ``--config`` value, an unknown ``--ignore`` code).
"""

from __future__ import annotations

import argparse
from typing import Any

from . import args as types
from .parser import _add_debug, _pairs

#: Exit status when a finding is an error.
EXIT_FINDINGS = 1

LINT_DESCRIPTION = """\
Check the message contracts of a registered environment: payloads whose declared
receivers have no handler, handlers nobody may send to, strategic agents without edges,
agents no message reaches, unreachable FSM stages, acting agents never rewarded, views
nobody can read, and messages bouncing until the resolver's round limit. Declarations
are compared with --episodes seeded random-action episodes (default 3, at most
--max-steps steps each).

Exit status: 0 without errors (warnings are printed), 1 when a finding is an error,
2 for a usage error. --ignore CODE ... leaves out the codes a model means.
"""


def add_lint_parser(commands: Any) -> None:
    """Add the ``lint`` subcommand to the ``phantomzoo`` parser's ``commands``."""
    from ..experiments.lint import DEFAULT_MAX_STEPS
    from ..experiments.lint_findings import CODES

    lint = commands.add_parser(
        "lint",
        help="check an environment's message contracts",
        description=LINT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lint.add_argument("env", metavar="ENV", help="registered environment id, e.g. supply_chain_v0")
    _pairs(lint, "--config", "environment keywords")
    lint.add_argument(
        "--episodes",
        type=types.int_in_range(0, 10_000, "a number of episodes"),
        default=3,
        help="random-action episodes to play (default: 3; 0 checks declarations only)",
    )
    lint.add_argument(
        "--max-steps",
        type=types.int_in_range(1, 10**9, "a number of steps"),
        default=DEFAULT_MAX_STEPS,
        help=f"most steps per episode (default: {DEFAULT_MAX_STEPS})",
    )
    lint.add_argument("--seed", type=types.seed, default=0, help="first seed (default: 0)")
    lint.add_argument(
        "--ignore",
        nargs="+",
        action="extend",
        default=[],
        metavar="CODE",
        choices=list(CODES),
        help=f"finding codes to leave out: {', '.join(CODES)}",
    )
    _add_debug(lint, argparse.SUPPRESS)


def cmd_lint(args: argparse.Namespace) -> int:
    """Lint ``args.env``; print the findings; 1 if any is an error, else 0."""
    from ..experiments.lint import lint, summary
    from ..registry import make
    from . import preflight
    from .workflow import parse_config

    config = parse_config(args.config or [])
    preflight.check_env_config(args.env, config, args.seed)
    findings = lint(
        lambda: make(args.env, **config),
        episodes=args.episodes,
        seed=args.seed,
        max_steps=args.max_steps,
        ignore=args.ignore,
    )
    for item in findings:
        print(item)
    print(
        f"{args.env}: {summary(findings)} ({args.episodes} random-action episode(s) from "
        f"seed {args.seed}, at most {args.max_steps} steps each)"
    )
    return EXIT_FINDINGS if any(f.is_error for f in findings) else 0
