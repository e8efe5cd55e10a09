"""``phantomzoo replay DIR`` and ``phantomzoo branch DIR``: replay and branch an episode
of the policies a training run saved.

* ``replay DIR --episode N`` plays episode ``N`` (seed ``--seed + N``) with the saved
  policies, recording its messages, plays it again from its seed and recorded actions
  (:func:`phantomzoo.replay`) and prints that both are the same episode, or the one-line
  :class:`~phantomzoo.errors.ReplayMismatchError` naming the first step and agent that
  differ (exit status 2).
* ``branch DIR --at-step K --set AGENT.type.FIELD=VALUE`` plays the same episode, branches
  it at step ``K`` (:func:`phantomzoo.branch`) with the changes given and prints the
  :func:`phantomzoo.diff` summary. ``--set AGENT.action=VALUE`` forces an action at step
  ``K``; ``--config ATTR=VALUE`` sets an env attribute. Values are read as JSON when they
  parse (numbers, lists), else as strings.

The results directory is untrusted input, as for ``phantomzoo rollout`` (``--trust
--allow MODULE`` lets it import a module of yours).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from . import args as types
from .parser import _add_debug, _add_trust, _pairs

REPLAY_DESCRIPTION = """\
Play one episode of the policies a training run saved (episode N has seed --seed + N),
then play it again from its seed and recorded actions and check that every
observation, reward and message is the same: a determinism check of the model. A
difference is reported on one line naming the first step and agent that differ
(exit status 2).
"""

BRANCH_DESCRIPTION = """\
Play one episode of the saved policies, then branch it: play it identically up to
--at-step K, apply the changes and let the policies play on. Prints how the branch
differs from the episode (first divergent step, return differences, messages added and
removed per edge).

changes (at least one):
  --set AGENT.type.FIELD=VALUE   set a field of an agent's sampled type from step K
  --set AGENT.action=VALUE       force an agent's action at step K (it must act then)
  --config ATTR=VALUE            set an attribute of the environment from step K
"""

_TYPE = re.compile(r"^(?P<agent>.+)\.type\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)$")
_ACTION = re.compile(r"^(?P<agent>.+)\.action$")


def add_replay_parsers(commands: Any) -> None:
    """Add the ``replay`` and ``branch`` subcommands to the parser's ``commands``."""
    replay = commands.add_parser(
        "replay",
        help="replay an episode of saved policies and check it is the same",
        description=REPLAY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_episode(replay)
    _add_trust(replay)
    _add_debug(replay, argparse.SUPPRESS)
    branch = commands.add_parser(
        "branch",
        help="branch an episode of saved policies at a step and show what changes",
        description=BRANCH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_episode(branch)
    branch.add_argument(
        "--at-step",
        type=types.int_in_range(0, 10**9, "a step index"),
        required=True,
        metavar="K",
        help="first step played differently",
    )
    branch.add_argument(
        "--set",
        dest="changes",
        nargs="+",
        action="extend",
        default=[],
        metavar="AGENT.type.FIELD=VALUE",
        help="an agent's type field (or AGENT.action=VALUE: its action at step K)",
    )
    _pairs(branch, "--config", "environment attributes to set from step K")
    _add_trust(branch)
    _add_debug(branch, argparse.SUPPRESS)


def _add_episode(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir", metavar="DIR", type=types.path, help="results directory of a training run"
    )
    parser.add_argument(
        "--episode",
        type=types.int_in_range(0, 10**9, "an episode number"),
        default=0,
        metavar="N",
        help="the episode to play (default: 0; its seed is --seed + N)",
    )
    parser.add_argument("--seed", type=types.seed, default=0, help="seed of episode 0 (default: 0)")


# --------------------------------------------------------------------------- commands
def cmd_replay(args: argparse.Namespace) -> int:
    """Play an episode, replay it, print that both are the same."""
    from ..experiments.replay import replay

    name, recorded = _play_episode(args)
    replayed = replay(recorded)
    messages = sum(len(s.messages or ()) for s in replayed.steps)
    print(
        f"{name}: episode {args.episode} (seed {recorded.seed}) replayed from its seed and "
        f"recorded actions: identical ({len(replayed.steps)} steps, {messages} messages)"
    )
    _print_returns(replayed)
    return 0


def cmd_branch(args: argparse.Namespace) -> int:
    """Play an episode, branch it at ``--at-step``, print the diff summary."""
    from ..experiments.branch import branch
    from ..experiments.diff import diff
    from .workflow import parse_config

    agent_types, actions = parse_changes(args.changes)
    env_config = parse_config(args.config or [])
    if not (agent_types or actions or env_config):
        raise ConfigError(
            "branch needs a change: --set AGENT.type.FIELD=VALUE, --set AGENT.action=VALUE "
            "or --config ATTR=VALUE (see 'phantomzoo branch --help')"
        )
    name, recorded = _play_episode(args)
    actions = _typed_actions(recorded, actions)
    branched = branch(
        recorded,
        args.at_step,
        agent_types=agent_types,
        env_config=env_config,
        actions=actions,
    )
    changes = " ".join([*args.changes, *(args.config or [])])
    print(f"{name}: episode {args.episode} (seed {recorded.seed}) branched at step {args.at_step}")
    print(f"  changes: {changes}")
    print(diff(recorded, branched))
    return 0


def parse_changes(pairs: Sequence[str]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``["SHOP1.type.cost=0.5", "SHOP2.action=3"]`` -> ``({"SHOP1": {"cost": 0.5}},
    {"SHOP2": 3})`` (values read as JSON when they parse, else strings).

    Raises:
        ConfigError: a pair of another form, or the same change twice.
    """
    from .workflow import parse_config

    agent_types: dict[str, dict[str, Any]] = {}
    actions: dict[str, Any] = {}
    for pair in pairs:
        ((key, value),) = parse_config([pair]).items()
        typed, forced = _TYPE.match(key), _ACTION.match(key)
        if typed is not None:
            fields = agent_types.setdefault(typed["agent"], {})
            _refuse_twice(fields, typed["field"], key)
            fields[typed["field"]] = value
        elif forced is not None:
            _refuse_twice(actions, forced["agent"], key)
            actions[forced["agent"]] = value
        else:
            raise ConfigError(
                f"--set {pair!r}: expected AGENT.type.FIELD=VALUE (a field of the agent's "
                "sampled type) or AGENT.action=VALUE (its action at --at-step)"
            )
    return agent_types, actions


def _refuse_twice(table: dict[str, Any], key: str, what: str) -> None:
    if key in table:
        raise ConfigError(f"--set {what} is given twice; give each change once")


def _typed_actions(recorded: Any, actions: dict[str, Any]) -> dict[str, Any]:
    """Forced actions as the recorded actions' kind (lists to arrays of their dtype)."""
    out = {}
    for agent_id, value in actions.items():
        like = next((s.actions[agent_id] for s in recorded.steps if agent_id in s.actions), None)
        if isinstance(like, np.ndarray):
            try:
                value = np.asarray(value, dtype=like.dtype).reshape(like.shape)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"--set {agent_id}.action={value!r}: {agent_id}'s actions are arrays of "
                    f"shape {like.shape} ({like.dtype}); give e.g. "
                    f"{agent_id}.action={like.tolist()}"
                ) from None
        out[agent_id] = value
    return out


def _play_episode(args: argparse.Namespace) -> tuple[str, Any]:
    """The run's env name and the Rollout of episode ``args.episode`` (messages kept)."""
    from ..experiments.rollout import rollout
    from ..training.results import policies_dir, resolve_latest
    from ..training.sources import EnvSource
    from ..training.trained import load_policies
    from ..training.trust import TrustPolicy
    from . import preflight
    from .commands import _check_trust_flags

    extra = _check_trust_flags(args)
    preflight.results_dir(args.dir)
    directory = resolve_latest(Path(args.dir))
    found = policies_dir(directory)
    policies = load_policies(found, **extra)
    where = str(found / "manifest.json")
    trust = TrustPolicy(extra.get("trust", False), extra.get("allow"))
    source = EnvSource.from_record(policies.env_info, where, trust)
    policies.check_fits(source.make(), f"the policies in {found}")
    env_ref = source.name if source.kind == "registered" else source.factory()
    (played,) = rollout(
        env_ref,
        policies,
        env_config=source.config,
        seed=args.seed + args.episode,
        record_messages=True,
        show_progress_bar=False,
    )
    return str(policies.env_info.get("name", env_ref)), played


def _print_returns(played: Any) -> None:
    totals: dict[Any, float] = {}
    for step in played.steps:
        for agent_id, reward in step.rewards.items():
            totals[agent_id] = totals.get(agent_id, 0.0) + float(reward)
    shown = list(totals.items())[:12]
    print("  returns: " + ", ".join(f"{a}: {v:.2f}" for a, v in shown))
    if len(totals) > len(shown):
        print(f"  ... and {len(totals) - len(shown)} more agent(s)")
