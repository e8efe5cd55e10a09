"""A parallel env whose agents share one observation and one action space, for SuperSuit.

SuperSuit's ``pettingzoo_env_to_vec_env_v1`` needs one observation and one action space
for every agent and no agent leaving before the others. :class:`SharedSpaces` gives a
PettingZoo ``ParallelEnv`` of ``Box`` spaces exactly that:

* **one observation space**: the smallest ``Box`` spanning every agent's own (the ads
  families' spaces differ in the bounds of the appended budget type); values unchanged;
* **actions in [-1, 1]**, mapped linearly onto each agent's own ``Box`` (PPO's Gaussian
  starts around 0 with unit spread: orders of 0..100 units would otherwise explore
  nothing);
* **black death done right**: an ended agent keeps its slot with zero observations and
  zero reward until every agent has ended, then the episode ends for all. SuperSuit's
  own ``black_death_v3`` combines terminations and truncations with ``&`` where ``|`` is
  meant, so an episode under it never ends.

Used by ``parallel_view_sb3.py`` (benchmarks/ is on ``sys.path`` when a script runs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv

from phantomzoo.errors import ConfigError

__all__ = ["SharedSpaces", "spanning_box"]


class SharedSpaces(ParallelEnv):
    """A parallel env whose agents share one observation and one action space.

    Args:
        env: A PettingZoo ``ParallelEnv`` with ``Box`` observation and action spaces of
            one shape each (a staged model's parallel view here).

    Raises:
        ConfigError: when the agents' spaces are not ``Box`` spaces of one shape.
    """

    def __init__(self, env: ParallelEnv) -> None:
        self.env = env
        self.metadata = {**env.metadata, "is_parallelizable": True}
        self.render_mode = getattr(env, "render_mode", None)
        self.possible_agents = list(env.possible_agents)
        self.agents: list[str] = []
        self._obs_space = spanning_box([env.observation_space(a) for a in self.possible_agents])
        native = spanning_box([env.action_space(a) for a in self.possible_agents])
        self._act_space = gym.spaces.Box(-1.0, 1.0, native.shape, np.float32)
        self._zeros = np.zeros(self._obs_space.shape, np.float32)
        self._live: set[str] = set()

    def observation_space(self, agent: str) -> gym.spaces.Box:
        """The shared observation space (spans every agent's own; same object every call)."""
        return self._obs_space

    def action_space(self, agent: str) -> gym.spaces.Box:
        """The shared action space, ``Box(-1, 1)`` (same object every call)."""
        return self._act_space

    def native_action(self, agent: str, action: Any) -> np.ndarray:
        """``action`` in [-1, 1] mapped linearly onto ``agent``'s own action ``Box``."""
        space = self.env.action_space(agent)
        unit = np.clip(np.asarray(action, np.float32).reshape(space.shape), -1.0, 1.0)
        return (space.low + (unit + 1.0) * 0.5 * (space.high - space.low)).astype(np.float32)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Start an episode; every possible agent gets a slot."""
        observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self._live = set(self.env.agents)
        return self._fill(observations), {a: infos.get(a, {}) for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Step the live agents; ended agents get zeros until every agent has ended."""
        inner = {a: self.native_action(a, actions[a]) for a in self.env.agents if a in actions}
        before = self._live
        observations, rewards, terminations, truncations, infos = self.env.step(inner)
        self._live = set(self.env.agents)
        over = not self._live
        # Agents live before this step report the view's own flags; those ended earlier
        # (zeros since) are terminated with everyone else when the episode is over.
        terminated = {
            a: bool(terminations[a]) if a in before else over for a in self.possible_agents
        }
        truncated = {a: a in before and bool(truncations[a]) for a in self.possible_agents}
        result = (
            self._fill(observations, before),
            {a: float(rewards.get(a, 0.0)) for a in self.possible_agents},
            terminated,
            truncated,
            {a: infos.get(a, {}) for a in self.possible_agents},
        )
        if over:
            self.agents = []
        return result

    def _fill(self, observations: Mapping[str, Any], present: set[str] | None = None) -> dict:
        """The observations of the ``present`` agents (default: the live), zeros for others."""
        present = self._live if present is None else present
        return {
            a: np.asarray(observations[a], np.float32) if a in present else self._zeros
            for a in self.possible_agents
        }

    def close(self) -> None:
        self.env.close()


def spanning_box(spaces: Sequence[gym.Space[Any]]) -> gym.spaces.Box:
    """The smallest ``Box`` holding every one of ``spaces`` (all ``Box`` of one shape)."""
    shapes = {getattr(s, "shape", None) for s in spaces}
    if not all(isinstance(s, gym.spaces.Box) for s in spaces) or len(shapes) != 1:
        raise ConfigError(
            f"SharedSpaces needs Box spaces of one shape for every agent, got {list(spaces)}; "
            "pad them first (supersuit.pad_observations_v0 / pad_action_space_v0)"
        )
    low = np.min([s.low for s in spaces], axis=0).astype(np.float32)
    high = np.max([s.high for s in spaces], axis=0).astype(np.float32)
    return gym.spaces.Box(low, high, dtype=np.float32)
