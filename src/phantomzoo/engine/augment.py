"""A strategic agent's spaces as the engine serves them: checked, the observation space
widened by the agent's flattened type when observations are type-augmented, and a Dict
observation space given an ``"action_mask"`` entry when the agent is masked
(:mod:`phantomzoo.engine.masks`)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ..agents import StrategicAgent
from ..errors import AgentDefinitionError, SupertypeError
from .masks import mask_space


def agent_spaces(
    agent: StrategicAgent, augment: bool, mask_size: int | None = None
) -> tuple[gym.Space[Any], gym.Space[Any]]:
    """``(observation space, action space)`` of ``agent``; refuses non-spaces.

    ``augment``: append the agent's type; ``mask_size``: the length of its action mask
    (``None``: not masked)."""
    obs_space, act_space = agent.observation_space, agent.action_space
    for name, space in (("observation_space", obs_space), ("action_space", act_space)):
        if not isinstance(space, gym.Space):
            raise AgentDefinitionError(
                f"strategic agent {agent.id!r} ({type(agent).__name__}) has {name} = "
                f"{space!r}; set self.{name} to a gymnasium space in __init__ (or pass "
                "an encoder/decoder that provides it)"
            )
    if augment:
        obs_space = augment_space(agent, obs_space)
    if mask_size is not None:
        obs_space = mask_space(agent, mask_size, obs_space)
    return obs_space, act_space


def augment_space(agent: StrategicAgent, space: gym.Space[Any]) -> gym.Space[Any]:
    """``space`` widened by the agent's flattened type (1-D Box extended, Dict + "type")."""
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
