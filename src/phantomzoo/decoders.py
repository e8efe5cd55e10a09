"""Action decoders: objects that turn a policy's action into messages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gymnasium as gym

    from .context import Context
    from .message import MsgPayload


class Decoder(ABC):
    """Decodes actions; pass one as ``StrategicAgent(action_decoder=...)``."""

    @property
    @abstractmethod
    def action_space(self) -> gym.Space[Any]:
        """The space actions are drawn from."""

    @abstractmethod
    def decode(self, ctx: Context, action: Any) -> Sequence[tuple[Hashable, MsgPayload]] | None:
        """Messages to send for ``action``."""


class LambdaDecoder(Decoder):
    """A decoder from a space and a function ``fn(ctx, action) -> messages``."""

    def __init__(
        self,
        action_space: gym.Space[Any],
        fn: Callable[[Context, Any], Sequence[tuple[Hashable, MsgPayload]] | None],
    ):
        self._space = action_space
        self.fn = fn

    @property
    def action_space(self) -> gym.Space[Any]:
        return self._space

    def decode(self, ctx: Context, action: Any) -> Sequence[tuple[Hashable, MsgPayload]] | None:
        return self.fn(ctx, action)
