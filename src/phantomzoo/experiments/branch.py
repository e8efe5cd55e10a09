"""``ph.branch``: what would have happened if, from step k, something had been different.

A branch plays a recorded episode again from its seed with its recorded actions up to
step ``k`` (so steps ``0 .. k-1`` are the recorded ones), then changes something and lets
the agents' policies play on:

* ``policies={agent_id: policy}``: those agents act through other policies (a trained
  policy of any backend, a ``ph.Policy`` instance, class or ``(class, config)`` pair);
* ``agent_types={agent_id: {field: value}}``: fields of those agents' sampled types are
  set (and the type appended to their observations, when it is); agents that copied a
  type field into an attribute at reset keep the copy;
* ``env_config={attribute: value}``: attributes of the env are set;
* ``actions={agent_id: action}``: those agents' actions at step ``k`` are forced.

The agents observe the changed state before acting at step ``k``. After step ``k`` every
agent acts through its policy: the policies that played the recording (as ``ph.rollout``
kept them), replaced by ``policies``, acting deterministically. :func:`branch_many` plays
several branches of one episode side by side, with one batched call per distinct
policy per step. Staged and parallel models branch alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, StepIndexError, SupertypeError
from ..types import AgentID
from .diff import first_difference
from .playback import Change, Origin, PlaybackEnv, Script, model_of, origin_of, play_envs
from .replay import mismatch
from .trajectories import Rollout

__all__ = ["Branch", "branch", "branch_many"]


@dataclass(frozen=True)
class Branch:
    """One branch of an episode for :func:`branch_many` (the arguments of :func:`branch`)."""

    at_step: int
    policies: Mapping[AgentID, Any] | None = None
    agent_types: Mapping[AgentID, Mapping[str, Any]] | None = None
    env_config: Mapping[str, Any] | None = None
    actions: Mapping[AgentID, Any] | None = None


def branch(
    rollout: Rollout,
    at_step: int,
    *,
    policies: Mapping[AgentID, Any] | None = None,
    agent_types: Mapping[AgentID, Mapping[str, Any]] | None = None,
    env_config: Mapping[str, Any] | None = None,
    actions: Mapping[AgentID, Any] | None = None,
    env: Any = None,
) -> Rollout:
    """Play ``rollout`` identically up to ``at_step``, change something, play on.

    Args:
        rollout: A Rollout from ``ph.rollout`` (or from a replay or branch).
        at_step: The first step played differently, ``0 <= at_step < len(rollout.steps)``.
        policies: ``{agent_id: policy}`` acting for those agents from ``at_step``.
        agent_types: ``{agent_id: {field: value}}`` set on their sampled types.
        env_config: ``{attribute: value}`` set on the env.
        actions: ``{agent_id: action}`` forced at ``at_step`` (agents acting then).
        env: The env the rollout was played with, when it does not carry it.

    Returns:
        The branched Rollout: its steps before ``at_step`` equal the recording's.

    Raises:
        StepIndexError: ``at_step`` outside the episode.
        ConfigError: an unknown agent or env attribute, an action for an agent that does
            not act at ``at_step``, a bad argument, no policy for an agent.
        SupertypeError: ``agent_types`` for an agent without a type or an unknown field.
        ReplayMismatchError: the steps before ``at_step`` did not replay as recorded.
    """
    spec = Branch(at_step, policies, agent_types, env_config, actions)
    return branch_many(rollout, [spec], env=env)[0]


def branch_many(rollout: Rollout, branches: Sequence[Branch], *, env: Any = None) -> list[Rollout]:
    """Several branches of one episode, played side by side (see :func:`branch`).

    Raises:
        ConfigError: ``branches`` is not a non-empty sequence of :class:`Branch`; and
            everything :func:`branch` raises.
    """
    origin = origin_of(rollout, env)
    if isinstance(branches, Branch) or not isinstance(branches, Sequence) or not branches:
        raise ConfigError(
            f"branches must be a non-empty list of ph.experiments.branch.Branch, got {branches!r}"
        )
    envs = []
    for n, spec in enumerate(branches):
        if not isinstance(spec, Branch):
            raise ConfigError(f"branches[{n}] must be a Branch, got {type(spec).__name__}")
        envs.append(_playback_env(origin, rollout, spec))
    recording = bool(rollout.steps) and all(s.messages is not None for s in rollout.steps)
    played = play_envs(origin, rollout, envs, recording)
    for spec, result in zip(branches, played):
        prefix = Rollout(0, 0, {}, {}, rollout.steps[: spec.at_step])
        found = first_difference(prefix, Rollout(0, 0, {}, {}, result.steps[: spec.at_step]))
        if found is not None:
            raise mismatch(found, rollout, what=f"branch at step {spec.at_step}")
    return played


def _playback_env(origin: Origin, rollout: Rollout, spec: Branch) -> PlaybackEnv:
    """An env copy ready to play ``spec``, every argument checked against it."""
    k = _check_step(spec.at_step, rollout)
    env = origin.make_env(rollout.env_config)
    change = Change(
        k,
        agent_types=_check_types(env, spec.agent_types),
        env_config=_check_attributes(env, spec.env_config),
        actions=_check_actions(env, spec.actions, rollout, k),
        policies=_mapping(spec.policies, "policies"),
    )
    changes = (*(c for c in origin.changes if c.at_step < k), change)
    policies = origin.policies(env, changes)
    script = Script([s.actions for s in rollout.steps[:k]], changes, until=k, policies=policies)
    return PlaybackEnv(env, script)


def _check_step(at_step: Any, rollout: Rollout) -> int:
    n = len(rollout.steps)
    if isinstance(at_step, bool) or not isinstance(at_step, (int, np.integer)):
        raise ConfigError(f"at_step must be an int step index, got {at_step!r}")
    if not 0 <= at_step < n:
        raise StepIndexError(
            f"at_step={at_step} is outside this rollout, which has {n} step(s); branch at "
            f"a step 0..{n - 1} (the first step played differently)"
        )
    return int(at_step)


def _mapping(value: Any, name: str) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a dict, got {value!r} ({type(value).__name__})")
    return dict(value)


def _check_types(env: Any, agent_types: Any) -> dict[AgentID, dict[str, Any]]:
    """``agent_types`` checked: known agents with a supertype, known fields."""
    network = model_of(env).engine.network
    out = {}
    for agent_id, fields in _mapping(agent_types, "agent_types").items():
        if agent_id not in network:
            raise ConfigError(
                f"agent_types names {agent_id!r}, which is not an agent of this model; the "
                f"agents are {list(network)[:20]}"
            )
        fields = _mapping(fields, f"agent_types[{agent_id!r}]")
        supertype = network[agent_id].supertype
        if supertype is None:
            raise SupertypeError(
                f"agent_types[{agent_id!r}]: agent {agent_id!r} has no supertype, so it has "
                "no sampled type to change; give it a supertype, or change it with env_config"
            )
        known = [f.name for f in dataclasses.fields(supertype)]
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise SupertypeError(
                f"agent_types[{agent_id!r}] names field(s) {unknown} that "
                f"{type(supertype).__name__} does not have; its fields are {known}"
            )
        out[agent_id] = fields
    return out


def _check_attributes(env: Any, env_config: Any) -> dict[str, Any]:
    """``env_config`` checked: existing, public attributes of the model."""
    model = model_of(env)
    out = _mapping(env_config, "env_config")
    for name in out:
        if not isinstance(name, str) or name.startswith("_") or not hasattr(model, name):
            public = sorted(k for k in vars(model) if not k.startswith("_"))
            raise ConfigError(
                f"env_config names {name!r}, which is not an attribute of "
                f"{type(model).__name__}; a branch sets existing attributes of the env "
                f"(such as {public[:12]}); change agents' types with agent_types"
            )
    return out


def _check_actions(env: Any, actions: Any, rollout: Rollout, k: int) -> dict[AgentID, Any]:
    """``actions`` checked: agents acting at step ``k`` of the recording."""
    out = _mapping(actions, "actions")
    acting = list(rollout.steps[k].actions)
    for agent_id in out:
        if agent_id not in env.possible_agents:
            raise ConfigError(
                f"actions names {agent_id!r}, which is not a strategic agent of this model; "
                f"the strategic agents are {list(env.possible_agents)[:20]}"
            )
        if agent_id not in acting:
            raise ConfigError(
                f"actions names {agent_id!r}, which does not act at step {k} (the agents "
                f"acting then are {acting[:20]}); force actions of those agents, or branch "
                "at a step where this one acts"
            )
    return out
