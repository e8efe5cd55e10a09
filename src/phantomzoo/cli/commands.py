"""The ``phantomzoo`` command line.

Usage::

    phantomzoo list
    phantomzoo train ENV --backend cleanrl [--config KEY=VALUE ...] [--timesteps N] [--out DIR]
    phantomzoo train --resume DIR [--timesteps N | --seconds S] [--trust --allow MODULE ...]
    phantomzoo rollout DIR [--episodes N] [--out FILE.jsonl] [--plots DIR] [--trust --allow M ...]
    phantomzoo bench ENV [--backends cleanrl,sb3,rllib] [--seconds S] [--episodes N] [--out DIR]
    phantomzoo lint ENV [--config KEY=VALUE ...] [--episodes N] [--ignore CODE ...]
    phantomzoo replay DIR [--episode N] [--seed S]
    phantomzoo branch DIR --at-step K --set AGENT.type.FIELD=VALUE [--set AGENT.action=VALUE]
    phantomzoo exploit DIR --policy ID (--seconds S | --timesteps N) [--agents A ...]

The command line never shows a raw traceback:

* a mistake a user can make (an unknown environment, a bad value, a path that cannot
  be written, a malformed results directory) prints one line,
  ``phantomzoo: error: ...``, to stderr and exits with status 2. Paths, environment
  keywords and budgets are checked before any training or measuring time is spent
  (:mod:`phantomzoo.cli.preflight`).
* anything unexpected prints ``phantomzoo: internal error: ...`` naming the file the
  full traceback was written to, and exits with status 1.
* Ctrl-C or SIGTERM prints ``phantomzoo: interrupted...`` and exits with status 130;
  a training run saves its policies and a checkpoint first.

``--debug``, before or after the command, prints the full traceback as well.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ResultsExistError, TrainingInterrupted
from . import preflight
from .args import wants_debug
from .exploit import cmd_exploit
from .lint import cmd_lint
from .parser import NORMAL_SECONDS, PROG, QUICK_SECONDS, build_parser
from .replay import cmd_branch, cmd_replay
from .report import report_failure, report_interrupt

__all__ = ["PROG", "build_parser", "main"]


# --------------------------------------------------------------------------- list
def cmd_list(args: argparse.Namespace) -> int:
    """Print the registered environments and the available trainer backends."""
    from ..registry import registered_envs

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
    for name in backends:
        print(f"  {name}")
    if not backends:
        print("  (none installed yet)")
    return 0


# --------------------------------------------------------------------------- train
def _check_trust_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The ``trust``/``allow`` keywords for the workflow (only when the user gave them)."""
    if args.allow and not args.trust:
        raise ConfigError("--allow has no effect without --trust; add --trust")
    if args.trust and not args.allow:
        raise ConfigError(
            "--trust needs --allow MODULE ...: the module prefixes you trust the results "
            "directory to import (for example --trust --allow my_pkg)"
        )
    return {"trust": True, "allow": tuple(args.allow)} if args.trust else {}


def _train_summary(env_name: str, backend: str, result: Any) -> None:
    last = result.history[-1] if result.history else {}
    returns = ", ".join(f"{p}: {v:.1f}" for p, v in last.get("returns", {}).items())
    print(
        f"Trained {env_name} with {backend} in {result.wall_seconds:.1f} s "
        f"({last.get('timesteps', 0):,} agent-steps); latest mean returns: {returns or '-'}"
    )
    print(f"Policies, training.json and TensorBoard files: {result.results_dir}")


def cmd_train(args: argparse.Namespace) -> int:
    """Train an environment's default policies (or resume a run) and say where they went."""
    if args.resume is not None:
        return _resume(args)
    if args.env is None:
        raise ConfigError(
            "train needs ENV (see 'phantomzoo list') or --resume DIR (see 'phantomzoo train "
            "--help')"
        )
    if args.trust or args.allow:
        raise ConfigError("--trust and --allow apply to --resume only (and to rollout)")
    from phantomzoo.backends import load_backend

    from .workflow import parse_config, train_env

    backend = "cleanrl" if args.backend is None else args.backend
    seed = 0 if args.seed is None else args.seed
    config = parse_config(args.config or [])
    options = parse_config(args.option or [])
    load_backend(backend)  # an unknown or uninstalled backend, before anything is built
    preflight.check_env_config(args.env, config, seed)
    out = args.out
    target = out if out is not None else Path("results")
    preflight.output_dir(target, "results directory (--out)")
    if out is not None:
        _refuse_existing_run(
            out,
            "--out",
            f"pass --overwrite to replace it, or 'phantomzoo train --resume {out}' to continue it",
            overwrite=args.overwrite,
        )
    extra: dict[str, Any] = {}
    if args.overwrite:
        extra["overwrite"] = True
    if args.checkpoint_seconds is not None:
        extra["checkpoint_seconds"] = args.checkpoint_seconds
    with preflight.leave_no_trace(target):
        result = train_env(
            args.env,
            backend,
            config,
            args.timesteps,
            args.seconds,
            seed,
            out,
            options,
            progress=not args.quiet,
            **extra,
        )
    _train_summary(args.env, backend, result)
    return 0


def _refuse_existing_run(directory: Path, flag: str, fix: str, overwrite: bool = False) -> None:
    """Raise ResultsExistError if ``directory`` holds anything that may not be replaced.

    Files that are not a phantomzoo run are always refused; a run only without
    ``overwrite`` (``fix`` says what to do). The same rule training applies
    (:mod:`phantomzoo.training.results`), checked here before any measuring or training time
    is spent.
    """
    from ..training.results import RUN_FILES

    if not directory.is_dir():
        return
    contents = sorted(p.name for p in directory.iterdir())
    foreign = [name for name in contents if name not in RUN_FILES]
    if foreign:
        raise ResultsExistError(
            f"{flag} {str(directory)!r} already holds files that are not a phantomzoo run "
            f"({', '.join(foreign[:5])}); choose another {flag} (nothing was deleted)"
        )
    if contents and not overwrite:
        raise ResultsExistError(
            f"{flag} {str(directory)!r} already holds a training run ({', '.join(contents)}); {fix}"
        )


def _resume(args: argparse.Namespace) -> int:
    given = [
        flag
        for flag, value in (
            ("--backend", args.backend),
            ("--config", args.config),
            ("--option", args.option),
            ("--seed", args.seed),
            ("--out", args.out),
        )
        if value is not None
    ]
    if args.overwrite:
        given.append("--overwrite")
    if given:
        raise ConfigError(
            f"{', '.join(given)} cannot be combined with --resume: a resumed run keeps its "
            "recorded environment, backend, options, seed and directory (only --timesteps, "
            "--seconds, --checkpoint-seconds, --trust/--allow and --quiet apply)"
        )
    directory = preflight.results_dir(args.resume, need_manifest=False)
    preflight.output_dir(directory, "results directory (--resume)")
    recorded = _recorded_env_name(directory)
    if args.env is not None and recorded is not None and args.env != recorded:
        raise ConfigError(
            f"ENV {args.env!r} does not match the run in {str(directory)!r}, which trained "
            f"{recorded!r}; leave ENV out with --resume, or give {recorded!r}"
        )
    extra = _check_trust_flags(args)
    if args.checkpoint_seconds is not None:
        extra["checkpoint_seconds"] = args.checkpoint_seconds
    from .workflow import resume_training  # type: ignore[attr-defined]

    result = resume_training(
        directory,
        timesteps=args.timesteps,
        seconds=args.seconds,
        progress=not args.quiet,
        **extra,
    )
    _train_summary(recorded or str(args.env or directory), result.backend, result)
    return 0


def _recorded_env_name(directory: Path) -> str | None:
    """The environment name a results directory records (plain JSON; nothing imported)."""
    for name in ("training.json", os.path.join("policies", "manifest.json")):
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            record = json.loads((directory / name).read_text(encoding="utf-8"))
            env = record.get("env")
            if isinstance(env, dict) and isinstance(env.get("name"), str):
                return env["name"]
    return None


# --------------------------------------------------------------------------- rollout
def cmd_rollout(args: argparse.Namespace) -> int:
    """Replay saved policies and print mean returns per agent."""
    from .workflow import rollout_results

    extra = _check_trust_flags(args)
    preflight.results_dir(args.dir)
    if args.out is not None:
        preflight.output_file(args.out, "steps file (--out)", "steps.jsonl")
    if args.plots is not None:  # before any episode is played
        from ..plots import require_matplotlib

        require_matplotlib()
        preflight.output_dir(args.plots, "pictures directory (--plots)")
        extra["plots"] = args.plots
    report = rollout_results(args.dir, args.episodes, args.seed, args.out, **extra)
    print(f"{report['env']['name']}: {args.episodes} episodes from seed {args.seed}")
    for agent_id, (mean, std) in report["returns"].items():
        print(f"  {agent_id}: {mean:.2f} ± {std:.2f}")
    if args.out is not None:
        print(f"Steps written to {args.out}")
    for plot in report.get("plots", []):
        print(f"Plot: {plot}")
    return 0


# --------------------------------------------------------------------------- bench
def _check_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Everything ``bench`` can check before it measures or trains; the env config."""
    from phantomzoo.backends import load_backend

    from .workflow import parse_config

    config = parse_config(args.config or [])
    for backend in args.backends:
        load_backend(backend)
    preflight.check_env_config(args.env, config, args.seed)
    _check_hooks(args)
    from ..plots import require_matplotlib  # bench always draws its pictures

    require_matplotlib()
    preflight.output_dir(args.out, "bench output directory (--out)")
    for backend in args.backends:  # bench replaces its own runs, never other files
        _refuse_existing_run(args.out / backend, "--out", "", overwrite=True)
    return config


def _check_hooks(args: argparse.Namespace) -> None:
    """ConfigError, before any measuring, for bench helpers the env's bench module lacks."""
    from ..registry import spec

    env_spec = spec(args.env)
    needed = ["baselines"] + (["policies"] if args.backends else [])
    missing = [name for name in needed if env_spec.hook(name) is None]
    if missing:
        raise ConfigError(
            f"{args.env} has no bench module defining {' and '.join(missing)} (see "
            "phantomzoo.registry: register(..., bench='my_pkg.bench')), so bench has nothing "
            "to compare; train it from Python with ph.train(env, policies, ...) instead"
        )
    if args.sizes is None or args.no_throughput:
        return
    if env_spec.hook("throughput") is None:
        raise ConfigError(
            f"--sizes: {args.env} defines no sizes to measure (its bench module has no "
            "'throughput' hook); leave out --sizes to measure the env as configured"
        )


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure throughput, train, evaluate against baselines, plot; print and write JSON."""
    from .bench import format_checks, format_table, machine_info, write_json
    from .workflow import bench, bench_table, bench_throughput

    config = _check_bench(args)
    seconds = args.seconds
    if seconds is None and args.timesteps is None:
        seconds = 20.0 if args.quick else 60.0
    throughput = None
    min_seconds = args.min_seconds or (QUICK_SECONDS if args.quick else NORMAL_SECONDS)
    with preflight.leave_no_trace(args.out):
        if not args.no_throughput:
            # Measured first: after training, the interpreter's heap (torch, rollout
            # buffers) slows the same loop down by a third or more.
            throughput = bench_throughput(args.env, config, args.sizes, min_seconds, args.seed)
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
        print(f"\n{throughput['title']}")
        print(format_table(throughput["rows"], throughput["columns"]))
        if throughput["checks"]:
            print(format_checks(throughput["checks"]))
        report["throughput"] = throughput["rows"]
        report["goals"] = throughput["checks"]
        report["machine"] = machine_info()
    path = write_json(args.out / "bench.json", report)
    print(f"\nWrote {path}")
    for plot in report["plots"]:
        print(f"Plot: {plot}")
    return 0


COMMANDS = {"list": cmd_list, "train": cmd_train, "rollout": cmd_rollout, "bench": cmd_bench}
COMMANDS["lint"] = cmd_lint  # phantomzoo.cli.lint
COMMANDS["replay"] = cmd_replay  # phantomzoo.cli.replay
COMMANDS["branch"] = cmd_branch  # phantomzoo.cli.replay
COMMANDS["exploit"] = cmd_exploit  # phantomzoo.cli.exploit


# --------------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``phantomzoo`` command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a user error, 1 for an internal error
        (its traceback written to a file), 130 when interrupted.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    debug = wants_debug(words)
    try:
        args = build_parser().parse_args(words)
        return COMMANDS[args.command](args)
    except SystemExit as exc:  # --help and --version exit through argparse
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        return 1
    except TrainingInterrupted as exc:
        return report_interrupt(_interrupted_message(exc))
    except KeyboardInterrupt:
        return report_interrupt()
    except BrokenPipeError:  # `phantomzoo list | head -1`: stop quietly, like other tools
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 -- reported in one line, never as a raw stack
        return report_failure(exc, debug)


def _interrupted_message(exc: TrainingInterrupted) -> str:
    """The interruption message, with the command that continues the run."""
    message = str(exc)
    if "--resume" not in message and exc.results_dir is not None:
        message += f"; continue with: {PROG} train --resume {exc.results_dir}"
    return message
