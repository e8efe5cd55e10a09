"""Reward functions: objects that compute a strategic agent's reward."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context


class RewardFunction(ABC):
    """Computes rewards; pass one as ``StrategicAgent(reward_function=...)``."""

    @abstractmethod
    def reward(self, ctx: Context) -> float:
        """The reward of the agent owning ``ctx`` for the step just taken."""


class LambdaRewardFunction(RewardFunction):
    """A reward function from ``fn(ctx) -> float``."""

    def __init__(self, fn: Callable[[Context], float]) -> None:
        self.fn = fn

    def reward(self, ctx: Context) -> float:
        return float(self.fn(ctx))


class ConstantReward(RewardFunction):
    """Always the same reward (useful in tests and as a placeholder during modelling)."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = float(value)

    def reward(self, ctx: Context) -> float:
        return self.value
