"""Work units of a rollout: what one worker (or this process) plays, and how.

``ph.rollout`` cuts its work into :class:`WorkUnit` s: one configuration of the range
grid and a block of its repeats, played side by side (one batched policy call per step).
A :class:`RolloutPlan` holds everything the units share (the env, the policies, the
metrics, the seed) and plays a unit into its :class:`~.trajectories.Rollout` s. The
in-process path and every worker backend call the same :meth:`RolloutPlan.play`, so the
episodes do not depend on where they were played:

* repeat ``r`` of any configuration is seeded ``seed + r`` (as Phantom seeds repeats);
* with ``explore`` the actions are sampled from a generator of the unit's own,
  ``np.random.default_rng([seed, rollout_id, first repeat of the unit])``: each unit's
  draws are independent of which units ran before it, and of the worker that ran it.

A unit's block of repeats is the rollout's ``batch_size`` (default: all repeats of a
configuration); the same ``batch_size`` gives the same episodes in-process and on any
number of workers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..metrics import Metric, MetricRecorder
from ..policy import Policy
from ..telemetry import Telemetry, for_episode
from ..telemetry_options import make_directory
from ..training.api import resolve_env
from ..training.results import policies_dir
from ..training.trained import TrainedPolicies, load_policies
from ..types import AgentID
from .episodes import StepRecord, policies_act, run_episodes
from .trajectories import Rollout, Step

__all__ = [
    "EpisodeHook",
    "RolloutPlan",
    "WorkUnit",
    "load_rollout_policies",
    "plan_units",
    "record_episodes",
]

#: Called in the process that played an episode, with the env (right after its last
#: step) and the episode's Rollout, before the Rollout is returned (and, on a worker,
#: pickled back): the hook for per-episode data that must travel with the rollout
#: (message telemetry). Must be picklable (a module-level function) to reach workers.
EpisodeHook = Callable[[Any, Rollout], None]


@dataclass(frozen=True)
class WorkUnit:
    """One configuration of the grid and a block of its repeats.

    Attributes:
        rollout_id: Index of the configuration in the grid.
        repeats: The repeat ids played (episode seeds ``seed + repeat``), in order.
        params: The values the ranges took in this configuration (by dotted path).
        config: The concrete env config.
    """

    rollout_id: int
    repeats: tuple[int, ...]
    params: dict[str, Any]
    config: dict[str, Any]


def plan_units(
    grid: list[tuple[dict[str, Any], dict[str, Any]]], num_repeats: int, batch_size: int | None
) -> list[WorkUnit]:
    """The units of a grid, in the order of the results (configuration, then repeat)."""
    block = num_repeats if batch_size is None else min(batch_size, num_repeats)
    return [
        WorkUnit(rollout_id, tuple(range(start, min(start + block, num_repeats))), params, config)
        for rollout_id, (params, config) in enumerate(grid)
        for start in range(0, num_repeats, block)
    ]


@dataclass
class RolloutPlan:
    """What every unit of one rollout shares; plays units (see the module docs).

    Attributes:
        env: A registered name, an env class or a module-level factory.
        policies: Trained policies (``None``: only ``custom_policy_mapping``).
        custom_policy_mapping: ``{agent_id: Policy | PolicyClass | (PolicyClass, config)}``.
        metrics: ``{name: Metric}`` recorded every step.
        record_messages: Keep every message delivered in each step.
        seed: Repeat ``r`` is seeded ``seed + r``; also seeds sampling with ``explore``.
        explore: Sample actions from trained policies instead of acting deterministically.
        on_episode_end: Optional :data:`EpisodeHook`.
        telemetry_dir / telemetry_options: A directory for one telemetry log per episode
            (:func:`phantomzoo.telemetry.for_episode`) and its Telemetry keywords.
    """

    env: Any
    policies: TrainedPolicies | None
    custom_policy_mapping: Mapping[AgentID, Any] | None = None
    metrics: Mapping[str, Metric] | None = None
    record_messages: bool = False
    seed: int = 0
    explore: bool = False
    on_episode_end: EpisodeHook | None = field(default=None, repr=False)
    telemetry_dir: Path | None = None
    telemetry_options: Mapping[str, Any] = field(default_factory=dict)

    def acting_policies(self, env: Any) -> TrainedPolicies:
        """The policies acting in ``env`` (checked against its agents and spaces)."""
        return policies_for(env, self.policies, self.custom_policy_mapping)

    def play(self, unit: WorkUnit) -> list[Rollout]:
        """Play ``unit``'s repeats side by side; one Rollout per repeat, in order."""
        source = resolve_env(self.env, unit.config)
        envs = [source.make() for _ in unit.repeats]
        acting = self.acting_policies(envs[0])
        rng = None
        if self.explore:
            rng = np.random.default_rng([self.seed, unit.rollout_id, unit.repeats[0]])
        if self.telemetry_dir is not None:  # each episode its own file, in this process
            for env, repeat in zip(envs, unit.repeats):
                env.telemetry = for_episode(
                    self.telemetry_dir, unit.rollout_id, repeat, **self.telemetry_options
                )
        try:
            rollouts = _play(envs, acting, unit, self, rng)
        finally:
            for env in envs:
                if getattr(env, "telemetry", None) is not None:
                    env.telemetry.close()
        if self.on_episode_end is not None:
            for env, played in zip(envs, rollouts):
                self.on_episode_end(env, played)
        return rollouts


def check_telemetry(
    directory: Any, options: Mapping[str, Any] | None
) -> tuple[Path | None, dict[str, Any]]:
    """``ph.rollout``'s telemetry arguments, checked before any episode is played.

    Raises:
        ConfigError: ``telemetry_options`` without a directory, a directory that cannot
            be created, or options :class:`~phantomzoo.Telemetry` refuses.
    """
    if directory is None:
        if options:
            raise ConfigError("telemetry_options needs telemetry=<directory> to write to")
        return None, {}
    if not isinstance(directory, (str, Path)):
        raise ConfigError(f"telemetry must be a directory path, got {directory!r}")
    if options is not None and not isinstance(options, Mapping):
        raise ConfigError(
            f"telemetry_options must be a dict of Telemetry keywords, got {options!r}"
        )
    kwargs = dict(options or {})
    Telemetry(io.StringIO(), **kwargs).close()  # refuses bad options now
    folder = make_directory(directory)
    return folder, kwargs


def load_rollout_policies(policies: Any) -> TrainedPolicies | None:
    """Trained policies from what ``ph.rollout`` accepts: policies, a directory or ``None``."""
    if isinstance(policies, (str, Path)):  # a results or policy directory, or .../LATEST
        return load_policies(policies_dir(policies))
    if policies is not None and not isinstance(policies, TrainedPolicies):
        raise ConfigError(
            f"policies must be trained policies or a directory of them, got {policies!r}"
        )
    return policies


def policies_for(
    env: Any, policies: TrainedPolicies | None, custom_policy_mapping: Mapping[AgentID, Any] | None
) -> TrainedPolicies:
    """``policies`` completed by ``custom_policy_mapping`` for ``env``'s strategic agents.

    Raises:
        ConfigError: a mapping entry for an agent that is not strategic, an entry that is
            not a policy, or an agent left without a policy.
    """
    policies = policies if policies is not None else TrainedPolicies({}, {})
    table = dict(policies.policies)
    mapping = dict(policies.agent_to_policy)
    for agent_id, entry in (custom_policy_mapping or {}).items():
        if agent_id not in env.possible_agents:
            raise ConfigError(
                f"custom_policy_mapping names {agent_id!r}, which is not a strategic agent"
            )
        table[f"custom:{agent_id}"] = _custom_policy(env, agent_id, entry)
        mapping[agent_id] = f"custom:{agent_id}"
    missing = [i for i in env.possible_agents if i not in mapping]
    if missing:
        raise ConfigError(f"no policy for agent(s) {missing}: add them to custom_policy_mapping")
    acting = TrainedPolicies(table, mapping, policies.env_info)
    acting.check_fits(env, "the policies")  # spaces too, before any episode is played
    return acting


def _custom_policy(env: Any, agent_id: AgentID, entry: Any) -> Policy:
    if isinstance(entry, Policy):
        return entry
    policy_class, config = (entry, {}) if isinstance(entry, type) else _pair(entry)
    if not (isinstance(policy_class, type) and issubclass(policy_class, Policy)):
        raise ConfigError(
            f"custom_policy_mapping[{agent_id!r}] must be a ph.Policy subclass, an "
            "instance or a (class, config) pair"
        )
    return policy_class(env.observation_space(agent_id), env.action_space(agent_id), **config)


def _pair(entry: Any) -> tuple[Any, dict[str, Any]]:
    try:
        policy_class, config = entry
        return policy_class, dict(config)
    except (TypeError, ValueError):
        return entry, {}  # refused by the caller with the mapping's message


def _play(
    envs: list[Any],
    policies: TrainedPolicies,
    unit: WorkUnit,
    plan: RolloutPlan,
    rng: np.random.Generator | None,
) -> list[Rollout]:
    """Play one episode per env copy in lock-step and keep every step of each."""
    seeds = [plan.seed + r for r in unit.repeats]
    played = record_episodes(
        envs, policies_act(policies, rng), seeds, plan.metrics, plan.record_messages
    )
    return [
        Rollout(unit.rollout_id, repeat, unit.config, unit.params, steps, recorded, seed=seed)
        for repeat, seed, (steps, recorded) in zip(unit.repeats, seeds, played)
    ]


def record_episodes(
    envs: list[Any],
    act: Any,
    seeds: list[int],
    metrics: Mapping[str, Metric] | None,
    record_messages: bool,
) -> list[tuple[list[Step], dict[str, np.ndarray]]]:
    """Play ``seeds[n]`` on ``envs[n]`` (one wave, lock-step) with ``act`` and record
    each episode: its :class:`Step` s and ``{metric: per-step values}``.

    The recording every rollout, replay and branch shares, so that their Rollouts
    compare equal when the episodes are the same.
    """
    recorders = [MetricRecorder(metrics) for _ in envs]
    steps: list[list[Step]] = [[] for _ in envs]
    if record_messages:
        for env in envs:  # a reset delivers no messages, so the log starts with step 0
            env.network.message_log = []

    def on_step(record: StepRecord) -> None:
        messages = None
        if record_messages:
            network = record.env.network
            messages, network.message_log = network.message_log, []
        steps[record.copy].append(
            Step(
                record.step,
                record.observations,
                record.rewards,
                record.terminations,
                record.truncations,
                record.infos,
                dict(record.actions),
                messages,
                record.stage,
            )
        )
        recorders[record.copy].record(record.env, record.stage)

    try:
        run_episodes(envs, act, seeds, on_step)
    finally:
        if record_messages:
            for env in envs:
                env.network.message_log = None
    return [
        (steps[n], {k: np.asarray(v, dtype=float) for k, v in recorders[n].values.items()})
        for n in range(len(envs))
    ]
