"""Stage play: a staged model's step, one stage played, and the handler's choice of the
next stage; part of the engine.

:class:`StagePlay` is a base of :class:`~phantomzoo.engine.core.Engine` (which owns the
state it reads). A staged step plays the stage whose agents act now, then every stage the
environment plays alone (no acting agents), until a stage with acting agents or the end
of the episode; rewards of every stage played are summed per agent, and the agents that
act next plus every agent that just ended are observed.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from ..errors import StageError
from ..stages import FSMStage
from ..types import AgentID, StageID
from .outcome import StepOutcome
from .outcome import outcome as _outcome


class StagePlay:
    """The engine's stage play (see the module docs)."""

    stages: dict[StageID, FSMStage]
    host: Any
    telemetry: Any
    previous_stage: StageID | None
    current_stage: StageID | None
    _stage: StageID
    _live: list[AgentID]
    _live_set: set[AgentID]
    _carry: dict[AgentID, float]
    endings: dict[AgentID, tuple[bool, bool]]

    def _step_staged(self, actions: Mapping[AgentID, Any]) -> StepOutcome:
        if not self._live:
            self._raise_episode_over()
        acting, acting_set = self._acting()
        try:
            matches = actions.keys() == acting_set
        except AttributeError:  # not a mapping
            matches = False
        if not matches:
            self._raise_bad_actions(actions, acting, "the agents acting now", self._live)
        rewards, self._carry = self._carry, {}
        finished: dict[AgentID, tuple[bool, bool]] = {}
        self._play_stage(acting, actions, rewards, finished)
        while self._live and not self._acting()[0]:
            self._play_stage([], {}, rewards, finished)
        next_acting, next_set = self._acting()
        observed = [i for i in finished if i not in next_set] + next_acting
        observations = self._observe_many(observed)
        keys = list(dict.fromkeys([*observed, *rewards]))
        terminations = {i: finished.get(i, (False, False))[0] for i in keys}
        truncations = {i: finished.get(i, (False, False))[1] for i in keys}
        infos = self._infos(keys, next_acting)
        return _outcome((observations, rewards, terminations, truncations, infos))

    def _play_stage(
        self,
        acting: list[AgentID],
        actions: Mapping[AgentID, Any],
        rewards: dict[AgentID, float],
        finished: dict[AgentID, tuple[bool, bool]],
    ) -> None:
        stage = self.stages[self._stage]
        self.previous_stage = stage.id
        self._resolve(acting, actions)
        next_stage = self._next_stage(stage)
        live = self._live_set
        rewarded = [i for i in stage.rewarded_agents if i in live]
        if rewarded:  # many stages reward nobody: skip the call
            for agent_id, reward in self.compute_rewards(rewarded).items():
                rewards[agent_id] = rewards.get(agent_id, 0.0) + reward
        ended = self._ended(live)
        if ended:
            finished.update(ended)
            self.endings.update(ended)
            self._set_live([i for i in self._live if i not in ended])
        self.current_stage = self._stage = next_stage
        self._tick()
        if self.telemetry is not None:
            self.telemetry.after_stage(self, stage.id)

    def _next_stage(self, stage: FSMStage) -> StageID:
        handler = stage.handler
        if handler is None:
            return stage.next_stages[0]
        next_stage = handler() if inspect.ismethod(handler) else handler(self.host)
        if next_stage not in stage.next_stages:
            raise StageError(
                f"the handler of stage {stage.id!r} returned {next_stage!r}, which is not one "
                f"of its next stages {stage.next_stages}; return one of them or add it to "
                "next_stages"
            )
        return next_stage
