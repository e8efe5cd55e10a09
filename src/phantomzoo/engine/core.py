"""The engine: one object that runs a model's episodes, independent of PettingZoo.

:class:`Engine` owns everything about running a model: the network and the agents'
contexts, the episode clock and its seeded generator, supertype sampling, observation
and action spaces (with type augmentation), stage play and who acts when, rewards and
who ended how. Its public API is small:

* ``reset(seed) -> (observations, infos)`` of the agents that act first;
* ``acting_agents``: the live agents that must act in the next ``step``;
* ``step(actions) -> StepOutcome(observations, rewards, terminations, truncations,
  infos)`` with one action per acting agent;
* ``masked_agents`` / ``action_mask(agent)`` / ``full_mask(agent)``: action masks
  (:mod:`~phantomzoo.engine.masks`; in infos and Dict observations of who acts next).

A model without stages plays one implicit stage in which every live strategic agent
acts and is rewarded (:class:`~phantomzoo.PhantomEnv`); a staged model
(:class:`~phantomzoo.FiniteStateMachineEnv`) plays its FSM stages, delivering rewards
earned while an agent waits with that agent's next outcome
(:mod:`~phantomzoo.engine.stageplay`). Both PettingZoo environments are thin adapters
over an engine (``env.engine``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents import StrategicAgent
from ..errors import ActionError, ConfigError, NetworkError, SupertypeError
from ..network import Network
from ..stages import FSMStage
from ..supertype import Supertype
from ..types import AgentID, StageID
from ..views import EnvView
from .augment import agent_spaces
from .batched import BatchedPlay
from .checks import RuntimeChecks, check_level, check_seed
from .clock import EpisodeClock
from .masks import ActionMasks
from .observation import Observation
from .outcome import StepOutcome
from .outcome import outcome as _outcome
from .stageplay import StagePlay
from .supertypes import apply_supertypes
from .wiring import Wiring

#: The id of the one stage of a model without stages.
PARALLEL_STAGE = "__all__"


class Engine(BatchedPlay, RuntimeChecks, Observation, ActionMasks, StagePlay):
    """Runs a network of agents (see the module docs).

    Args:
        network: The agents and their connections.
        num_steps: Steps (stages played) per episode before every agent is truncated.
        env_supertype: Optional supertype sampled into :attr:`env_type` every reset: an
            instance, or a mapping of its fields built into the host's ``Supertype``
            class (:mod:`~phantomzoo.engine.supertypes`).
        agent_supertypes: Optional ``{agent_id: Supertype or mapping of fields}``,
            overriding agents' own.
        type_augmented_observations: Append each typed strategic agent's sampled type.
        checks / check_observations: Runtime check level
            (:class:`~phantomzoo.engine.checks.RuntimeChecks`).
        stages: ``{stage id: FSMStage}`` of a staged model; ``None`` for one implicit
            stage in which every live strategic agent acts and is rewarded.
        initial_stage: The stage each episode starts in (staged models).
        host: The object stage handlers given as plain functions are called with (the
            PettingZoo env); defaults to the engine.
        view: Called (no arguments) for the env view after every change of state; the
            default publishes the step and the fraction of the episode elapsed.
    """

    #: The env's ``ph.Telemetry`` (:mod:`phantomzoo.telemetry`) or ``None`` (off).
    telemetry: Any = None

    def __init__(
        self,
        network: Network,
        num_steps: int,
        *,
        env_supertype: Supertype | Mapping[str, Any] | None = None,
        agent_supertypes: Mapping[AgentID, Supertype | Mapping[str, Any]] | None = None,
        type_augmented_observations: bool = True,
        checks: str | None = None,
        check_observations: bool | None = None,
        stages: Mapping[StageID, FSMStage] | None = None,
        initial_stage: StageID | None = None,
        host: Any = None,
        view: Any = None,
        batched: bool = False,
    ) -> None:
        integer = isinstance(num_steps, (int, np.integer)) and not isinstance(num_steps, bool)
        if not integer or num_steps < 1:
            raise ConfigError(f"num_steps must be an int >= 1, got {num_steps!r}")
        if not isinstance(network, Network):
            raise NetworkError(f"network must be a ph.Network, got {network!r}")
        network.check_usable()
        self.network = network
        self._agents = network.by_id  # a live read-only mapping, made once
        self.num_steps = int(num_steps)
        self.host = self if host is None else host
        self._view = view if view is not None else self.default_view
        self.clock = EpisodeClock()
        self.env_type: Supertype | None = None
        self.type_augmented_observations = bool(type_augmented_observations)
        self.checks = check_level(check_observations, checks)
        self.env_supertype, self.agent_supertypes = apply_supertypes(
            network, env_supertype, agent_supertypes, self.host
        )
        self.possible_agents: list[AgentID] = [
            i for i, a in network.by_id.items() if isinstance(a, StrategicAgent)
        ]
        self._observation_spaces: dict[AgentID, gym.Space[Any]] = {}
        self._action_spaces: dict[AgentID, gym.Space[Any]] = {}
        self._augmented: set[AgentID] = set()
        self._init_masks(network[i] for i in self.possible_agents)
        for agent_id in self.possible_agents:
            self._build_spaces(network[agent_id])
        self.staged = stages is not None
        everyone = self.possible_agents
        self.stages: dict[StageID, FSMStage] = (
            dict(stages) if stages is not None else {PARALLEL_STAGE: _parallel_stage(everyone)}
        )
        self.initial_stage = initial_stage if self.staged else PARALLEL_STAGE
        self.current_stage: StageID | None = self.initial_stage if self.staged else None
        self.previous_stage: StageID | None = None
        self.current_step = 0
        self._stage = self.initial_stage
        self._wiring: Wiring | None = None
        self._type_vectors: dict[AgentID, np.ndarray] = {}
        self._live: list[AgentID] = []
        self._live_set: set[AgentID] = set()
        self._acting_cache: dict[StageID, tuple[list[AgentID], set[AgentID]]] = {}
        self._carry: dict[AgentID, float] = {}
        self.endings: dict[AgentID, tuple[bool, bool]] = {}
        self._ever_reset = False
        self.batched = batched

    def __getstate__(self) -> dict[str, Any]:  # copies and pickles: the agents view is rebuilt
        state = self.__dict__.copy()
        del state["_agents"]
        state["telemetry"] = None  # a log belongs to one env: copies start without one
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._agents = self.network.by_id

    # ------------------------------------------------------------------ spaces
    def _build_spaces(self, agent: StrategicAgent) -> None:
        augment = self.type_augmented_observations and agent.supertype is not None
        layout = self._mask_layouts.get(agent.id)
        obs_space, act_space = agent_spaces(agent, augment, layout and layout.total)
        if augment:
            self._augmented.add(agent.id)
        self._observation_spaces[agent.id] = obs_space
        self._action_spaces[agent.id] = act_space

    def observation_space(self, agent: AgentID) -> gym.Space[Any]:
        """The observation space of strategic agent ``agent`` (same object every call)."""
        try:
            return self._observation_spaces[agent]
        except (KeyError, TypeError):  # TypeError: an unhashable id
            raise ActionError(self._not_strategic(agent)) from None

    def action_space(self, agent: AgentID) -> gym.Space[Any]:
        """The action space of strategic agent ``agent`` (same object every call)."""
        try:
            return self._action_spaces[agent]
        except (KeyError, TypeError):
            raise ActionError(self._not_strategic(agent)) from None

    # ------------------------------------------------------------------ state
    @property
    def np_random(self) -> np.random.Generator | None:
        """The episode's generator (seeded by ``reset(seed=...)``)."""
        return self.clock.rng

    @property
    def env_view(self) -> EnvView:
        """The environment's view for the current step."""
        return self.clock.env_view

    @property
    def live_agents(self) -> list[AgentID]:
        """Strategic agents that have not terminated or been truncated this episode."""
        return self._live

    @property
    def episode_over(self) -> bool:
        """True before the first reset and once every agent has ended."""
        return not self._live

    @property
    def contexts(self) -> Mapping[AgentID, Any]:
        """Every agent's :class:`~phantomzoo.Context` (after the first reset)."""
        return self._wiring.contexts if self._wiring is not None else {}

    @property
    def ever_reset(self) -> bool:
        """Whether :meth:`reset` has been called at least once."""
        return self._ever_reset

    def require_live(self) -> None:
        """Raise NotResetError before the first reset, EpisodeOverError once every agent
        has ended (the errors an env's step raises then)."""
        if not self._live:
            self._raise_episode_over()

    def describe_agent(self, agent_id: AgentID) -> str:
        """Why ``agent_id`` is not a strategic agent of this model, in words."""
        return self._not_strategic(agent_id)

    def observe_many(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, Any]:
        """Observations of several agents now (each agent's first of the episode checked)."""
        return self._observe_many(agent_ids)

    def context(self, agent_id: AgentID) -> Any:
        """The context of ``agent_id`` (raises ActionError before the first reset)."""
        try:
            return self.contexts[agent_id]
        except (KeyError, TypeError):
            raise ActionError(f"no context for {agent_id!r}: call reset() first") from None

    def set_agent_type(self, agent_id: AgentID, new_type: Supertype) -> None:
        """Replace ``agent_id``'s sampled type mid-episode (counterfactual branches), and
        the type appended to its observations when they are type-augmented.

        Raises:
            SupertypeError: the new type cannot be flattened into the same numbers.
        """
        agent = self.network[agent_id]
        old = self._type_vectors.get(agent_id)
        if old is not None:
            try:
                new = np.asarray(new_type.to_array(), dtype=old.dtype)
            except (TypeError, ValueError) as exc:
                raise SupertypeError(
                    f"the new type of {agent_id!r} cannot be read as numbers ({exc})"
                ) from None
            if new.shape != old.shape:
                raise SupertypeError(
                    f"the new type of {agent_id!r} changes the size of the type appended to "
                    f"its observations ({old.shape} -> {new.shape})"
                )
            self._type_vectors[agent_id] = new
        agent.type = new_type

    def default_view(self) -> EnvView:
        """The env view published when the host does not override ``view()``."""
        return EnvView(self.current_step, self.current_step / self.num_steps)

    def view(self) -> EnvView:
        return self.default_view()

    def _tick(self) -> None:
        clock = self.clock
        clock.env_view = self._view()
        clock.epoch += 1

    # ------------------------------------------------------------------ reset
    def reset(self, seed: int | None = None) -> tuple[dict[AgentID, Any], dict[AgentID, dict]]:
        """Start an episode; observations and infos of the agents that act first."""
        check_seed(seed)
        clock, network = self.clock, self.network
        if seed is not None:
            clock.rng = np.random.Generator(np.random.PCG64(seed))
        elif clock.rng is None:
            clock.rng = np.random.Generator(np.random.PCG64())
        rng = clock.rng
        self._stage = self.initial_stage
        self.current_stage = self._stage if self.staged else None
        self.previous_stage = None
        shared: dict[int, Any] = {}
        if self.env_supertype is not None:
            self.env_type = self.env_supertype.sample(rng, shared)
        self._type_vectors = {}
        for agent in network.by_id.values():
            if agent.supertype is not None:
                agent.type = agent.supertype.sample(rng, shared)
                if agent.id in self._augmented:
                    self._type_vectors[agent.id] = agent.type.to_array()
        network.reset(rng)  # new connections (stochastic networks), every agent reset
        if self._wiring is None or self._wiring.version != network.version:
            self._wiring = Wiring(network, self._observation_spaces, clock)
        self._prepare_batched()
        self.current_step = 0
        self._tick()
        self._ever_reset = True
        self._reset_checks()
        self._set_live(list(self.possible_agents))
        self._carry = {}
        self.endings = {}  # {agent: (terminated, truncated)} of the agents ended so far
        if self.telemetry is not None:
            self.telemetry.begin_episode(self, seed)
        while self._live and not self._acting()[0]:  # stages the env plays alone
            self._play_stage([], {}, self._carry, {})
        acting = self.acting_agents
        result = self._observe_many(acting), self._reset_infos(acting)
        if self.telemetry is not None:
            self.telemetry.after_reset(self, *result)
        return result

    # ------------------------------------------------------------------ acting
    @property
    def acting_agents(self) -> list[AgentID]:
        """The live agents that act in the next :meth:`step`, in turn order."""
        return list(self._acting()[0])

    def _acting(self) -> tuple[list[AgentID], set[AgentID]]:
        cached = self._acting_cache.get(self._stage)
        if cached is None:
            live = self._live_set
            acting = [i for i in self.stages[self._stage].acting_agents if i in live]
            cached = self._acting_cache[self._stage] = (acting, set(acting))
        return cached

    def _set_live(self, live: list[AgentID]) -> None:
        self._live, self._live_set, self._acting_cache = live, set(live), {}

    # ------------------------------------------------------------------ step
    def step(self, actions: Mapping[AgentID, Any]) -> StepOutcome:
        """Play one step with one action per agent of :attr:`acting_agents`.

        ``observations`` holds the agents that act next plus every agent that has just
        ended (its final observation); ``rewards`` every agent rewarded since the last
        step; ``terminations``, ``truncations`` and ``infos`` cover both.
        """
        result = self._step_staged(actions) if self.staged else self._step_parallel(actions)
        if self.telemetry is not None:
            self.telemetry.after_step(self, actions, result)
        return result

    def _step_parallel(self, actions: Mapping[AgentID, Any]) -> StepOutcome:
        """The implicit stage: every live agent acts, is observed, rewarded, maybe ends."""
        acting = self._live
        if not acting:
            self._raise_episode_over()
        try:
            matches = actions.keys() == self._live_set
        except AttributeError:  # not a mapping
            matches = False
        if not matches:
            self._raise_bad_actions(actions, acting, "the live agents", acting)
        self._resolve(acting, actions)
        observations = self._observe_many(acting)
        rewards = self.compute_rewards(acting)
        can_end = self._wiring.enders or self.current_step >= self.num_steps  # type: ignore[union-attr]
        finished = self._ended(self._live_set) if can_end else {}
        terminations = dict.fromkeys(acting, False)
        truncations = dict.fromkeys(acting, False)
        for agent_id, (terminated, truncated) in finished.items():
            terminations[agent_id], truncations[agent_id] = terminated, truncated
        infos = self._infos(acting, None, finished)
        if finished:
            self.endings.update(finished)
            self._set_live([i for i in acting if i not in finished])
        return _outcome((observations, rewards, terminations, truncations, infos))

    def _ended(self, live: set[AgentID]) -> dict[AgentID, tuple[bool, bool]]:
        """``{agent: (terminated, truncated)}`` of the live agents that end now: every one
        at the time limit, else those whose ``is_terminated`` / ``is_truncated`` fires."""
        ended = {}
        if self.current_step >= self.num_steps:
            for agent_id in self._live:
                ended[agent_id] = (False, True)
        for agent_id, is_terminated, is_truncated, ctx in self._wiring.enders:  # type: ignore[union-attr]
            if agent_id in live:
                terminated = is_terminated is not None and bool(is_terminated(ctx))
                truncated = is_truncated is not None and bool(is_truncated(ctx))
                if terminated or truncated:
                    ended[agent_id] = (terminated, truncated or agent_id in ended)
        return ended

    # ------------------------------------------------------------------ resolution
    def _resolve(self, acting: Iterable[AgentID], actions: Mapping[AgentID, Any]) -> None:
        """Advance the clock and run one resolution with ``acting`` agents' actions.

        Python's cyclic garbage collector is paused meanwhile: a resolution allocates
        many short-lived acyclic objects (payloads, messages, reply lists) that reference
        counting frees, and collections triggered by them would rescan every agent of a
        large model (about 2x slower at 1000 shops). It is restored before returning.
        """
        if self._unchecked_actions or self._full_checks:
            self.check_actions(acting, actions)
        if self._mask_checks:
            self._check_legal(acting, actions)
        wiring = self._wiring
        gc_was_enabled = gc.isenabled()
        if gc_was_enabled:
            gc.disable()
        try:
            self.current_step += 1
            clock = self.clock
            clock.env_view = self._view()
            clock.epoch += 1
            if self._grouping is not None:
                self._resolve_batched(acting, actions)  # type: ignore[arg-type]
                return
            for hook, ctx in wiring.pre_calls:  # type: ignore[union-attr]
                hook(ctx)
            network = self.network
            send = network.queue
            decoders = wiring.decoders  # type: ignore[union-attr]
            pending: dict[AgentID, list[Any]] = {}
            for agent_id in acting:
                decode, ctx = decoders[agent_id]
                replies = decode(ctx, actions[agent_id])
                if replies:
                    send(agent_id, replies, pending)
            for agent_id, generate, ctx in wiring.generators:  # type: ignore[union-attr]
                replies = generate(ctx)
                if replies:
                    send(agent_id, replies, pending)
            network.resolve(pending, wiring.contexts, self.clock.rng)  # type: ignore[union-attr]
            for hook, ctx in wiring.post_calls:  # type: ignore[union-attr]
                hook(ctx)
        finally:
            if gc_was_enabled:
                gc.enable()


def _parallel_stage(agent_ids: list[AgentID]) -> FSMStage:
    return FSMStage(PARALLEL_STAGE, agent_ids, agent_ids, [PARALLEL_STAGE])
