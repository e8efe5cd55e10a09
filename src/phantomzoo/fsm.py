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

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pettingzoo import AECEnv

from .adapter import RENDER_MODES, VIEW_MEMO_LIMIT, EngineAdapter
from .agents import StrategicAgent
from .errors import ActionError, EpisodeOverError, NotResetError, StageError
from .network import Network, set_payload_checks
from .stages import FSMEnvView, FSMStage, _id_list, check_someone_acts
from .supertype import Supertype
from .telemetry_defaults import TelemetryHost
from .turns import AECTurns, AgentTurns
from .types import AgentID, StageID

__all__ = [
    "FSMEnvView",
    "FSMRuntimeError",
    "FSMStage",
    "FSMValidationError",
    "FiniteStateMachineEnv",
    "StackelbergEnv",
]

#: Phantom's names for a bad stage graph (raised when the env is built) and for a handler
#: choosing a stage it may not go to (raised while playing): both are StageError here.
FSMValidationError = StageError
FSMRuntimeError = StageError


class FiniteStateMachineEnv(TelemetryHost, EngineAdapter, AECTurns, AECEnv):
    """A staged model as a PettingZoo ``AECEnv``.

    Within a stage, its live acting agents take turns (``agent_selection``); the stage
    resolves after the last one. Each stage played counts as one step of ``num_steps``.
    Rewards earned while an agent is not acting accumulate and reach it with its next
    turn, or with its final ``last()`` when the episode ends. Consumers that need a
    ``ParallelEnv`` take :class:`~phantomzoo.StagedParallelEnv` (``env``) instead:
    PettingZoo's ``aec_to_parallel`` is refused (``is_parallelizable`` is False) because
    it would replay one turn per live agent per cycle.

    Args:
        num_steps: Stages played per episode before every agent is truncated.
        network: The agents and their connections.
        initial_stage: Id of the stage each episode starts in.
        env_supertype: Optional supertype sampled into ``self.env_type`` every reset (an
            instance or a mapping of its fields, see :class:`~phantomzoo.PhantomEnv`).
        agent_supertypes: Optional ``{agent_id: supertype or mapping of its fields}``.
        stages: Stages given as a list (in addition to decorated methods).
        type_augmented_observations / enforce_msg_payload_checks / batched: See
            :class:`~phantomzoo.PhantomEnv`.
        check_observations / checks: See :class:`~phantomzoo.PhantomEnv` (``checks``:
            ``"off"``, ``"first"`` (default) or ``"full"``).
        render_mode: ``None`` (default), ``"ansi"`` or ``"human"``; the text view
            shows the stage played next (see :mod:`phantomzoo.adapter`).
    """

    metadata: dict[str, Any] = {
        "name": "phantomzoo_fsm",
        "render_modes": list(RENDER_MODES),
        "is_parallelizable": False,
    }

    def __init__(
        self,
        num_steps: int,
        network: Network,
        initial_stage: StageID,
        env_supertype: Supertype | Mapping[str, Any] | None = None,
        agent_supertypes: Mapping[AgentID, Supertype | Mapping[str, Any]] | None = None,
        stages: Iterable[FSMStage] | None = None,
        *,
        type_augmented_observations: bool = True,
        check_observations: bool | None = None,
        checks: str | None = None,
        render_mode: str | None = None,
        enforce_msg_payload_checks: bool | None = None,
        batched: bool = False,
    ) -> None:
        if isinstance(network, Network):
            network.check_usable()
        set_payload_checks(network, enforce_msg_payload_checks)
        self._stage_views: dict[tuple[int, StageID], FSMEnvView] = {}  # see view()
        self._build_engine(
            network,
            num_steps,
            render_mode=render_mode,
            env_supertype=env_supertype,
            agent_supertypes=agent_supertypes,
            type_augmented_observations=type_augmented_observations,
            check_observations=check_observations,
            checks=checks,
            batched=batched,
            stages=self._collect_stages(stages),
            initial_stage=initial_stage,
        )
        self._validate_stages(initial_stage)
        self._init_telemetry()  # off unless ph.telemetry.logger set a default
        self.agents: list[AgentID] = []  # filled by reset()
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
        stages = self.engine.stages
        ids = list(stages)
        try:
            known = initial_stage in stages
        except TypeError:
            known = False
        if not known:
            raise StageError(f"initial stage {initial_stage!r} is not a stage; stages are {ids}")
        strategic = set(self.possible_agents)
        for stage in stages.values():
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
                if next_id not in stages:
                    raise StageError(
                        f"stage {stage.id!r} names unknown next stage {next_id!r}; stages are {ids}"
                    )
            if stage.handler is None and len(stage.next_stages) != 1:
                raise StageError(
                    f"stage {stage.id!r} has no handler, so it needs exactly one next stage "
                    f"(got {stage.next_stages}); add a handler to choose between them"
                )
        check_someone_acts(stages, initial_stage)

    @property
    def stages(self) -> dict[StageID, FSMStage]:
        """The stages by id."""
        return dict(self.engine.stages)

    def is_fsm_deterministic(self) -> bool:
        """Whether every stage has exactly one next stage, so the order in which stages
        are played is fixed whatever the agents do (Phantom's check of the same name)."""
        return all(len(stage.next_stages) == 1 for stage in self.engine.stages.values())

    @property
    def initial_stage(self) -> StageID:
        return self.engine.initial_stage

    @property
    def previous_stage(self) -> StageID | None:
        """The stage played last."""
        return self.engine.previous_stage

    def view(self) -> FSMEnvView:
        """The environment view, including the current stage.

        Views are immutable, so one object serves every episode at the same step and
        stage (built once: the engine asks for a view twice per stage played).
        """
        engine = self.engine
        key = (engine.current_step, engine.current_stage)
        views = self._stage_views
        view = views.get(key)
        if view is None:
            step = key[0]
            view = FSMEnvView(step, step / engine.num_steps, key[1])
            if len(views) < VIEW_MEMO_LIMIT:
                views[key] = view
        return view

    # ------------------------------------------------------------ AEC surface
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new episode (PettingZoo AEC: returns nothing; use ``last()``)."""
        first_observations, first_infos = self.acting_reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        waiting = [i for i in self.agents if i not in first_observations]
        self._observations = {**first_observations, **self.engine.observe_many(waiting)}
        self.rewards = {i: 0.0 for i in self.agents}
        self._cumulative_rewards = {i: 0.0 for i in self.agents}
        self.terminations = {i: False for i in self.agents}
        self.truncations = {i: False for i in self.agents}
        self.infos = {i: {} for i in self.agents}
        self.infos.update(first_infos)  # e.g. the first actors' action masks
        self._turn_actions = {}
        self._turns = self.acting_agents
        self._skip_agent_selection = None
        self._reset_turns()
        self.agent_selection = self._turns[0] if self._turns else self.agents[0]

    def agent_iter(self, max_iter: int = 2**63) -> AgentTurns:
        """Yields ``agent_selection`` until every agent has been stepped out (or
        ``max_iter`` turns), as PettingZoo's ``agent_iter``."""
        return AgentTurns(self, max_iter)

    def observe(self, agent: AgentID) -> Any:
        """The latest observation of ``agent``."""
        try:
            return self._observations[agent]
        except (KeyError, TypeError):
            self._require_reset("observe()")
            raise ActionError(f"observe({agent!r}): {self.engine.describe_agent(agent)}") from None

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
        if not self.engine.ever_reset:
            raise NotResetError(f"{what} called before reset(); call env.reset(seed=...) first")

    def step(self, action: Any) -> None:
        """Act for ``agent_selection``; the stage resolves after its last acting agent."""
        if not self.agents:  # before the first reset, or after the episode ended
            self.engine.require_live()
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        turn_actions = self._turn_actions
        if not turn_actions:  # the stage's first turn: last stage's rewards are spent
            self.engine.require_live()  # (the engine changes only when a stage resolves)
            self._clear_rewards()
        self._cumulative_rewards[agent] = 0.0
        turn_actions[agent] = action
        position = len(turn_actions)
        if position < len(self._turns):
            self.agent_selection = self._turns[position]
            return
        actions, self._turn_actions = turn_actions, {}
        observations, rewards, terminations, truncations, infos = self.acting_step(actions)
        self._observations.update(observations)
        self.terminations.update(terminations)
        self.truncations.update(truncations)
        self.infos.update(infos)
        self._record_stage(rewards, terminations, truncations)  # cost: this stage's agents
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
        agent_supertypes: Optional ``{agent_id: supertype or mapping of its fields}``.
        **options: Keyword options of :class:`FiniteStateMachineEnv`
            (``type_augmented_observations``, ``checks``, ``enforce_msg_payload_checks``, ...).
    """

    LEADERS = "leaders"
    FOLLOWERS = "followers"

    def __init__(
        self,
        num_steps: int,
        network: Network,
        leader_agents: Sequence[AgentID],
        follower_agents: Sequence[AgentID],
        env_supertype: Supertype | Mapping[str, Any] | None = None,
        agent_supertypes: Mapping[AgentID, Supertype | Mapping[str, Any]] | None = None,
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
