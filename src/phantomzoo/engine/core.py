"""The model engine shared by the parallel and the staged (AEC) environments.

:class:`ModelEngine` owns everything about running a model that does not depend on the
PettingZoo surface: the network and its contexts, the episode's seeded generator,
supertype sampling, observation/action spaces (with type augmentation) and one
*resolution* — pre-message hooks, the acting agents' actions and every agent's
generated messages, message delivery, post-message hooks.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents import Agent, StrategicAgent
from ..context import Context
from ..errors import ActionError, AgentDefinitionError, NetworkError, SupertypeError
from ..network import Network
from ..supertype import Supertype
from ..types import AgentID
from ..views import EnvView
from .checks import RuntimeChecks, check_level, check_seed
from .spaces import space_mismatch


class ModelEngine(RuntimeChecks):
    """Runs a network of agents; mixed into :class:`~phantomzoo.PhantomEnv` and friends.

    Runtime checks of observations, rewards and actions come from
    :class:`~phantomzoo.engine.checks.RuntimeChecks` (``checks="off"|"first"|"full"``).
    """

    def _init_engine(
        self,
        num_steps: int,
        network: Network,
        env_supertype: Supertype | None,
        agent_supertypes: Mapping[AgentID, Supertype] | None,
        type_augmented_observations: bool,
        check_observations: bool | None = None,
        checks: str | None = None,
    ) -> None:
        if (
            not isinstance(num_steps, (int, np.integer))
            or isinstance(num_steps, bool)
            or num_steps < 1
        ):
            raise ActionError(f"num_steps must be an int >= 1, got {num_steps!r}")
        if not isinstance(network, Network):
            raise NetworkError(f"network must be a ph.Network, got {network!r}")
        self.num_steps = int(num_steps)
        self.network = network
        self.env_supertype = env_supertype
        self.env_type: Supertype | None = None
        self.type_augmented_observations = type_augmented_observations
        self.checks = check_level(check_observations, checks)
        for agent_id, supertype in (agent_supertypes or {}).items():
            network[agent_id].supertype = supertype
        self.agent_supertypes = dict(agent_supertypes or {})
        for supertype in [env_supertype, *(a.supertype for a in network._agents.values())]:
            if supertype is not None and not isinstance(supertype, Supertype):
                raise SupertypeError(
                    f"supertypes must be ph.Supertype instances, got {supertype!r}"
                )

        self.possible_agents: list[AgentID] = [
            i for i, a in network._agents.items() if isinstance(a, StrategicAgent)
        ]
        if not self.possible_agents:
            raise NetworkError(
                f"the network has no strategic agents (agents: {list(network._agents)[:10]}); "
                "an environment needs at least one ph.StrategicAgent to observe and act: "
                "add one to the network"
            )
        self.agents: list[AgentID] = []
        self._observation_spaces: dict[AgentID, gym.Space[Any]] = {}
        self._action_spaces: dict[AgentID, gym.Space[Any]] = {}
        self._augmented: set[AgentID] = set()
        for agent_id in self.possible_agents:
            self._build_spaces(network._agents[agent_id])

        self.np_random: np.random.Generator | None = None  # type: ignore[assignment]
        self.current_step = 0
        self.env_view: EnvView = EnvView(0, 0.0)
        self._view_epoch = 0
        self._contexts: dict[AgentID, Context] = {}
        self._contexts_version = -1
        self._type_vectors: dict[AgentID, np.ndarray] = {}
        self._ever_reset = False

    # ------------------------------------------------------------------ spaces
    def _build_spaces(self, agent: StrategicAgent) -> None:
        obs_space, act_space = agent.observation_space, agent.action_space
        for name, space in (("observation_space", obs_space), ("action_space", act_space)):
            if not isinstance(space, gym.Space):
                raise AgentDefinitionError(
                    f"strategic agent {agent.id!r} ({type(agent).__name__}) has {name} = "
                    f"{space!r}; set self.{name} to a gymnasium space in __init__ (or pass "
                    "an encoder/decoder that provides it)"
                )
        if self.type_augmented_observations and agent.supertype is not None:
            obs_space = _augment_space(agent, obs_space)
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
        except (KeyError, TypeError):  # TypeError: an unhashable id
            raise ActionError(self._not_strategic(agent)) from None

    # ------------------------------------------------------------------- reset
    def _begin_episode(self, seed: int | None) -> None:
        """Seed, sample types, reset the network and agents, rewind the clock."""
        check_seed(seed)
        if seed is not None:
            self.np_random = np.random.Generator(np.random.PCG64(seed))
        elif self.np_random is None:
            self.np_random = np.random.Generator(np.random.PCG64())
        rng = self.np_random
        network = self.network
        shared: dict[int, Any] = {}
        if self.env_supertype is not None:
            self.env_type = self.env_supertype.sample(rng, shared)
        self._type_vectors = {}
        for agent in network._agents.values():
            if agent.supertype is not None:
                agent.type = agent.supertype.sample(rng, shared)
                if agent.id in self._augmented:
                    self._type_vectors[agent.id] = agent.type.to_array()
        network.reset(rng)
        if network._version != self._contexts_version:
            self._build_contexts()
        for agent in network._agents.values():
            agent.reset()
        self.current_step = 0
        self.env_view = self.view()
        self._view_epoch += 1
        self._ever_reset = True
        self._reset_checks()

    def _build_contexts(self) -> None:
        network = self.network
        agents = network._agents
        self._contexts = {
            agent_id: Context(agent, network._adj[agent_id], agents, self)
            for agent_id, agent in agents.items()
        }
        self._contexts_version = network._version
        contexts = self._contexts

        def overrides(agent: Agent, name: str) -> bool:
            return getattr(type(agent), name) is not getattr(Agent, name)

        pairs = list(agents.items())
        self._pre_calls = [
            (a.pre_message_resolution, contexts[i])
            for i, a in pairs
            if overrides(a, "pre_message_resolution")
        ]
        self._post_calls = [
            (a.post_message_resolution, contexts[i])
            for i, a in pairs
            if overrides(a, "post_message_resolution")
        ]
        self._decoders = {
            i: (a.decode_action, contexts[i]) for i, a in pairs if i in self._observation_spaces
        }
        self._generators = [
            (i, a.generate_messages, contexts[i])
            for i, a in pairs
            if overrides(a, "generate_messages")
        ]
        # Strategic agents that can end before the time limit (the others never do).
        # Entries hold None for a hook the agent does not override (it never fires).
        self._enders = [
            (
                i,
                a.is_terminated
                if type(a).is_terminated is not StrategicAgent.is_terminated
                else None,
                a.is_truncated if type(a).is_truncated is not StrategicAgent.is_truncated else None,
                contexts[i],
            )
            for i, a in pairs
            if i in self._observation_spaces
            and (
                type(a).is_terminated is not StrategicAgent.is_terminated
                or type(a).is_truncated is not StrategicAgent.is_truncated
            )
        ]
        self._info_ids = {
            i
            for i, a in pairs
            if i in self._observation_spaces
            and type(a).collect_infos is not StrategicAgent.collect_infos
        }

    def view(self) -> EnvView:
        """The environment's view for the current step; override to publish more."""
        return EnvView(self.current_step, self.current_step / self.num_steps)

    # --------------------------------------------------------------- resolution
    def _resolve_step(self, acting: Iterable[AgentID], actions: Mapping[AgentID, Any]) -> None:
        """Advance the clock and run one resolution with ``acting`` agents' actions.

        Python's cyclic garbage collector is paused meanwhile: a resolution allocates
        many short-lived acyclic objects (payloads, messages, reply lists) that reference
        counting frees, and collections triggered by them would rescan every agent of a
        large model (about 2x slower at 1000 shops). It is restored before returning.
        """
        if self._unchecked_actions or self._full_checks:
            self.check_actions(acting, actions)
        gc_was_enabled = gc.isenabled()
        if gc_was_enabled:
            gc.disable()
        try:
            self.current_step += 1
            self.env_view = self.view()
            self._view_epoch += 1
            for hook, ctx in self._pre_calls:
                hook(ctx)
            network = self.network
            send = network.send
            decoders = self._decoders
            pending: dict[AgentID, list[Any]] = {}
            for agent_id in acting:
                decode, ctx = decoders[agent_id]
                replies = decode(ctx, actions[agent_id])
                if replies:
                    send(agent_id, replies, pending)
            for agent_id, generate, ctx in self._generators:
                replies = generate(ctx)
                if replies:
                    send(agent_id, replies, pending)
            network.resolve(pending, self._contexts, self.np_random)
            for hook, ctx in self._post_calls:
                hook(ctx)
        finally:
            if gc_was_enabled:
                gc.enable()

    # ------------------------------------------------------------- observation
    def _observe(self, agent_id: AgentID) -> Any:
        agent = self.network._agents[agent_id]
        return self._finish_observation(
            agent_id, agent.encode_observation(self._contexts[agent_id])
        )

    def _finish_observation(self, agent_id: AgentID, obs: Any, check: bool = False) -> Any:
        """Append the agent's type if augmented, cast to the space's dtype, check if asked.

        ``check`` (or ``checks="full"``) checks the result against the space: its
        structure, plus its bounds when the checks are full.
        """
        space = self._observation_spaces[agent_id]
        if obs is None:
            self._raise_bad_observation(agent_id, obs, "encode_observation returned None")
        try:
            type_vector = self._type_vectors.get(agent_id)
            if type_vector is not None:
                if isinstance(obs, dict):
                    obs = {**obs, "type": type_vector}
                else:
                    obs = np.concatenate((np.asarray(obs, dtype=space.dtype).ravel(), type_vector))
            if isinstance(space, gym.spaces.Box) and getattr(obs, "dtype", None) != space.dtype:
                obs = np.asarray(obs, dtype=space.dtype)
        except (TypeError, ValueError) as exc:
            self._raise_bad_observation(
                agent_id, obs, f"cannot be read as {space.dtype} numbers ({exc})"
            )
        full = self._full_checks
        if check or full:
            problem = space_mismatch(space, obs, bounds=full)
            if problem is not None:
                self._raise_bad_observation(agent_id, obs, problem)
        return obs

    def _collect_infos(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, dict[str, Any]]:
        """``collect_infos`` of each agent (an empty dict for agents that do not define it)."""
        with_infos = self._info_ids
        agents = self.network._agents
        contexts = self._contexts
        return {
            i: agents[i].collect_infos(contexts[i]) if i in with_infos else {} for i in agent_ids
        }

    def _observe_many(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, Any]:
        """Observations of several agents, with a fast path for plain float arrays."""
        if self._unchecked_obs or self._full_checks:
            return self._observe_checked(agent_ids)
        agents = self.network._agents
        contexts = self._contexts
        spaces = self._observation_spaces
        type_vectors = self._type_vectors
        concatenate = np.concatenate
        observations = {}
        for agent_id in agent_ids:
            obs = agents[agent_id].encode_observation(contexts[agent_id])
            dtype = spaces[agent_id].dtype
            if obs.__class__ is np.ndarray and obs.dtype == dtype:
                type_vector = type_vectors.get(agent_id)
                if type_vector is None:
                    observations[agent_id] = obs
                    continue
                if obs.ndim == 1 and type_vector.dtype == dtype:
                    observations[agent_id] = concatenate((obs, type_vector))
                    continue
            observations[agent_id] = self._finish_observation(agent_id, obs)
        return observations

    def state(self) -> np.ndarray:
        raise NotImplementedError("phantomzoo environments do not define a global state")

    def render(self) -> None:
        """Nothing to render; models expose their state through metrics and rollouts."""
        return None

    def close(self) -> None:
        """Release resources (none are held)."""


def _augment_space(agent: StrategicAgent, space: gym.Space[Any]) -> gym.Space[Any]:
    low, high = agent.supertype.bounds()  # type: ignore[union-attr]
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
        return gym.spaces.Box(
            low=np.concatenate([space.low, low]).astype(space.dtype),
            high=np.concatenate([space.high, high]).astype(space.dtype),
            dtype=space.dtype,
        )
    if isinstance(space, gym.spaces.Dict):
        if "type" in space.spaces:
            raise SupertypeError(
                f"agent {agent.id!r}: its Dict observation space already has a 'type' key; "
                "rename it or build the env with type_augmented_observations=False"
            )
        return gym.spaces.Dict(
            {**space.spaces, "type": gym.spaces.Box(low, high, dtype=np.float32)}
        )
    raise SupertypeError(
        f"agent {agent.id!r} has a supertype but its observation space {space} is neither a "
        "1-D Box nor a Dict, so its type cannot be appended; use one of those or build the "
        "env with type_augmented_observations=False"
    )
