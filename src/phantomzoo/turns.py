"""PettingZoo AEC turn bookkeeping at a cost per agent that changed, not per agent.

PettingZoo's ``AECEnv`` helpers (``_clear_rewards``, ``_accumulate_rewards``,
``_deads_step_first``, ``_was_dead_step``) each scan every agent: called on every turn or
every dead agent's ``step(None)``, they make a staged model's turn bookkeeping grow with
the square of its population (at 1200 advertisers they took half the time of an episode
driven through ``agent_iter``). :class:`AECTurns` keeps the same public state
(``rewards``, ``_cumulative_rewards``, ``terminations``, ``truncations``, ``infos``,
``agents``, ``agent_selection``) with the same values after every call, using two facts
of the staged env it is mixed into:

* every entry of ``rewards`` outside ``_rewarded`` (the agents rewarded by the latest
  stage resolution) is 0, so clearing and accumulating touch only those;
* the agents that are terminated or truncated but not yet stepped out (``_dead``, in
  ``agents`` order) change only when a stage resolves (new ones) or a dead agent is
  stepped out (the first one leaves).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from .errors import ActionError
from .types import AgentID


class AECTurns:
    """Turn bookkeeping of :class:`~phantomzoo.FiniteStateMachineEnv` (see the module docs)."""

    agents: list[AgentID]
    possible_agents: list[AgentID]
    agent_selection: AgentID
    rewards: dict[AgentID, float]
    _cumulative_rewards: dict[AgentID, float]
    terminations: dict[AgentID, bool]
    truncations: dict[AgentID, bool]
    infos: dict[AgentID, dict[str, Any]]
    _skip_agent_selection: AgentID | None

    def _reset_turns(self) -> None:
        """Nobody rewarded and nobody dead: the state right after ``reset``."""
        self._rewarded: Collection[AgentID] = ()
        self._dead: list[AgentID] = []
        self._order = {agent: i for i, agent in enumerate(self.possible_agents)}

    def _clear_rewards(self) -> None:
        """Set every entry of ``rewards`` to 0 (only the latest rewarded can be other)."""
        if self._rewarded:
            rewards = self.rewards
            for agent in self._rewarded:
                if agent in rewards:  # a dead agent stepped out has left rewards
                    rewards[agent] = 0
            self._rewarded = ()

    def _accumulate_rewards(self) -> None:
        """Add ``rewards`` to ``_cumulative_rewards`` (the zero entries change nothing)."""
        rewards, cumulative = self.rewards, self._cumulative_rewards
        for agent in self._rewarded:
            reward = rewards[agent]
            if reward:
                cumulative[agent] += reward

    def _record_stage(
        self,
        rewards: Mapping[AgentID, float],
        terminations: Mapping[AgentID, bool],
        truncations: Mapping[AgentID, bool],
    ) -> None:
        """Take in one stage resolution's rewards and endings (the engine's dicts of
        this outcome, kept unchanged: ``_rewarded`` holds ``rewards`` itself)."""
        self._clear_rewards()
        self.rewards.update(rewards)
        self._rewarded = rewards
        self._accumulate_rewards()
        if True in terminations.values() or True in truncations.values():
            self._add_dead(
                [i for i, ended in terminations.items() if ended or truncations.get(i, False)]
            )

    def _add_dead(self, new_dead: list[AgentID]) -> None:
        """Append agents that have just ended to ``_dead``, kept in ``agents`` order."""
        dead = self._dead
        dead.extend(new_dead)
        if len(dead) > 1:
            dead.sort(key=self._order.__getitem__)

    def _deads_step_first(self) -> AgentID:
        """Select the first dead agent (remembering who was selected), if any."""
        if self._dead:
            self._skip_agent_selection = self.agent_selection
            self.agent_selection = self._dead[0]
        return self.agent_selection

    def _was_dead_step(self, action: Any) -> None:
        """``step(None)`` of a dead agent: it leaves ``agents`` and every per-agent dict;
        the next dead agent is selected, else the agent selected before them.

        Raises:
            ActionError: when ``action`` is not ``None``.
        """
        agent = self.agent_selection
        if action is not None:
            raise ActionError(
                f"agent {agent!r} has terminated or been truncated, so its only valid "
                f"action is None (got {action!r}); call env.step(None) for it"
            )
        del self.terminations[agent]
        del self.truncations[agent]
        del self.rewards[agent]
        del self._cumulative_rewards[agent]
        del self.infos[agent]
        self.agents.remove(agent)
        dead = self._dead
        dead.remove(agent)
        if dead:
            if getattr(self, "_skip_agent_selection", None) is None:
                self._skip_agent_selection = agent
            self.agent_selection = dead[0]
        else:
            if getattr(self, "_skip_agent_selection", None) is not None:
                self.agent_selection = self._skip_agent_selection  # type: ignore[assignment]
            self._skip_agent_selection = None
        self._clear_rewards()


class AgentTurns:
    """What ``agent_iter(max_iter)`` returns: iterating it yields ``agent_selection``
    until ``agents`` is empty or ``max_iter`` turns have passed (PettingZoo's
    ``AECIterable``, each iteration a generator: cheaper per turn than its iterator's
    ``__next__``)."""

    __slots__ = ("env", "max_iter")

    def __init__(self, env: AECTurns, max_iter: int) -> None:
        self.env = env
        self.max_iter = max_iter

    def __iter__(self) -> Iterator[AgentID]:
        env, left = self.env, self.max_iter
        while env.agents and left > 0:
            left -= 1
            yield env.agent_selection
