"""Observation encoders: objects that build a strategic agent's observation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gymnasium as gym

    from .context import Context


class Encoder(ABC):
    """Builds observations; pass one as ``StrategicAgent(observation_encoder=...)``."""

    @property
    @abstractmethod
    def observation_space(self) -> gym.Space[Any]:
        """The space every observation lies in."""

    @abstractmethod
    def encode(self, ctx: Context) -> Any:
        """The observation for the agent owning ``ctx``."""


class LambdaEncoder(Encoder):
    """An encoder from a space and a function ``fn(ctx) -> observation``."""

    def __init__(self, observation_space: gym.Space[Any], fn: Callable[[Context], Any]):
        self._space = observation_space
        self.fn = fn

    @property
    def observation_space(self) -> gym.Space[Any]:
        return self._space

    def encode(self, ctx: Context) -> Any:
        return self.fn(ctx)
