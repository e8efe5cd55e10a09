"""Acting, shared by every backend: action mapping, fixed policies, episode seeds.

* :class:`ActionCodec`: a learnt policy's action space as a trainer sees it and the map
  back to the env's (normalised Box, shifted Discrete), the same map ``MLPPolicy``
  applies when it plays.
* :class:`FixedActors`: the mapping's fixed (hand-written) policies; the acting agents
  of a step are grouped by policy, in the mapping's order, and each policy acts on its
  whole batch with one ``compute_actions`` call.
* :func:`seed_stream` / :func:`episode_seed`: episodes are reset with seeds drawn from a
  generator seeded by the user's seed (and a stream id per env copy), never from global
  state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np

from phantomzoo.errors import ConfigError
from phantomzoo.training.mapping import PolicyMapping
from phantomzoo.training.masked import accepts_action_masks
from phantomzoo.types import AgentID, PolicyID

K = TypeVar("K")


class ActionCodec:
    """A trainer's view of one policy's action space, and the map back to the env's.

    Finite ``Box`` spaces are shown as ``Box(-1, 1)`` and mapped affinely onto
    ``[low, high]`` after clipping to ``[-1, 1]`` (``MLPPolicy``
    ``action_scaling="normalized"``); unbounded ones are shown as they are and clipped to
    the bounds (``"clip"``). ``Discrete(n, start)`` is shown as ``Discrete(n)`` and
    shifted back by ``start``.

    Args:
        space: The env's action space of the policy.
        where: Names the backend (and policy) in the error for other spaces.
        dtype: The float type the Box mapping computes in (cleanrl keeps its float32
            arithmetic, sb3 its float64); the result has the space's dtype.

    Raises:
        ConfigError: for a space other than Box or Discrete.
    """

    def __init__(self, space: gym.Space[Any], where: str = "sb3", dtype: Any = np.float64):
        self.space = space
        self.box = isinstance(space, gym.spaces.Box)
        if self.box:
            self.dtype = np.dtype(dtype)
            self.low = space.low.astype(self.dtype).reshape(-1)
            self.high = space.high.astype(self.dtype).reshape(-1)
            if np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high)):
                self.scaling = "normalized"
                self.trainer_space: gym.Space[Any] = gym.spaces.Box(
                    -1.0, 1.0, space.shape, np.float32
                )
            else:
                self.scaling = "clip"
                self.trainer_space = gym.spaces.Box(space.low, space.high, space.shape, np.float32)
        elif isinstance(space, gym.spaces.Discrete):
            self.scaling = "clip"
            self.trainer_space = gym.spaces.Discrete(int(space.n))
        else:
            raise ConfigError(
                f"{where}: policies act in Box or Discrete spaces, got {space}; only Box and "
                "Discrete actions are supported"
            )

    @property
    def sb3_space(self) -> gym.Space[Any]:
        """The space shown to Stable-Baselines3 (the trainer's space)."""
        return self.trainer_space

    def to_env(self, actions: Any) -> list[Any]:
        """A batch of trainer actions (one row each) as env actions."""
        space = self.space
        if not self.box:
            start = int(space.start)
            return [int(a) + start for a in np.asarray(actions).reshape(-1)]
        count = len(actions)
        out = np.asarray(actions, dtype=self.dtype).reshape(count, -1)
        if self.scaling == "normalized":
            out = self.low + (np.clip(out, -1.0, 1.0) + 1.0) * 0.5 * (self.high - self.low)
        else:
            out = np.clip(out, self.low, self.high)
        return list(out.astype(space.dtype).reshape(count, *space.shape))


class FixedActors:
    """The fixed policies of a mapping, acting in batches (see the module docs)."""

    def __init__(self, mapping: PolicyMapping) -> None:
        self.order = list(mapping.policies)
        self.policy_of = dict(mapping.agent_to_policy)
        self.policies = {p: spec.build_fixed() for p, spec in mapping.fixed.items()}

    def group(
        self, entries: Iterable[tuple[K, AgentID]]
    ) -> dict[PolicyID, list[tuple[K, AgentID]]]:
        """``(key, agent)`` pairs grouped by the agent's policy, in the mapping's order
        (learnt and fixed policies alike; policies with no entry left out)."""
        groups: dict[PolicyID, list[tuple[K, AgentID]]] = {p: [] for p in self.order}
        for key, agent_id in entries:
            groups[self.policy_of[agent_id]].append((key, agent_id))
        return {p: g for p, g in groups.items() if g}

    def act(
        self,
        policy_id: PolicyID,
        observations: Sequence[Any],
        masks: Sequence[Any] | None = None,
    ) -> list[Any]:
        """The actions of fixed policy ``policy_id`` for a batch of observations; ``masks``
        (one action mask or None per observation) reach a policy whose
        ``compute_actions`` takes ``action_masks``."""
        policy = self.policies[policy_id]
        if masks is not None and any(m is not None for m in masks):
            if accepts_action_masks(policy.compute_actions):
                return list(policy.compute_actions(list(observations), action_masks=list(masks)))
        return list(policy.compute_actions(list(observations)))

    def rng_states(self) -> dict[PolicyID, Any]:
        """The state of each fixed policy's action-space generator (None: it has none)."""
        states = {}
        for policy_id, policy in self.policies.items():
            rng = getattr(getattr(policy, "action_space", None), "_np_random", None)
            states[policy_id] = None if rng is None else rng.bit_generator.state
        return states

    def restore_rng_states(self, states: Mapping[PolicyID, Any]) -> None:
        """Undo :meth:`rng_states` (unknown policies and None states are skipped)."""
        from ._torch_state import set_generator_state  # lazy: keeps this module torch-free

        for policy_id, state in states.items():
            if state is not None and policy_id in self.policies:
                set_generator_state(self.policies[policy_id].action_space.np_random, state)


def seed_stream(seed: int, *stream: int) -> np.random.Generator:
    """The generator an env copy draws its episode seeds from (``stream``: e.g. its index)."""
    return np.random.default_rng([seed, *stream] if stream else seed)


def episode_seed(seeds: np.random.Generator, high: int = 2**31) -> int:
    """The next episode's seed from a :func:`seed_stream` generator."""
    return int(seeds.integers(high))
