"""Observations: encode, append the sampled type, cast, check; part of the engine.

:class:`Observation` is the engine's observation path (a base of
:class:`~phantomzoo.engine.core.Engine`, which owns the state it reads): a fast path for
plain float arrays of the space's dtype, the general path for everything else (cast to
the space's dtype; a single number, such as a plain ``1.0``, for a ``Box`` of one value
is reshaped to the space's shape, as Phantom's models return it), and the
runtime checks of each agent's first observation per episode.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from ..types import AgentID
from .spaces import space_mismatch


def _size(space: gym.spaces.Box) -> int:
    return int(np.prod(space.shape))


class Observation:
    """The engine's observation path (see the module docs)."""

    network: Any
    _agents: Mapping[AgentID, Any]
    _wiring: Any
    _observation_spaces: dict[AgentID, gym.Space[Any]]
    _type_vectors: dict[AgentID, np.ndarray]
    _unchecked_obs: set[AgentID]
    _full_checks: bool
    _masked: frozenset[AgentID]

    @property
    def _contexts(self) -> Mapping[AgentID, Any]:  # read by the runtime checks too
        return self._wiring.contexts if self._wiring is not None else {}

    def observe(self, agent_id: AgentID) -> Any:
        """``agent_id``'s observation of the current state (type appended if augmented)."""
        agent = self.network[agent_id]
        ctx = self.context(agent_id)  # type: ignore[attr-defined]
        return self._finish_observation(agent_id, agent.encode_observation(ctx))

    def _finish_observation(self, agent_id: AgentID, obs: Any, check: bool = False) -> Any:
        """Append the agent's type if augmented, cast to the space's dtype, check if asked
        (``check``, or every observation with ``checks="full"``)."""
        space = self._observation_spaces[agent_id]
        if obs is None:
            self._raise_bad_observation(agent_id, obs, "encode_observation returned None")
        try:
            type_vector = self._type_vectors.get(agent_id)
            if isinstance(obs, dict):
                if type_vector is not None:
                    obs = {**obs, "type": type_vector}
                if agent_id in self._masked:  # Dict observations carry the mask
                    obs = self._with_mask(agent_id, obs)  # type: ignore[attr-defined]
            elif type_vector is not None:
                obs = np.concatenate((np.asarray(obs, dtype=space.dtype).ravel(), type_vector))
            if isinstance(space, gym.spaces.Box):
                if getattr(obs, "dtype", None) != space.dtype:
                    obs = np.asarray(obs, dtype=space.dtype)
                if obs.ndim == 0 and _size(space) == 1:
                    obs = obs.reshape(space.shape)  # a plain 1.0 for a Box of shape (1,)
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

    def _observe_many(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, Any]:
        """Observations of several agents, with a fast path for plain float arrays."""
        if self._unchecked_obs or self._full_checks:
            return self._observe_checked(agent_ids)
        agents = self._agents
        contexts = self._wiring.contexts  # type: ignore[union-attr]
        spaces = self._observation_spaces
        type_vectors = self._type_vectors
        concatenate = np.concatenate
        observations = {}
        for agent_id in agent_ids:
            obs = agents[agent_id].encode_observation(contexts[agent_id])
            dtype = spaces[agent_id].dtype
            if obs.__class__ is np.ndarray and obs.dtype == dtype and obs.ndim:
                type_vector = type_vectors.get(agent_id)
                if type_vector is None:
                    observations[agent_id] = obs
                    continue
                if obs.ndim == 1 and type_vector.dtype == dtype:
                    observations[agent_id] = concatenate((obs, type_vector))
                    continue
            observations[agent_id] = self._finish_observation(agent_id, obs)
        return observations

    def _infos(
        self,
        agent_ids: Iterable[AgentID],
        acting: Iterable[AgentID] | None = None,
        ended: Collection[AgentID] = (),
    ) -> dict[AgentID, dict[str, Any]]:
        """``collect_infos`` of each agent (an empty dict for agents that do not define it),
        plus the action mask of the masked agents that act next: those of ``acting``, or
        (``acting=None``) those of ``agent_ids`` not in ``ended``."""
        with_infos = self._wiring.info_ids  # type: ignore[union-attr]
        agents = self._agents
        contexts = self._wiring.contexts  # type: ignore[union-attr]
        infos = {
            i: agents[i].collect_infos(contexts[i]) if i in with_infos else {} for i in agent_ids
        }
        if self._masked:
            if acting is None:
                acting = [i for i in agent_ids if i not in ended]
            self._add_masks(infos, acting)  # type: ignore[attr-defined]
        return infos
