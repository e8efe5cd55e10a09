"""PhantomEnv: a network of agents compiled into a PettingZoo ``ParallelEnv``.

One step:

1. ``pre_message_resolution`` on every agent that defines it;
2. every live strategic agent's action goes through ``decode_action``, and every agent
   that defines ``generate_messages`` sends its messages;
3. the network's resolver delivers all messages and replies;
4. ``post_message_resolution`` on every agent that defines it;
5. each strategic agent that acted is observed, rewarded and checked for termination /
   truncation (every agent is truncated once ``num_steps`` steps have been taken).

``reset(seed=s)`` seeds the one generator (``env.np_random``) every random draw comes
from: supertype samplers, stochastic edges, resolver shuffles and agents (through
``ctx.rng``). Same seed and actions give the same episode.

Trainers may drive any phantomzoo env, staged or not, through the *acting-agents*
protocol: ``acting_reset(seed)`` and ``acting_step(actions)`` (see
:class:`~phantomzoo.fsm.FiniteStateMachineEnv`); for a parallel env they are ``reset``
and ``step``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pettingzoo import ParallelEnv

from .engine.core import ModelEngine
from .network import Network
from .supertype import Supertype
from .types import AgentID

StepResult = tuple[
    dict[AgentID, Any],
    dict[AgentID, float],
    dict[AgentID, bool],
    dict[AgentID, bool],
    dict[AgentID, dict[str, Any]],
]


class PhantomEnv(ModelEngine, ParallelEnv):
    """A PettingZoo ``ParallelEnv`` over a network of agents.

    Subclass it, build the network in ``__init__`` and call ``super().__init__``.

    Args:
        num_steps: Episode length; every agent is truncated after this many steps.
        network: The agents and their connections.
        env_supertype: Optional supertype sampled into ``self.env_type`` every reset.
        agent_supertypes: Optional ``{agent_id: Supertype}``, overriding agents' own.
        type_augmented_observations: When true (the default), a strategic agent with a
            supertype gets its sampled type, flattened to numbers, appended to its
            observation (``Box`` observations are extended, ``Dict`` observations get a
            ``"type"`` entry) and its observation space widened to match, so one shared
            policy can condition on each agent's type.
        checks: Runtime checks: ``"first"`` (default) checks the first observation,
            reward and action of each agent per episode (and every reward's finiteness),
            ``"full"`` checks every step against the spaces' bounds too (debugging),
            ``"off"`` checks nothing. See :class:`~phantomzoo.engine.checks.RuntimeChecks`.
        check_observations: Older switch: ``True`` means ``checks="full"``.
    """

    metadata: dict[str, Any] = {"name": "phantomzoo", "render_modes": []}
    render_mode = None

    def __init__(
        self,
        num_steps: int,
        network: Network,
        env_supertype: Supertype | None = None,
        agent_supertypes: Mapping[AgentID, Supertype] | None = None,
        *,
        type_augmented_observations: bool = True,
        check_observations: bool | None = None,
        checks: str | None = None,
    ) -> None:
        self._init_engine(
            num_steps,
            network,
            env_supertype,
            agent_supertypes,
            type_augmented_observations,
            check_observations,
            checks=checks,
        )
        self._live: set[AgentID] = set()
        self._episode_over = True

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Start a new episode; returns ``(observations, infos)`` for every strategic agent."""
        self._begin_episode(seed)
        self.agents = list(self.possible_agents)
        self._live = set(self.agents)
        self._episode_over = not self.agents
        observations = self._observe_many(self.agents)
        return observations, {i: {} for i in self.agents}

    def step(self, actions: Mapping[AgentID, Any]) -> StepResult:
        """Advance one step with an action for every live strategic agent."""
        if self._episode_over:
            self._raise_episode_over()
        try:
            matches = actions.keys() == self._live
        except AttributeError:  # not a mapping
            matches = False
        if not matches:
            self._raise_bad_actions(actions, self.agents, "the live agents", self._live)
        acting = self.agents
        self._resolve_step(acting, actions)

        observations = self._observe_many(acting)
        rewards = self.compute_rewards(acting)
        out_of_time = self.current_step >= self.num_steps
        terminations = dict.fromkeys(acting, False)
        truncations = dict.fromkeys(acting, out_of_time)
        finished = list(acting) if out_of_time else []
        for agent_id, is_terminated, is_truncated, ctx in self._enders:
            if agent_id in self._live:
                terminated = is_terminated is not None and bool(is_terminated(ctx))
                truncated = out_of_time or (is_truncated is not None and bool(is_truncated(ctx)))
                terminations[agent_id] = terminated
                truncations[agent_id] = truncated
                if (terminated or truncated) and not out_of_time:
                    finished.append(agent_id)
        infos = self._collect_infos(acting)
        if finished:
            self._live.difference_update(finished)
            self.agents = [i for i in acting if i in self._live]
            self._episode_over = not self.agents
        return observations, rewards, terminations, truncations, infos

    # ------------------------------------------------ acting-agents protocol
    @property
    def acting_agents(self) -> list[AgentID]:
        """The agents that must act in the next ``acting_step`` (all live agents)."""
        return self.agents

    def acting_reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Same as :meth:`reset` (every agent acts every step in a parallel env)."""
        return self.reset(seed=seed, options=options)

    def acting_step(self, actions: Mapping[AgentID, Any]) -> StepResult:
        """Same as :meth:`step`."""
        return self.step(actions)
