"""Type toy: the best action is the agent's own sampled type.

=================  ==========================================================
Agents             ``GUESSER1..n`` (strategic; ``guesser_0..`` with
                   ``agent_ids="pettingzoo"``), no other agents, no connections
Type               ``GuessType(target)``, ``target ~ Uniform(-1, 1)`` per agent per
                   episode (independent draws)
Observation        ``Box(0, 0, (1,))`` (uninformative) + the type (appended by
                   type-augmented observations): ``[0, target]``
Action             ``Box(-1, 1, (1,))``
Reward             ``-(action - target)^2`` every step
Stages             none; ``num_steps`` steps (default 4)
=================  ==========================================================

A policy blind to types can do no better than a mean squared error equal to the
variance of the type distribution (1/3); a policy that reads its type can reach zero.
Used to check that every training backend feeds types to shared policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.samplers import Sampler, UniformFloatSampler
from phantomzoo.validate import check_int, check_number

from .._ids import PHANTOM, check_agent_ids, learner_ids
from .._pz import episode_length, one_number
from .._supertypes import field_overrides, widen

#: Largest accepted ``num_agents`` and ``num_steps``.
MAX_AGENTS = 100_000
MAX_STEPS = 10**9

TYPE_VARIANCE = 1.0 / 3.0  # variance of Uniform(-1, 1): the best a type-blind policy does


@dataclass
class GuessType(ph.Supertype):
    """The number an agent should output."""

    target: float


class Guesser(ph.StrategicAgent):
    """Rewarded for acting out its own type."""

    def __init__(self, agent_id: str, supertype: GuessType) -> None:
        super().__init__(agent_id, supertype=supertype)
        self.observation_space = gym.spaces.Box(0.0, 0.0, (1,))
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,))
        self.last_action = 0.0

    def reset(self) -> None:
        self.last_action = 0.0

    def decode_action(self, ctx: ph.Context, action: Any) -> None:
        self.last_action = float(np.clip(one_number(self.id, action), -1.0, 1.0))
        return None

    def encode_observation(self, ctx: ph.Context) -> np.ndarray:
        return np.zeros(1, dtype=np.float32)

    def compute_reward(self, ctx: ph.Context) -> float:
        return -((self.last_action - self.type.target) ** 2)

    def render_state(self) -> str:
        """The guesser's line in ``env.render()``: its last guess against its type."""
        target = self.type.target if self.type is not None else float("nan")
        return f"guess {self.last_action:.3g}  target {target:.3g}"


class TypeToyEnv(ph.PhantomEnv):
    """``num_agents`` guessers sharing nothing but a policy.

    Args:
        num_agents: Number of guessers (an int in 1..100,000).
        num_steps: Steps per episode (an int in 1..10**9).
        checks: Runtime checks, ``"first"`` (default), ``"full"`` or ``"off"``.
        max_cycles: PettingZoo's name for ``num_steps`` (giving both, different, is
            refused).
        render_mode: ``None``, ``"ansi"`` or ``"human"``: each guess against its type.
        agent_ids: ``"phantom"`` (``GUESSER1..n``, default) or ``"pettingzoo"``
            (``guesser_0..guesser_{n-1}``, PettingZoo's ``name_N`` convention).
        agent_supertypes: Optional overrides, Phantom's way: ``{agent_id: GuessType(...)}``
            or ``{agent_id: {"target": value or sampler}}`` (fields left out keep the
            default ``UniformFloatSampler(-1, 1)``).
    """

    metadata: dict[str, Any] = {**ph.PhantomEnv.metadata, "name": "type_toy_v0"}

    def __init__(
        self,
        num_agents: int = 4,
        num_steps: int = 4,
        checks: str | None = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
        agent_ids: str = PHANTOM,
        agent_supertypes: Any = None,
    ) -> None:
        num_steps = episode_length("type_toy", "num_steps", num_steps, 4, max_cycles, MAX_STEPS)
        num_agents = check_int("type_toy", "num_agents", num_agents, 1, MAX_AGENTS)
        num_steps = check_int("type_toy", "num_steps", num_steps, 1, MAX_STEPS)
        ids = learner_ids(check_agent_ids("type_toy", agent_ids), "guesser", num_agents)
        targets = guess_targets(agent_supertypes, ids)
        sampler = UniformFloatSampler(-1.0, 1.0)
        agents = [Guesser(i, GuessType(targets.get(i, sampler))) for i in ids]
        super().__init__(
            num_steps=num_steps,
            network=ph.Network(agents),
            checks=checks,
            render_mode=render_mode,
        )


def guess_targets(agent_supertypes: Any, ids: list[str]) -> dict[str, Sampler]:
    """Each guesser's target sampler when ``agent_supertypes`` is given (else none): its
    own value (a number in [-1, 1], a ``(low, high)`` range or a sampler) from it, else
    ``UniformFloatSampler(-1, 1)``; one common range for all, so they share a policy."""
    if agent_supertypes is None:
        return {}
    own = field_overrides("type_toy", agent_supertypes, ids, GuessType, "target", _target, None)
    default = UniformFloatSampler(-1.0, 1.0)
    return widen({i: own.get(i) or default for i in ids})


def _target(value: Any, name: str) -> Sampler:
    if value is None:
        return UniformFloatSampler(-1.0, 1.0)
    if isinstance(value, Sampler):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        low = check_number("type_toy", f"{name} low", value[0], low=-1.0, high=1.0)
        high = check_number("type_toy", f"{name} high", value[1], low=low, high=1.0)
        return UniformFloatSampler(low, high)
    number = check_number("type_toy", name, value, low=-1.0, high=1.0)
    return UniformFloatSampler(number, number)


def type_mse(env: TypeToyEnv, act: Any, num_episodes: int = 50, seed: int = 0) -> float:
    """Mean squared error between actions and types under ``act(observations)``."""
    errors = []
    for episode in range(num_episodes):
        observations, _ = env.reset(seed=seed + episode)
        actions = act(observations)
        for agent_id, action in actions.items():
            target = env.network[agent_id].type.target
            errors.append((float(np.asarray(action).reshape(-1)[0]) - target) ** 2)
    return float(np.mean(errors))


raw_env = TypeToyEnv


def parallel_env(**kwargs: Any) -> TypeToyEnv:
    """The type toy as a PettingZoo ``ParallelEnv``."""
    return TypeToyEnv(**kwargs)


def env(**kwargs: Any) -> Any:
    """The type toy as a PettingZoo ``AECEnv`` (guessers act one after another)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(TypeToyEnv(**kwargs))
