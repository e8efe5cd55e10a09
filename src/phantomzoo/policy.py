"""Hand-written policies: map an observation to an action without learning."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class Policy:
    """Base class for fixed (non-learning) policies.

    Subclass it and implement :meth:`compute_action`; override
    :meth:`compute_actions` too if the policy can act on a batch faster.

    Args:
        observation_space: The space of the observations the policy receives.
        action_space: The space of the actions it must return.
        **config: Policy-specific options, stored as ``self.config``.
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.config = config

    def compute_action(self, observation: Any) -> Any:
        """The action for one observation."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_action(observation)"
        )

    def compute_actions(self, observations: list[Any]) -> list[Any]:
        """Actions for a batch of observations (default: one call per observation)."""
        return [self.compute_action(o) for o in observations]


class RandomPolicy(Policy):
    """Samples uniformly from the action space, with a seeded generator.

    Args:
        seed: Seed of the policy's own generator (``config["seed"]``, default 0).
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        self.action_space.seed(int(config.get("seed", 0)))

    def compute_action(self, observation: Any) -> Any:
        return self.action_space.sample()


def batch_uniform_box_actions(
    rng: np.random.Generator, space: gym.spaces.Box, count: int
) -> np.ndarray:
    """``count`` uniform draws from a bounded Box in one call (rows are actions)."""
    return rng.uniform(space.low, space.high, size=(count, *space.shape)).astype(space.dtype)
