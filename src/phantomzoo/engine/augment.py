"""Type-augmented observation spaces: an agent's space widened by its flattened type."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ..agents import StrategicAgent
from ..errors import SupertypeError


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
