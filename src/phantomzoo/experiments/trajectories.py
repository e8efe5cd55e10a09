"""What a rollout returns: one :class:`Rollout` per episode, made of :class:`Step` s.

These are Phantom's ``ph.utils.rollout`` classes (also reachable under that name):
a :class:`Rollout` holds an episode's configuration, its steps and its per-step metric
values, with helpers that read one agent's view of the episode. They are plain
dataclasses of plain values, so they pickle: worker processes send them back whole.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, StepIndexError
from ..types import AgentID

__all__ = ["AgentStep", "Rollout", "Step", "StepIndexError"]


@dataclass
class AgentStep:
    """One agent's part of a step (``None``: the agent had no such entry in that step)."""

    i: int
    observation: Any
    reward: float | None
    terminated: bool | None
    truncated: bool | None
    info: dict[str, Any] | None
    action: Any
    stage: Hashable | None = None

    @property
    def done(self) -> bool:
        """Whether the agent's episode ended in this step (terminated or truncated):
        Phantom's ``AgentStep.done``, which PettingZoo splits into the two flags."""
        return bool(self.terminated) or bool(self.truncated)


@dataclass(eq=False)
class Step:
    """One step of an episode: who acted, what they saw and got (``None``: absent).

    Steps compare by value, arrays included (``==`` is :func:`same_values` on every field).
    """

    i: int
    observations: dict[AgentID, Any]
    rewards: dict[AgentID, float]
    terminations: dict[AgentID, bool]
    truncations: dict[AgentID, bool]
    infos: dict[AgentID, dict[str, Any]]
    actions: dict[AgentID, Any]
    messages: list[Any] | None = None
    stage: Hashable | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Step):
            return NotImplemented
        return _same_fields(self, other)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


@dataclass(eq=False)
class Rollout:
    """One episode: its configuration, its steps and its metrics.

    Rollouts compare by value, arrays included, so two runs can be checked for being the
    same episodes with ``==`` (e.g. a rollout over worker processes against one in-process).

    Attributes:
        rollout_id: Index of the configuration in the grid.
        repeat_id: Index of the repeat (its seed is ``seed + repeat_id``).
        env_config: The concrete env config played.
        rollout_params: The values the ranges took (by dotted path).
        steps: The steps, in order (observations are those the actions were chosen on).
        metrics: ``{name: array of per-step values}``.
        seed: The episode's seed (``None`` for a rollout built by hand).
        source: What played the episode (the env, its policies and metrics), kept so that
            :func:`phantomzoo.replay` and :func:`phantomzoo.branch` can play it again; set
            by ``ph.rollout`` in the calling process, left out of comparisons and pickles
            (a rollout loaded from a file replays with ``ph.replay(rollout, env=...)``).
    """

    rollout_id: int
    repeat_id: int
    env_config: dict[str, Any]
    rollout_params: dict[str, Any]
    steps: list[Step]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    seed: int | None = field(default=None, compare=False)
    source: Any = field(default=None, compare=False, repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rollout):
            return NotImplemented
        return _same_fields(self, other)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without :attr:`source` (policies and metrics need not pickle)."""
        state = self.__dict__.copy()
        state["source"] = None
        return state

    def __copy__(self) -> Rollout:
        return dataclasses.replace(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Rollout:
        """A deep copy sharing :attr:`source` (what played it), so the copy replays too."""
        import copy

        state = {k: copy.deepcopy(v, memo) for k, v in self.__dict__.items() if k != "source"}
        return Rollout(**state, source=self.source)

    def __getitem__(self, index: int) -> Step:
        """The step at ``index`` (Phantom's ``rollout[i]``; negative indices count from the end).

        Raises:
            StepIndexError: (an IndexError) for an index outside the episode, saying how
                many steps it has.
        """
        try:
            return self.steps[index]
        except IndexError:
            raise StepIndexError(
                f"step index {index} is outside this rollout, which has {len(self.steps)} "
                f"step(s); use 0..{len(self.steps) - 1} (or negative indices from the end)"
            ) from None

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
                        "observation": plain(s.observations.get(agent_id)),
                        "action": plain(s.actions.get(agent_id)),
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
                handle.write(json.dumps(row, default=plain) + "\n")
        return path


def same_values(a: Any, b: Any) -> bool:
    """Deep equality that compares NumPy arrays by shape, dtype and values (NaN equal to
    NaN) inside mappings, sequences and dataclasses, where ``==`` alone is ambiguous."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return (
            type(a) is type(b) and len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b))
        )
    if dataclasses.is_dataclass(a) and not isinstance(a, type) and type(a) is type(b):
        return _same_fields(a, b)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN metric values of two identical runs
    return bool(a == b)


def _same_fields(a: Any, b: Any) -> bool:
    return all(
        same_values(getattr(a, f.name), getattr(b, f.name))
        for f in dataclasses.fields(a)
        if f.compare
    )


def _hashable(action: Any) -> Any:
    if isinstance(action, np.ndarray):
        return (
            tuple(action.reshape(-1).tolist()) if action.size > 1 else action.reshape(-1)[0].item()
        )
    return action


def plain(value: Any) -> Any:
    """``value`` as JSON-able Python (arrays to lists, NumPy scalars to numbers,
    dataclasses to dicts); anything else unchanged."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value
