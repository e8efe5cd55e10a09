"""Finite-state-machine stages: who acts when, compiled into a PettingZoo ``AECEnv``.

A model with stages lists them, each naming its acting agents (who act during the
stage), its rewarded agents (who receive a reward when the stage resolves, by default
the acting ones) and the stages that may follow. A stage resolves after its last acting
agent has acted: the acting agents' messages and every agent's generated messages are
delivered, the stage's handler picks the next stage, the rewarded agents are rewarded,
and the next stage's acting agents are observed. So no acting agent ever sees another
acting agent's action of the same stage.

Stages are declared either as decorated env methods (the method is the handler and
returns the next stage id)::

    class AuctionEnv(ph.FiniteStateMachineEnv):
        @ph.FSMStage("bid", acting_agents=BIDDERS, next_stages=["bid", "settle"])
        def bid_stage(self):
            return "settle" if self.round_over else "bid"

or as a list passed to the constructor, where a handler, if any, is called with the
env as its only argument (bound methods are called with none).

**Acting-agents protocol** (what trainers use, identical for parallel envs):

* ``acting_reset(seed, options) -> (observations, infos)``: observations and infos of
  the agents that act first.
* ``acting_agents``: the live agents that must act in the next ``acting_step``.
* ``acting_step(actions) -> (observations, rewards, terminations, truncations, infos)``
  with ``actions`` holding exactly one action per agent of ``acting_agents``.
  ``observations`` holds the agents that act next plus every agent that has just
  terminated or been truncated (its final observation); ``rewards`` holds every agent
  rewarded since the previous call (for stages run without acting agents too), credited
  to that agent's most recent action; ``terminations``, ``truncations`` and ``infos``
  cover every key of ``observations`` and ``rewards``. The episode is over when
  ``acting_agents`` is empty.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pettingzoo import AECEnv

from .agents import StrategicAgent
from .engine.core import ModelEngine
from .errors import ActionError, EpisodeOverError, NotResetError, StageError
from .network import Network
from .stages import FSMEnvView, FSMStage, _id_list, check_someone_acts
from .supertype import Supertype
from .types import AgentID, StageID

__all__ = ["FSMEnvView", "FSMStage", "FiniteStateMachineEnv", "StackelbergEnv"]


class FiniteStateMachineEnv(ModelEngine, AECEnv):
    """A staged model as a PettingZoo ``AECEnv``.

    Within a stage, its live acting agents take turns (``agent_selection``); the stage
    resolves after the last one. Each stage played counts as one step of ``num_steps``.
    Rewards earned while an agent is not acting accumulate and reach it with its next
    turn, or with its final ``last()`` when the episode ends.

    Args:
        num_steps: Stages played per episode before every agent is truncated.
        network: The agents and their connections.
        initial_stage: Id of the stage each episode starts in.
        env_supertype: Optional supertype sampled into ``self.env_type`` every reset.
        agent_supertypes: Optional ``{agent_id: Supertype}``.
        stages: Stages given as a list (in addition to decorated methods).
        type_augmented_observations: See :class:`~phantomzoo.PhantomEnv`.
        check_observations / checks: See :class:`~phantomzoo.PhantomEnv` (``checks``:
            ``"off"``, ``"first"`` (default) or ``"full"``).
    """

    metadata: dict[str, Any] = {
        "name": "phantomzoo_fsm",
        "render_modes": [],
        "is_parallelizable": False,
    }
    render_mode = None

    def __init__(
        self,
        num_steps: int,
        network: Network,
        initial_stage: StageID,
        env_supertype: Supertype | None = None,
        agent_supertypes: Mapping[AgentID, Supertype] | None = None,
        stages: Iterable[FSMStage] | None = None,
        *,
        type_augmented_observations: bool = True,
        check_observations: bool | None = None,
        checks: str | None = None,
    ) -> None:
        if isinstance(network, Network):
            network.check_usable()
        self._init_engine(
            num_steps,
            network,
            env_supertype,
            agent_supertypes,
            type_augmented_observations,
            check_observations,
            checks,
        )
        self._stages = self._collect_stages(stages)
        self._validate_stages(initial_stage)
        self.initial_stage = initial_stage
        self.current_stage = initial_stage
        self.previous_stage: StageID | None = None  # the stage played last
        self._live: list[AgentID] = []
        self.agents: list[AgentID] = []  # filled by reset()
        self._observations: dict[AgentID, Any] = {}
        self._live_set: set[AgentID] = set()
        self._acting_cache: dict[StageID, tuple[list[AgentID], set[AgentID]]] = {}
        self._carry_rewards: dict[AgentID, float] = {}
        self._observations: dict[AgentID, Any] = {}
        self._turns: list[AgentID] = []
        self._turn_actions: dict[AgentID, Any] = {}

    # ------------------------------------------------------------ stage graph
    def _collect_stages(self, stages: Iterable[FSMStage] | None) -> dict[StageID, FSMStage]:
        found: list[FSMStage] = []
        for name in dir(type(self)):
            stage = getattr(getattr(type(self), name, None), "_pz_stage", None)
            if isinstance(stage, FSMStage):
                found.append(
                    FSMStage(
                        stage.id,
                        stage.acting_agents,
                        stage.rewarded_agents,
                        stage.next_stages,
                        getattr(self, name),
                    )
                )
        for stage in stages or []:
            if not isinstance(stage, FSMStage):
                raise StageError(f"stages must be ph.FSMStage instances, got {stage!r}")
            found.append(stage)
        if not found:
            raise StageError(
                f"{type(self).__name__} has no stages: decorate handler methods with "
                "@ph.FSMStage(...) or pass stages=[ph.FSMStage(...), ...]"
            )
        by_id: dict[StageID, FSMStage] = {}
        for stage in found:
            if stage.id in by_id:
                raise StageError(f"duplicate stage id {stage.id!r}: stage ids must be unique")
            by_id[stage.id] = stage
        return by_id

    def _validate_stages(self, initial_stage: StageID) -> None:
        ids = list(self._stages)
        try:
            known = initial_stage in self._stages
        except TypeError:
            known = False
        if not known:
            raise StageError(f"initial stage {initial_stage!r} is not a stage; stages are {ids}")
        strategic = set(self.possible_agents)
        for stage in self._stages.values():
            for role, members in (
                ("acting", stage.acting_agents),
                ("rewarded", stage.rewarded_agents),
            ):
                for agent_id in members:
                    if agent_id not in self.network:
                        raise StageError(
                            f"stage {stage.id!r}: {role} agent {agent_id!r} is not in the network"
                        )
                    if agent_id not in strategic:
                        raise StageError(
                            f"stage {stage.id!r}: {role} agent {agent_id!r} "
                            f"({type(self.network[agent_id]).__name__}) is not a StrategicAgent; "
                            "only strategic agents act and are rewarded"
                        )
            for next_id in stage.next_stages:
                if next_id not in self._stages:
                    raise StageError(
                        f"stage {stage.id!r} names unknown next stage {next_id!r}; stages are {ids}"
                    )
            if stage.handler is None and len(stage.next_stages) != 1:
                raise StageError(
                    f"stage {stage.id!r} has no handler, so it needs exactly one next stage "
                    f"(got {stage.next_stages}); add a handler to choose between them"
                )
        check_someone_acts(self._stages, initial_stage)

    @property
    def stages(self) -> dict[StageID, FSMStage]:
        """The stages by id."""
        return dict(self._stages)

    def view(self) -> FSMEnvView:
        """The environment view, including the current stage."""
        return FSMEnvView(self.current_step, self.current_step / self.num_steps, self.current_stage)

    # ------------------------------------------------ acting-agents protocol
    @property
    def acting_agents(self) -> list[AgentID]:
        """The live agents that act in the current stage, in turn order."""
        return list(self._acting()[0])

    def _acting(self) -> tuple[list[AgentID], set[AgentID]]:
        """The current stage's live acting agents as a list and a set (cached)."""
        cached = self._acting_cache.get(self.current_stage)
        if cached is None:
            live = self._live_set
            acting = [i for i in self._stages[self.current_stage].acting_agents if i in live]
            cached = self._acting_cache[self.current_stage] = (acting, set(acting))
        return cached

    def _set_live(self, live: list[AgentID]) -> None:
        self._live = live
        self._live_set = set(live)
        self._acting_cache = {}

    def acting_reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Start an episode; observations and infos of the agents that act first."""
        self.current_stage = self.initial_stage
        self._begin_episode(seed)
        self._set_live(list(self.possible_agents))
        self._carry_rewards = {}
        while not self._acting()[0] and self._live:  # stages played by the env alone
            self._play_stage([], {}, self._carry_rewards, {})
        acting = self.acting_agents
        return self._observe_many(acting), {i: {} for i in acting}

    def acting_step(
        self, actions: Mapping[AgentID, Any]
    ) -> tuple[
        dict[AgentID, Any],
        dict[AgentID, float],
        dict[AgentID, bool],
        dict[AgentID, bool],
        dict[AgentID, dict[str, Any]],
    ]:
        """Play the current stage with one action per acting agent (see module docs)."""
        if not self._live:
            self._raise_episode_over()
        acting, acting_set = self._acting()
        if actions.keys() != acting_set:
            self._raise_bad_actions(actions, acting, "the agents acting now", self._live)
        rewards, self._carry_rewards = self._carry_rewards, {}
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
        infos = self._collect_infos(keys)
        return observations, rewards, terminations, truncations, infos

    def _play_stage(
        self,
        acting: list[AgentID],
        actions: Mapping[AgentID, Any],
        rewards: dict[AgentID, float],
        finished: dict[AgentID, tuple[bool, bool]],
    ) -> None:
        stage = self._stages[self.current_stage]
        self.previous_stage = stage.id
        self._resolve_step(acting, actions)
        next_stage = self._next_stage(stage)
        agents = self.network._agents
        contexts = self._contexts
        live = self._live_set
        rewarded = [i for i in stage.rewarded_agents if i in live]
        if rewarded:  # most stages of many models reward nobody: skip the call
            for agent_id, reward in self.compute_rewards(rewarded).items():
                rewards[agent_id] = rewards.get(agent_id, 0.0) + reward
        if self.current_step >= self.num_steps:
            for agent_id in self._live:
                agent, ctx = agents[agent_id], contexts[agent_id]
                finished[agent_id] = (bool(agent.is_terminated(ctx)), True)
        else:
            for agent_id, is_terminated, is_truncated, ctx in self._enders:
                if agent_id in live:
                    terminated = is_terminated is not None and bool(is_terminated(ctx))
                    truncated = is_truncated is not None and bool(is_truncated(ctx))
                    if terminated or truncated:
                        finished[agent_id] = (terminated, truncated)
        if finished:
            self._set_live([i for i in self._live if i not in finished])
        self.current_stage = next_stage
        self.env_view = self.view()
        self._view_epoch += 1

    def _next_stage(self, stage: FSMStage) -> StageID:
        if stage.handler is None:
            return stage.next_stages[0]
        handler = stage.handler
        if inspect.ismethod(handler):
            next_stage = handler()
        else:
            next_stage = handler(self)
        if next_stage not in stage.next_stages:
            raise StageError(
                f"the handler of stage {stage.id!r} returned {next_stage!r}, which is not one "
                f"of its next stages {stage.next_stages}; return one of them or add it to "
                "next_stages"
            )
        return next_stage

    # ------------------------------------------------------------ AEC surface
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new episode (PettingZoo AEC: returns nothing; use ``last()``)."""
        self.acting_reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self._observations = self._observe_many(self.agents)
        self.rewards = {i: 0.0 for i in self.agents}
        self._cumulative_rewards = {i: 0.0 for i in self.agents}
        self.terminations = {i: False for i in self.agents}
        self.truncations = {i: False for i in self.agents}
        self.infos = {i: {} for i in self.agents}
        self._turn_actions = {}
        self._turns = self.acting_agents
        self._skip_agent_selection = None
        self.agent_selection = self._turns[0] if self._turns else self.agents[0]

    def observe(self, agent: AgentID) -> Any:
        """The latest observation of ``agent``."""
        try:
            return self._observations[agent]
        except (KeyError, TypeError):
            self._require_reset("observe()")
            raise ActionError(f"observe({agent!r}): {self._not_strategic(agent)}") from None

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Observation, reward, termination, truncation and info of ``agent_selection``."""
        if not self.agents:  # before the first reset, or after the episode ended
            self._require_reset("last()")
            raise EpisodeOverError(
                "last() called after the episode ended (every agent terminated or truncated "
                "and was stepped out); call env.reset() to start a new episode"
            )
        agent = self.agent_selection
        return (
            self._observations[agent] if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def _require_reset(self, what: str) -> None:
        if not self._ever_reset:
            raise NotResetError(f"{what} called before reset(); call env.reset(seed=...) first")

    def step(self, action: Any) -> None:
        """Act for ``agent_selection``; the stage resolves after its last acting agent."""
        if not self.agents:  # before the first reset, or after the episode ended
            self._raise_episode_over()
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        if not self._live:
            self._raise_episode_over()
        self._cumulative_rewards[agent] = 0.0
        if not self._turn_actions:  # the stage's first turn: last stage's rewards are spent
            self._clear_rewards()
        self._turn_actions[agent] = action
        position = len(self._turn_actions)
        if position < len(self._turns):
            self.agent_selection = self._turns[position]
            return
        actions, self._turn_actions = self._turn_actions, {}
        observations, rewards, terminations, truncations, infos = self.acting_step(actions)
        self._observations.update(observations)
        self.rewards = {i: 0.0 for i in self.agents}
        self.rewards.update(rewards)
        self.terminations.update(terminations)
        self.truncations.update(truncations)
        self.infos.update(infos)
        self._accumulate_rewards()
        self._turns = self.acting_agents
        if self._turns:
            self.agent_selection = self._turns[0]
        self._deads_step_first()


class StackelbergEnv(FiniteStateMachineEnv):
    """Leaders and followers take alternate turns, leaders first.

    Stage ``"leaders"``: the leaders act and, once it resolves, the followers are
    rewarded (for their previous move, whose outcome the leaders' move completes).
    Stage ``"followers"``: the followers act and then the leaders are rewarded.

    Args:
        num_steps: Stages played per episode (a leader and a follower stage make two).
        network: The agents and their connections.
        leader_agents: Ids of the leaders.
        follower_agents: Ids of the followers.
        env_supertype: Optional supertype of the environment.
        agent_supertypes: Optional ``{agent_id: Supertype}``.
        **options: ``type_augmented_observations`` / ``check_observations``.
    """

    LEADERS = "leaders"
    FOLLOWERS = "followers"

    def __init__(
        self,
        num_steps: int,
        network: Network,
        leader_agents: Sequence[AgentID],
        follower_agents: Sequence[AgentID],
        env_supertype: Supertype | None = None,
        agent_supertypes: Mapping[AgentID, Supertype] | None = None,
        **options: Any,
    ) -> None:
        leader_agents = _id_list(self.LEADERS, "leader_agents", leader_agents)
        follower_agents = _id_list(self.FOLLOWERS, "follower_agents", follower_agents)
        if not leader_agents or not follower_agents:
            raise StageError(
                "StackelbergEnv needs at least one leader and one follower, got "
                f"leader_agents={leader_agents}, follower_agents={follower_agents}"
            )
        overlap = set(leader_agents) & set(follower_agents)
        if overlap:
            raise StageError(f"agents {sorted(map(str, overlap))} are both leaders and followers")
        for agent_id in [*leader_agents, *follower_agents]:
            if agent_id in network and not isinstance(network[agent_id], StrategicAgent):
                raise StageError(
                    f"Stackelberg agent {agent_id!r} is not a StrategicAgent; leaders and "
                    "followers must act"
                )
        stages = [
            FSMStage(self.LEADERS, leader_agents, follower_agents, [self.FOLLOWERS]),
            FSMStage(self.FOLLOWERS, follower_agents, leader_agents, [self.LEADERS]),
        ]
        super().__init__(
            num_steps,
            network,
            initial_stage=self.LEADERS,
            env_supertype=env_supertype,
            agent_supertypes=agent_supertypes,
            stages=stages,
            **options,
        )
