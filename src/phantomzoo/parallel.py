"""A staged model as a PettingZoo ``ParallelEnv``: every live agent appears every step.

Consumers that need a ``ParallelEnv`` (PettingZoo's parallel tests, SuperSuit vector envs,
RLlib's ``ParallelPettingZooEnv``, TorchRL, AgileRL, SB3 through SuperSuit) cannot take a
staged model's ``AECEnv``. :class:`StagedParallelEnv` presents the same model as a
``ParallelEnv`` with these semantics:

* **One parallel step is one engine step**: the agents of the stage that acts now act,
  then every stage the environment plays alone (no acting agents) runs too, until a
  stage with acting agents (or the end of the episode) is reached. ``num_steps`` still
  counts stages, as in the AEC form.
* **Who acts**: every live agent is in ``agents`` and gets an observation every step;
  ``infos[agent]["acting"]`` says whether its action will be used in the next step (the
  same set as :attr:`acting_agents`). Actions of agents not acting are ignored and may
  be left out; an acting agent's action is required. Masked agents (``action_mask``
  hook) that are not acting get an all-ones ``infos[agent]["action_mask"]`` (any action
  is as good as another: it is ignored); acting ones get their real mask.
* **Observations**: every agent's own observation *now* (partial observability is kept:
  it is the agent's ``encode_observation`` on its own context), so a waiting agent
  sees what it would see if it acted.
* **Rewards arrive as they accrue**: an agent's reward in a step is what its stages
  credited during that step (0.0 otherwise). In the AEC form a reward earned while an
  agent waits reaches it with its next turn instead; the totals per episode are equal.
* **Ends**: ``terminations`` / ``truncations`` as in the AEC form; an ended agent gets its
  final observation and leaves ``agents``.

Why not PettingZoo's ``aec_to_parallel``: it replays AEC turns assuming every live agent
takes one turn per cycle, in ``agents`` order, which is false whenever a stage's acting
agents are a subset of the live agents; so a staged ``FiniteStateMachineEnv`` keeps
``metadata["is_parallelizable"] = False`` and offers this native parallel form instead
(the bundled staged models' ``parallel_env()`` factories return it).

The view owns its staged env: drive one or the other, not both. Model attributes that the
view does not define (``network``, ``current_stage``, ``shop_ids``, ...) are read from the
staged env, and ``state()`` / ``state_space`` serve the model's opt-in global state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from .errors import ActionError, ConfigError
from .fsm import FiniteStateMachineEnv
from .types import AgentID

__all__ = ["StagedParallelEnv"]

StepResult = tuple[
    dict[AgentID, Any],
    dict[AgentID, float],
    dict[AgentID, bool],
    dict[AgentID, bool],
    dict[AgentID, dict[str, Any]],
]


class StagedParallelEnv(ParallelEnv):
    """The parallel view of a staged model (see the module docs).

    Args:
        env: A :class:`~phantomzoo.FiniteStateMachineEnv` (owned by the view from now on).

    Raises:
        ConfigError: when ``env`` is not a staged phantomzoo env.
    """

    def __init__(self, env: Any) -> None:
        if not isinstance(env, FiniteStateMachineEnv):
            hint = (
                "it already is a ParallelEnv: use it directly"
                if isinstance(env, ParallelEnv)
                else "pass a ph.FiniteStateMachineEnv"
            )
            raise ConfigError(
                f"StagedParallelEnv needs a staged phantomzoo env (a FiniteStateMachineEnv), "
                f"got {type(env).__name__}: {hint}"
            )
        self.env = env
        self.engine = env.engine
        self.metadata = {**env.metadata, "is_parallelizable": True}
        self.render_mode = env.render_mode
        self.possible_agents = list(env.possible_agents)
        self.agents: list[AgentID] = []

    def __getattr__(self, name: str) -> Any:
        """Model attributes the view does not define are the staged env's."""
        if name.startswith("_") or name in ("env", "engine"):
            raise AttributeError(name)
        return getattr(self.env, name)

    def __repr__(self) -> str:
        return f"StagedParallelEnv({type(self.env).__name__})"

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: AgentID) -> gym.Space[Any]:
        """The observation space of ``agent`` (the staged env's, same object every call)."""
        return self.env.observation_space(agent)

    def action_space(self, agent: AgentID) -> gym.Space[Any]:
        """The action space of ``agent`` (the staged env's, same object every call)."""
        return self.env.action_space(agent)

    @property
    def acting_agents(self) -> list[AgentID]:
        """The live agents whose actions the next :meth:`step` uses."""
        return self.env.acting_agents

    # ------------------------------------------------------------------ episode
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Start an episode; observations and infos of every live agent."""
        observations, infos = self.env.acting_reset(seed=seed, options=options)
        self.agents = list(self.engine.live_agents)
        return self._complete(self.agents, observations, infos)

    def step(self, actions: Mapping[AgentID, Any]) -> StepResult:
        """One engine step with the acting agents' actions (others' are ignored)."""
        self.engine.require_live()
        acting = self.env.acting_agents
        self._check_actions(actions, acting)
        before = self.agents
        observations, rewards, terminations, truncations, infos = self.env.acting_step(
            {agent_id: actions[agent_id] for agent_id in acting}
        )
        self.agents = list(self.engine.live_agents)
        observations, infos = self._complete(before, observations, infos)
        return (
            observations,
            {i: float(rewards.get(i, 0.0)) for i in before},
            {i: bool(terminations.get(i, False)) for i in before},
            {i: bool(truncations.get(i, False)) for i in before},
            infos,
        )

    def _complete(
        self,
        agent_ids: list[AgentID],
        observations: dict[AgentID, Any],
        infos: dict[AgentID, dict[str, Any]],
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Observations and infos of every agent of ``agent_ids``, with ``"acting"``."""
        engine = self.engine
        waiting = [i for i in agent_ids if i not in observations]
        if waiting:
            observations.update(engine.observe_many(waiting))
        acting = set(self.env.acting_agents)
        masked = engine.masked_agents
        completed: dict[AgentID, dict[str, Any]] = {}
        for agent_id in agent_ids:
            info = dict(infos.get(agent_id, {}))
            info["acting"] = agent_id in acting
            if agent_id in masked and "action_mask" not in info and agent_id in self.agents:
                info["action_mask"] = engine.full_mask(agent_id)
            completed[agent_id] = info
        return {i: observations[i] for i in agent_ids}, completed

    def _check_actions(self, actions: Mapping[AgentID, Any], acting: list[AgentID]) -> None:
        if not isinstance(actions, Mapping):
            raise ActionError(
                f"step() takes a dict of actions keyed by agent id, got {type(actions).__name__}"
            )
        live = set(self.agents)
        unknown = [i for i in actions if i not in live]
        if unknown:
            raise ActionError(
                f"actions given for {sorted(map(str, unknown))}, which are not live agents "
                f"of this episode; the live agents are {self.agents}"
            )
        missing = [i for i in acting if i not in actions]
        if missing:
            raise ActionError(
                f"no action for acting agents {missing}: the agents acting now are {acting} "
                "(infos[agent]['acting'] is True for them); other agents' actions are ignored"
            )

    # ------------------------------------------------------------------ extras
    @property
    def telemetry(self) -> Any:
        """The staged env's telemetry (``view.telemetry = ph.Telemetry(...)`` sets it there)."""
        return self.env.telemetry

    @telemetry.setter
    def telemetry(self, value: Any) -> None:
        self.env.telemetry = value

    @property
    def state_space(self) -> gym.Space[Any]:
        """The model's global-state space (see :meth:`phantomzoo.adapter.EngineAdapter.state`)."""
        space = getattr(self.env, "state_space", None)
        if space is None:
            raise AttributeError(f"{type(self.env).__name__} defines no state_space")
        return space

    def state(self) -> np.ndarray:
        """The model's opt-in global state, for centralised critics."""
        return self.env.state()

    def render(self) -> str | None:
        """The staged env's text view (see :mod:`phantomzoo.adapter`)."""
        return self.env.render()

    def close(self) -> None:
        self.env.close()
