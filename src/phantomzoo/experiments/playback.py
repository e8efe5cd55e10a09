"""Playing a recorded episode again: the machinery under ``ph.replay`` and ``ph.branch``.

A recorded :class:`~.trajectories.Rollout` is played again from its seed by feeding the
env its recorded actions, step by step, through :func:`~.episodes.run_episodes` (the one
episode loop). Each env copy is wrapped in a :class:`PlaybackEnv`, which applies the
:class:`Change` s of a branch when the episode reaches their step: agents' sampled types
and env attributes are changed right before the actions of that step are chosen (the
acting agents are observed again, so their policies see the change), actions can be
forced for that step, and from then on the agents act through policies instead of the
recording. Several copies (several branches of one episode) play side by side, with one
batched call per distinct policy per step.

An :class:`Origin` says how the episode was made: the env source, the metrics, the
policies that played it and the changes already applied (a branch of a branch keeps
the changes made before its own step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, ReplayMismatchError, SupertypeError
from ..metrics import Metric
from ..parallel import StagedParallelEnv
from ..training.api import resolve_env
from ..training.trained import TrainedPolicies
from ..types import AgentID
from .trajectories import Rollout, Step
from .units import RolloutPlan, policies_for, record_episodes

__all__ = ["Change", "Origin", "PlaybackEnv", "Script", "origin_of", "play_scripts"]


@dataclass(frozen=True)
class Change:
    """What a branch changes, from step ``at_step`` of the episode on.

    Attributes:
        at_step: Index of the first step played differently.
        agent_types: ``{agent_id: {field: value}}`` set on the agents' sampled types.
        env_config: ``{attribute: value}`` set on the env.
        actions: ``{agent_id: action}`` forced at ``at_step``.
        policies: ``{agent_id: policy entry}`` acting for those agents from ``at_step``.
    """

    at_step: int
    agent_types: Mapping[AgentID, Mapping[str, Any]] = field(default_factory=dict)
    env_config: Mapping[str, Any] = field(default_factory=dict)
    actions: Mapping[AgentID, Any] = field(default_factory=dict)
    policies: Mapping[AgentID, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Origin:
    """How an episode was made: enough to play it again (a replay or branch's ``source``).

    Attributes:
        env: The env source (registered name, env class or module-level factory).
        metrics: ``{name: Metric}`` recorded every step (``None``: none).
        plan: The :class:`~.units.RolloutPlan` whose policies played the episode
            (``None``: unknown; a branch must then name a policy for every agent).
        changes: The changes already made to the episode, in step order.
    """

    env: Any
    metrics: Mapping[str, Metric] | None = None
    plan: RolloutPlan | None = None
    changes: tuple[Change, ...] = ()

    def make_env(self, env_config: Mapping[str, Any]) -> Any:
        """A new env of this origin built with ``env_config``."""
        return resolve_env(self.env, env_config).make()

    def policies(self, env: Any, changes: Sequence[Change]) -> TrainedPolicies | None:
        """The policies acting after ``changes``: the plan's, overridden by each change's
        ``policies``; ``None`` when some agent has no policy."""
        base = self.plan.acting_policies(env) if self.plan is not None else None
        overrides: dict[AgentID, Any] = {}
        for change in changes:
            overrides.update(change.policies)
        covered = set(base.agent_to_policy) if base is not None else set()
        missing = [a for a in env.possible_agents if a not in covered and a not in overrides]
        if missing:
            raise ConfigError(
                f"no policy for agent(s) {missing} to act after the branch step: this rollout "
                "does not carry the policies that played it (it was built by hand, loaded "
                "from a file or replayed from one); pass policies={agent_id: policy} for them"
            )
        return policies_for(env, base, overrides) if overrides else base


def origin_of(rollout: Any, env: Any = None, metrics: Mapping[str, Metric] | None = None) -> Origin:
    """The :class:`Origin` of ``rollout``: its ``source``, or ``env`` (and ``metrics``)
    given by the caller for a rollout without one.

    Raises:
        ConfigError: not a Rollout, no seed, no source and no ``env``, or a bad ``env``.
    """
    if not isinstance(rollout, Rollout):
        raise ConfigError(
            f"expected a ph.Rollout (as ph.rollout returns), got {type(rollout).__name__}"
        )
    if rollout.seed is None:
        raise ConfigError(
            "this rollout records no seed, so it cannot be played again; play it with "
            "ph.rollout(...), which records each episode's seed"
        )
    source = rollout.source
    if env is not None:
        resolve_env(env, rollout.env_config)  # refuses a bad env or config now
        base = source if isinstance(source, Origin) else None
        plan = source if isinstance(source, RolloutPlan) else (base.plan if base else None)
        changes = base.changes if base else ()
        return Origin(env, metrics, plan, changes)
    if isinstance(source, Origin):
        return source if metrics is None else dataclasses.replace(source, metrics=metrics)
    if isinstance(source, RolloutPlan):
        return Origin(source.env, source.metrics if metrics is None else metrics, source)
    raise ConfigError(
        "this rollout does not carry the env that played it (it was built by hand, or "
        "pickled / loaded from a file, which drops it); pass env=<the registered name, env "
        "class or factory it was played with>"
    )


@dataclass
class Script:
    """One episode to play: recorded actions up to ``until``, then ``policies``.

    Attributes:
        actions: The recorded actions of steps ``0 .. until - 1``.
        changes: Changes applied when the episode reaches their step.
        until: First step not played from the recording.
        policies: The policies acting from ``until`` on (``None``: the episode must end
            by ``until``, as a replay's does).
    """

    actions: list[Mapping[AgentID, Any]]
    changes: tuple[Change, ...] = ()
    until: int = 0
    policies: TrainedPolicies | None = None


class PlaybackEnv:
    """An env copy playing a :class:`Script`: applies its changes at their steps.

    It speaks the acting protocol (and forwards every other attribute to the env), so
    :func:`~.episodes.run_episodes` plays it like any env.
    """

    def __init__(self, env: Any, script: Script) -> None:
        self.env = env
        self.script = script
        self.step_index = 0

    def __getattr__(self, name: str) -> Any:
        if name in ("env", "script", "step_index"):
            raise AttributeError(name)
        return getattr(self.env, name)

    def __getitem__(self, key: Any) -> Any:
        return self.env[key]

    @property
    def acting_agents(self) -> list[AgentID]:
        return self.env.acting_agents

    def acting_reset(self, seed: int | None = None) -> tuple[dict[AgentID, Any], dict]:
        observations, infos = self.env.acting_reset(seed=seed)
        self.step_index = 0
        return self._apply(observations), infos

    def acting_step(self, actions: Mapping[AgentID, Any]) -> tuple[Any, ...]:
        result = self.env.acting_step(actions)
        self.step_index += 1
        return (self._apply(result[0]), *result[1:])

    def forced(self) -> dict[AgentID, Any]:
        """The actions the script forces at the current step."""
        out: dict[AgentID, Any] = {}
        for change in self.script.changes:
            if change.at_step == self.step_index:
                out.update(change.actions)
        return out

    def _apply(self, observations: dict[AgentID, Any]) -> dict[AgentID, Any]:
        """Apply the changes of the step about to be played; observations after them."""
        due = [c for c in self.script.changes if c.at_step == self.step_index]
        if not due or not self.env.acting_agents:
            return observations
        for change in due:
            apply_change(self.env, change)
        if not any(c.agent_types or c.env_config for c in due):
            return observations
        engine = self.env.engine
        return {**observations, **engine.observe_many(self.env.acting_agents)}


def model_of(env: Any) -> Any:
    """The model env behind ``env`` (a staged model's parallel view is unwrapped)."""
    return env.env if isinstance(env, StagedParallelEnv) else env


def apply_change(env: Any, change: Change) -> None:
    """Set ``change``'s env attributes and agents' type fields on ``env`` now."""
    model = model_of(env)
    for name, value in change.env_config.items():
        setattr(model, name, value)
    for agent_id, fields in change.agent_types.items():
        set_type_fields(model.engine, agent_id, fields)


def set_type_fields(engine: Any, agent_id: AgentID, fields: Mapping[str, Any]) -> None:
    """Replace fields of ``agent_id``'s sampled type, and the type appended to its
    observations when they are type-augmented.

    Raises:
        SupertypeError: the new type cannot be turned into the observation's numbers.
    """
    agent = engine.network[agent_id]
    new_type = dataclasses.replace(agent.type, **fields)
    try:
        engine.set_agent_type(agent_id, new_type)
    except SupertypeError as exc:
        raise SupertypeError(
            f"agent_types[{agent_id!r}] = {dict(fields)!r}: {exc}; give values of the field's "
            "kind and of the same shape as the sampled ones"
        ) from None


def play_scripts(
    origin: Origin, rollout: Rollout, scripts: Sequence[Script], record_messages: bool
) -> list[Rollout]:
    """Play every script side by side from ``rollout``'s seed; one Rollout each."""
    envs = [PlaybackEnv(origin.make_env(rollout.env_config), s) for s in scripts]
    return play_envs(origin, rollout, envs, record_messages)


def play_envs(
    origin: Origin, rollout: Rollout, envs: list[PlaybackEnv], record_messages: bool
) -> list[Rollout]:
    """Play already-built :class:`PlaybackEnv` s side by side (see :func:`play_scripts`)."""
    act = _script_act(envs, rollout)
    seeds = [int(rollout.seed)] * len(envs)  # type: ignore[arg-type]
    played = record_episodes(envs, act, seeds, origin.metrics, record_messages)
    out = []
    for env, (steps, recorded) in zip(envs, played):
        source = dataclasses.replace(origin, changes=env.script.changes)
        out.append(
            Rollout(
                rollout.rollout_id,
                rollout.repeat_id,
                dict(rollout.env_config),
                dict(rollout.rollout_params),
                steps,
                recorded,
                seed=rollout.seed,
                source=source,
            )
        )
    return out


def _script_act(envs: list[PlaybackEnv], rollout: Rollout) -> Callable[..., Any]:
    """The lock-step ``act`` of :func:`~.episodes.run_episodes` for scripted copies:
    recorded actions before each script's ``until``, then one batched call per policy."""
    table, mapping = _combined_policies(envs)
    combined = TrainedPolicies(table, mapping) if mapping else None
    recorded = len(rollout.steps)

    def act(
        observations: list[dict[AgentID, Any]],
        action_masks: Sequence[Mapping[AgentID, Any]] | None = None,
    ) -> list[Mapping[AgentID, Any]]:
        live = [n for n, env in enumerate(envs) if env.acting_agents]
        chosen: list[dict[AgentID, Any]] = []
        batch: dict[tuple[int, AgentID], Any] = {}
        masks: dict[tuple[int, AgentID], Any] = {}
        for k, (n, obs) in enumerate(zip(live, observations)):
            env = envs[n]
            i = env.step_index
            if i < env.script.until:
                chosen.append(_recorded(env.script.actions, i, obs, recorded))
                continue
            if env.script.policies is None:
                raise ReplayMismatchError(
                    f"the replayed episode goes on after the {recorded} recorded step(s) "
                    f"(agents {list(obs)} act at step {i}), so the model is not "
                    "deterministic given its seed and actions: draw randomness only from "
                    "the env's generator (ctx.rng / env.np_random), never from global or "
                    "unseeded ones",
                    step=i,
                    agent_id=next(iter(obs), None),
                    field="length",
                )
            forced = env.forced()
            chosen.append(dict(forced))
            given = action_masks[k] if action_masks else {}
            for agent_id, o in obs.items():
                if agent_id not in forced:
                    batch[(n, agent_id)] = o
                    if agent_id in given:
                        masks[(n, agent_id)] = given[agent_id]
        if batch:
            assert combined is not None
            actions = combined.compute_actions(batch, action_masks=masks or None)
            index = {n: k for k, n in enumerate(live)}
            for (n, agent_id), action in actions.items():
                chosen[index[n]][agent_id] = action
        for k, obs in enumerate(observations):  # in the order the agents were observed
            chosen[k] = {a: chosen[k][a] for a in obs if a in chosen[k]}
        return chosen

    return act


def _recorded(
    actions: list[Mapping[AgentID, Any]], i: int, obs: Mapping[AgentID, Any], recorded: int
) -> dict[AgentID, Any]:
    """The recorded actions of step ``i``, checked against who acts now."""
    step_actions = actions[i]
    if set(step_actions) != set(obs):
        extra = [a for a in obs if a not in step_actions]
        gone = [a for a in step_actions if a not in obs]
        agent = (extra or gone)[0]
        raise ReplayMismatchError(
            f"step {i} of the replay has other acting agents than the recording (acting now "
            f"but not recorded: {extra}; recorded but not acting now: {gone}), so the model "
            "is not deterministic given its seed and actions: draw randomness only from the "
            "env's generator (ctx.rng / env.np_random), never from global or unseeded ones",
            step=i,
            agent_id=agent,
            field="acting agents",
        )
    return {a: step_actions[a] for a in obs}


def _combined_policies(
    envs: list[PlaybackEnv],
) -> tuple[dict[str, Any], dict[tuple[int, AgentID], str]]:
    """One policy table for every copy: ``(copy, agent) -> policy id``, one id per
    distinct policy object, so copies sharing a policy are served by one call."""
    table: dict[str, Any] = {}
    ids: dict[int, str] = {}
    mapping: dict[tuple[int, AgentID], str] = {}
    for n, env in enumerate(envs):
        policies = env.script.policies
        if policies is None:
            continue
        for agent_id, policy_id in policies.agent_to_policy.items():
            policy = policies.policies[policy_id]
            key = ids.setdefault(id(policy), f"{len(ids)}:{policy_id}")
            table[key] = policy
            mapping[(n, agent_id)] = key
    return table, mapping


def recorded_actions(steps: Sequence[Step]) -> list[Mapping[AgentID, Any]]:
    """The actions of every recorded step, in order."""
    return [s.actions for s in steps]
