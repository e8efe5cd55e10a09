"""Stage declarations of finite-state-machine models: :class:`FSMStage` and its view.

A stage names who acts during it, who is rewarded when it resolves and which stages
may follow. Everything is checked when the stage is declared (so a decorated handler
fails at class definition): id lists must be real lists, not a bare string (which
would be read as its characters) nor a set (whose order varies between runs), and
must not repeat an agent. The graph as a whole is checked when the environment is
built (:class:`~phantomzoo.fsm.FiniteStateMachineEnv`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import StageError
from .types import AgentID, StageID
from .views import EnvView


@dataclass(frozen=True)
class FSMEnvView(EnvView):
    """The environment view of a staged env: also the stage being played."""

    current_stage: StageID = None


class FSMStage:
    """One stage of a finite-state-machine environment.

    Args:
        stage_id: Unique id of the stage.
        acting_agents: Ids of the strategic agents that act during the stage (may be
            empty for a stage the environment plays alone).
        rewarded_agents: Ids of the strategic agents rewarded when the stage resolves
            (default: the acting agents).
        next_stages: Ids of the stages that may follow. Without a handler there must be
            exactly one.
        handler: Picks the next stage after the stage resolves. As a decorator, the
            decorated env method is the handler.
    """

    def __init__(
        self,
        stage_id: StageID,
        acting_agents: Sequence[AgentID],
        rewarded_agents: Sequence[AgentID] | None = None,
        next_stages: Sequence[StageID] | None = None,
        handler: Callable[..., StageID] | None = None,
    ) -> None:
        try:
            hash(stage_id)
        except TypeError:
            raise StageError(
                f"stage id {stage_id!r} is not hashable; use a string or a number"
            ) from None
        self.id = stage_id
        self.acting_agents = _id_list(stage_id, "acting_agents", acting_agents)
        self.rewarded_agents = (
            _id_list(stage_id, "rewarded_agents", rewarded_agents)
            if rewarded_agents is not None
            else list(self.acting_agents)
        )
        self.next_stages = (
            [] if next_stages is None else _id_list(stage_id, "next_stages", next_stages)
        )
        if handler is not None and not callable(handler):
            raise StageError(f"stage {stage_id!r}: handler must be callable, got {handler!r}")
        self.handler = handler

    def __call__(self, method: Callable[..., StageID]) -> Callable[..., StageID]:
        """Decorate an env method: it becomes this stage's handler."""
        method._pz_stage = FSMStage(  # type: ignore[attr-defined]
            self.id, self.acting_agents, self.rewarded_agents, self.next_stages, method
        )
        return method

    def __repr__(self) -> str:
        return (
            f"FSMStage({self.id!r}, acting_agents={self.acting_agents}, "
            f"rewarded_agents={self.rewarded_agents}, next_stages={self.next_stages})"
        )


def _id_list(stage_id: StageID, role: str, ids: Any) -> list[Any]:
    """``ids`` as a list of unique ids; refuses a bare string, a set or a single id."""
    if isinstance(ids, (str, bytes)):
        raise StageError(
            f"stage {stage_id!r}: {role} must be a list of ids, got the string {ids!r} "
            f"(it would be read character by character); write {role}=[{ids!r}]"
        )
    if isinstance(ids, (set, frozenset)):
        raise StageError(
            f"stage {stage_id!r}: {role} must be an ordered list, got a set {ids!r} whose "
            f"order varies between runs; write {role}=[...] in the order you mean"
        )
    if isinstance(ids, Mapping) or not isinstance(ids, Iterable):
        raise StageError(
            f"stage {stage_id!r}: {role} must be a list of ids, got {ids!r}; "
            f"write {role}=[{ids!r}] for a single one"
        )
    out = list(ids)
    seen: set[Any] = set()
    for item in out:
        try:
            duplicate = item in seen
        except TypeError:
            raise StageError(
                f"stage {stage_id!r}: {role} holds {item!r}, which is not hashable; "
                "ids are strings or numbers"
            ) from None
        if duplicate and role != "next_stages":
            raise StageError(f"stage {stage_id!r}: {role} lists {item!r} twice; list it once")
        seen.add(item)
    return out


def check_someone_acts(stages: Mapping[StageID, FSMStage], initial_stage: StageID) -> None:
    """Refuse a graph in which no stage reachable from ``initial_stage`` has actors."""
    reachable, frontier = {initial_stage}, [initial_stage]
    while frontier:
        for next_id in stages[frontier.pop()].next_stages:
            if next_id not in reachable:
                reachable.add(next_id)
                frontier.append(next_id)
    if not any(stages[i].acting_agents for i in reachable):
        raise StageError(
            f"no stage reachable from the initial stage {initial_stage!r} has acting "
            f"agents (reachable: {[i for i in stages if i in reachable]}), so no "
            "agent would ever act; give at least one of them acting_agents=[...]"
        )
