"""Rollouts: play trained or hand-written policies over grids of configurations.

``ph.rollout`` expands every :class:`~phantomzoo.ranges.Range` found in the env config
(including inside supertypes) into a grid of concrete configurations, plays each one
``num_repeats`` times with seeds ``seed, seed + 1, ...`` and returns one :class:`Rollout`
per episode. The episodes of one configuration run side by side and each policy acts
for all of them in one batched call per step. Episodes that end early stop there:
rollouts are never padded with steps that did not happen. The episodes are played by
:func:`phantomzoo.experiments.episodes.run_episodes`, the one episode loop.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..metrics import Metric, MetricRecorder
from ..policy import Policy, checked_actions
from ..ranges import Range
from ..training.api import resolve_env
from ..training.results import policies_dir
from ..training.trained import TrainedPolicies, load_policies
from ..types import AgentID
from .episodes import StepRecord, policies_act, run_episodes
from .grids import expand_ranges


@dataclass
class AgentStep:
    """One agent's part of a step."""

    i: int
    observation: Any
    reward: float | None
    terminated: bool | None
    truncated: bool | None
    info: dict[str, Any] | None
    action: Any
    stage: Hashable | None = None


@dataclass
class Step:
    """One step of an episode: who acted, what they saw and got (``None``: absent)."""

    i: int
    observations: dict[AgentID, Any]
    rewards: dict[AgentID, float]
    terminations: dict[AgentID, bool]
    truncations: dict[AgentID, bool]
    infos: dict[AgentID, dict[str, Any]]
    actions: dict[AgentID, Any]
    messages: list[Any] | None = None
    stage: Hashable | None = None


@dataclass
class Rollout:
    """One episode: its configuration, its steps and its metrics.

    Attributes:
        rollout_id: Index of the configuration in the grid.
        repeat_id: Index of the repeat (its seed is ``seed + repeat_id``).
        env_config: The concrete env config played.
        rollout_params: The values the ranges took (by dotted path).
        steps: The steps, in order (observations are those the actions were chosen on).
        metrics: ``{name: array of per-step values}``.
    """

    rollout_id: int
    repeat_id: int
    env_config: dict[str, Any]
    rollout_params: dict[str, Any]
    steps: list[Step]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    def _filtered(self, stages: Iterable[Hashable] | None) -> list[Step]:
        if stages is None:
            return self.steps
        wanted = set(stages)
        return [s for s in self.steps if s.stage in wanted]

    def _field(self, name: str, agent_id: AgentID, drop_nones: bool, stages: Any) -> list[Any]:
        values = [getattr(s, name).get(agent_id) for s in self._filtered(stages)]
        return [v for v in values if v is not None] if drop_nones else values

    def actions_for_agent(
        self, agent_id: AgentID, drop_nones: bool = False, stages: Iterable[Hashable] | None = None
    ) -> list[Any]:
        """The agent's action at every step (``None`` where it did not act)."""
        return self._field("actions", agent_id, drop_nones, stages)

    def observations_for_agent(
        self, agent_id: AgentID, drop_nones: bool = False, stages: Iterable[Hashable] | None = None
    ) -> list[Any]:
        """The observation the agent acted on at every step."""
        return self._field("observations", agent_id, drop_nones, stages)

    def rewards_for_agent(
        self, agent_id: AgentID, drop_nones: bool = False, stages: Iterable[Hashable] | None = None
    ) -> list[float | None]:
        """The agent's reward at every step."""
        return self._field("rewards", agent_id, drop_nones, stages)

    def terminations_for_agent(
        self, agent_id: AgentID, drop_nones: bool = False, stages: Iterable[Hashable] | None = None
    ) -> list[bool | None]:
        """The agent's termination flag at every step."""
        return self._field("terminations", agent_id, drop_nones, stages)

    def truncations_for_agent(
        self, agent_id: AgentID, drop_nones: bool = False, stages: Iterable[Hashable] | None = None
    ) -> list[bool | None]:
        """The agent's truncation flag at every step."""
        return self._field("truncations", agent_id, drop_nones, stages)

    def infos_for_agent(
        self, agent_id: AgentID, drop_nones: bool = False, stages: Iterable[Hashable] | None = None
    ) -> list[dict[str, Any] | None]:
        """The agent's infos at every step."""
        return self._field("infos", agent_id, drop_nones, stages)

    def steps_for_agent(
        self, agent_id: AgentID, stages: Iterable[Hashable] | None = None
    ) -> list[AgentStep]:
        """The steps in which the agent acted or was rewarded, as :class:`AgentStep`."""
        out = []
        for s in self._filtered(stages):
            if agent_id in s.actions or agent_id in s.rewards:
                out.append(
                    AgentStep(
                        s.i,
                        s.observations.get(agent_id),
                        s.rewards.get(agent_id),
                        s.terminations.get(agent_id),
                        s.truncations.get(agent_id),
                        s.infos.get(agent_id),
                        s.actions.get(agent_id),
                        s.stage,
                    )
                )
        return out

    def count_actions(self, stages: Iterable[Hashable] | None = None) -> list[tuple[Any, int]]:
        """How often each action was taken, by any agent, most common first."""
        counter: Counter[Any] = Counter()
        for s in self._filtered(stages):
            counter.update(_hashable(a) for a in s.actions.values())
        return counter.most_common()

    def count_agent_actions(
        self, agent_id: AgentID, stages: Iterable[Hashable] | None = None
    ) -> list[tuple[Any, int]]:
        """How often the agent took each action, most common first."""
        actions = self.actions_for_agent(agent_id, drop_nones=True, stages=stages)
        return Counter(_hashable(a) for a in actions).most_common()

    def records(self) -> list[dict[str, Any]]:
        """One flat record per (step, agent): the long format of the episode."""
        rows = []
        for s in self.steps:
            agents = dict.fromkeys([*s.actions, *s.rewards, *s.observations])
            for agent_id in agents:
                rows.append(
                    {
                        "rollout_id": self.rollout_id,
                        "repeat_id": self.repeat_id,
                        "step": s.i,
                        "stage": s.stage,
                        "agent_id": agent_id,
                        "observation": _plain(s.observations.get(agent_id)),
                        "action": _plain(s.actions.get(agent_id)),
                        "reward": s.rewards.get(agent_id),
                        "terminated": s.terminations.get(agent_id),
                        "truncated": s.truncations.get(agent_id),
                        **{f"param:{k}": v for k, v in self.rollout_params.items()},
                    }
                )
        return rows

    def to_dataframe(self) -> Any:
        """The episode's :meth:`records` as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ConfigError(
                "to_dataframe needs pandas: pip install 'phantomzoo[plots]'"
            ) from None
        return pd.DataFrame(self.records())

    def to_json_lines(self, path: str | Path) -> Path:
        """Append the episode's records to a JSON-lines file."""
        path = Path(path)
        with path.open("a", encoding="utf-8") as handle:
            for row in self.records():
                handle.write(json.dumps(row, default=_plain) + "\n")
        return path


def _hashable(action: Any) -> Any:
    if isinstance(action, np.ndarray):
        return (
            tuple(action.reshape(-1).tolist()) if action.size > 1 else action.reshape(-1)[0].item()
        )
    return action


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


# ---------------------------------------------------------------------- rollout
def _policies_for(
    env: Any, policies: Any, custom_policy_mapping: Mapping[AgentID, Any] | None
) -> TrainedPolicies:
    if isinstance(policies, (str, Path)):  # a results or policy directory, or .../LATEST
        policies = load_policies(policies_dir(policies))
    if policies is None:
        policies = TrainedPolicies({}, {})
    if not isinstance(policies, TrainedPolicies):
        raise ConfigError(
            f"policies must be trained policies or a directory of them, got {policies!r}"
        )
    table = dict(policies.policies)
    mapping = dict(policies.agent_to_policy)
    for agent_id, entry in (custom_policy_mapping or {}).items():
        if agent_id not in env.possible_agents:
            raise ConfigError(
                f"custom_policy_mapping names {agent_id!r}, which is not a strategic agent"
            )
        if isinstance(entry, Policy):
            policy = entry
        else:
            policy_class, config = (
                (entry, {}) if isinstance(entry, type) else (entry[0], dict(entry[1]))
            )
            if not (isinstance(policy_class, type) and issubclass(policy_class, Policy)):
                raise ConfigError(
                    f"custom_policy_mapping[{agent_id!r}] must be a ph.Policy subclass, an "
                    "instance or a (class, config) pair"
                )
            policy = policy_class(
                env.observation_space(agent_id), env.action_space(agent_id), **config
            )
        table[f"custom:{agent_id}"] = policy
        mapping[agent_id] = f"custom:{agent_id}"
    missing = [i for i in env.possible_agents if i not in mapping]
    if missing:
        raise ConfigError(f"no policy for agent(s) {missing}: add them to custom_policy_mapping")
    acting = TrainedPolicies(table, mapping, policies.env_info)
    acting.check_fits(env, "the policies")  # spaces too, before any episode is played
    return acting


def rollout(
    env: Any,
    policies: TrainedPolicies | str | Path | None = None,
    env_config: Mapping[str, Any] | None = None,
    num_repeats: int = 1,
    metrics: Mapping[str, Metric] | None = None,
    record_messages: bool = False,
    seed: int = 0,
    custom_policy_mapping: Mapping[AgentID, Any] | None = None,
    explore: bool = False,
    show_progress_bar: bool = True,
) -> list[Rollout]:
    """Play episodes over every configuration in ``env_config``'s ranges.

    Args:
        env: A registered name, env class or factory.
        policies: Trained policies (from any backend) or the directory they were saved in.
        env_config: Env keyword arguments; ranges in it (or in supertypes in it) are swept.
        num_repeats: Episodes per configuration (seeds ``seed + repeat``).
        metrics: ``{name: Metric}`` recorded every step.
        record_messages: Keep every message delivered in each step.
        seed: First episode seed (also seeds sampling when ``explore``).
        custom_policy_mapping: ``{agent_id: Policy instance | PolicyClass | (PolicyClass, config)}``
            overriding or completing ``policies``.
        explore: Sample actions from trained policies instead of acting deterministically.
        show_progress_bar: Show a progress bar over configurations (needs tqdm).
    """
    if not isinstance(num_repeats, int) or num_repeats < 1:
        raise ConfigError(f"num_repeats must be an int >= 1, got {num_repeats!r}")
    grid = expand_ranges(env_config or {})
    rng = np.random.default_rng(seed) if explore else None
    results: list[Rollout] = []
    for rollout_id, (params, config) in enumerate(_progress(grid, show_progress_bar)):
        source = resolve_env(env, config)
        envs = [source.make() for _ in range(num_repeats)]
        acting = _policies_for(envs[0], policies, custom_policy_mapping)
        results.extend(
            _play(envs, acting, rollout_id, params, config, metrics, record_messages, seed, rng)
        )
    return results


def _progress(grid: list[Any], show: bool) -> Iterable[Any]:
    if not show or len(grid) < 2:
        return grid
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return grid
    return tqdm(grid, desc="rollouts", unit="config")


def _play(
    envs: list[Any],
    policies: TrainedPolicies,
    rollout_id: int,
    params: dict[str, Any],
    config: dict[str, Any],
    metrics: Mapping[str, Metric] | None,
    record_messages: bool,
    seed: int,
    rng: np.random.Generator | None,
) -> list[Rollout]:
    """Play one episode per env copy in lock-step and keep every step of each."""
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
        seeds = range(seed, seed + len(envs))
        run_episodes(envs, policies_act(policies, rng), seeds, on_step)
    finally:
        if record_messages:
            for env in envs:
                env.network.message_log = None
    out = []
    for repeat in range(len(envs)):
        recorded = {k: np.asarray(v, dtype=float) for k, v in recorders[repeat].values.items()}
        out.append(Rollout(rollout_id, repeat, config, params, steps[repeat], recorded))
    return out


def evaluate_policy(
    policies: TrainedPolicies | str | Path,
    policy_id: str,
    obs: Any,
    explore: bool = False,
    batch_size: int = 100,
    seed: int = 0,
) -> list[tuple[dict[str, Any], np.ndarray, Any]]:
    """Evaluate one policy over observations in which ranges are swept.

    Args:
        policies: Trained policies or their directory.
        policy_id: The policy to evaluate.
        obs: An observation (sequence of numbers) where any element may be a
            :class:`~phantomzoo.ranges.Range`; every combination is evaluated.
        explore: Sample actions instead of acting deterministically.
        batch_size: Observations per policy call.
        seed: Seeds sampling when ``explore``.

    Returns:
        ``[(params, observation, action), ...]`` with ``params`` the range values by index.
    """
    if isinstance(policies, (str, Path)):  # a results or policy directory, or .../LATEST
        policies = load_policies(policies_dir(policies))
    if policy_id not in policies:
        raise ConfigError(f"no policy {policy_id!r}; the policies are {list(policies)}")
    policy = policies[policy_id]
    items = list(obs)
    ranged = [n for n, v in enumerate(items) if isinstance(v, Range)]
    combos = itertools.product(*(items[n].values() for n in ranged)) if ranged else [()]
    rows = []
    for values in combos:
        concrete = list(items)
        for n, value in zip(ranged, values):
            concrete[n] = value
        rows.append(
            ({str(n): v for n, v in zip(ranged, values)}, np.asarray(concrete, dtype=np.float32))
        )
    rng = np.random.default_rng(seed) if explore else None
    out = []
    for start in range(0, len(rows), max(1, batch_size)):
        chunk = rows[start : start + batch_size]
        batch = [o for _, o in chunk]
        actions = checked_actions(policy, policy_id, batch, rng)
        out.extend((params, o, a) for (params, o), a in zip(chunk, actions))
    return out
