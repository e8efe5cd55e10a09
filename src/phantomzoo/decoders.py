"""Action decoders: objects that turn a policy's action into messages.

Pass one as ``StrategicAgent(action_decoder=...)``; the agent's ``action_space`` is
the decoder's. Decoders compose, as in Phantom:

* :class:`ChainedDecoder` ``([d1, d2])`` (or ``d1.chain(d2)``) acts in
  ``Tuple((d1.space, d2.space))``: action ``(a1, a2)`` sends ``d1``'s messages for
  ``a1`` followed by ``d2``'s for ``a2``;
* :class:`DictDecoder` ``({"a": d1, "b": d2})`` acts in ``Dict(...)``: action
  ``{"a": a1, "b": a2}`` sends the messages of every part, in the mapping's order.

:meth:`Decoder.reset` is a hook for decoders that keep state; composed decoders pass
it on to every part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from .encoders import _check_space, _flatten, _named
from .errors import ActionError, AgentDefinitionError

if TYPE_CHECKING:
    from .context import Context
    from .message import MsgPayload

Messages = list[tuple[Hashable, "MsgPayload"]]


class Decoder(ABC):
    """Decodes actions; pass one as ``StrategicAgent(action_decoder=...)``."""

    @property
    @abstractmethod
    def action_space(self) -> gym.Space[Any]:
        """The space actions are drawn from."""

    @abstractmethod
    def decode(self, ctx: Context, action: Any) -> Sequence[tuple[Hashable, MsgPayload]] | None:
        """Messages to send for ``action``."""

    def chain(self, others: Decoder | Iterable[Decoder]) -> ChainedDecoder:
        """This decoder followed by ``others`` (one decoder or several) as a ChainedDecoder."""
        return ChainedDecoder([self, others])

    def reset(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Forget any per-episode state (default: nothing to forget)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.action_space!r})"


class LambdaDecoder(Decoder):
    """A decoder from a space and a function ``fn(ctx, action) -> messages``."""

    def __init__(
        self,
        action_space: gym.Space[Any],
        fn: Callable[[Context, Any], Sequence[tuple[Hashable, MsgPayload]] | None],
    ):
        _check_space("LambdaDecoder", "action_space", action_space)
        if not callable(fn):
            raise AgentDefinitionError(f"LambdaDecoder: fn must be callable, got {fn!r}")
        self._space = action_space
        self.fn = fn

    @property
    def action_space(self) -> gym.Space[Any]:
        return self._space

    def decode(self, ctx: Context, action: Any) -> Sequence[tuple[Hashable, MsgPayload]] | None:
        return self.fn(ctx, action)


class EmptyDecoder(Decoder):
    """Sends nothing, whatever the action (a ``Box`` of shape ``(0,)``, as in Phantom)."""

    @property
    def action_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-np.inf, np.inf, (0,), np.float32)

    def decode(self, ctx: Context, action: Any) -> Messages:
        return []


class ChainedDecoder(Decoder):
    """Several decoders acting together on a tuple action (``Tuple`` action space).

    Args:
        decoders: Decoders, in order; nested lists are flattened (Phantom's rule).

    Raises:
        AgentDefinitionError: no decoders, or an item that is not a Decoder.
    """

    def __init__(self, decoders: Iterable[Decoder]) -> None:
        self.decoders: list[Decoder] = _flatten("ChainedDecoder", decoders, Decoder)

    @property
    def action_space(self) -> gym.spaces.Tuple:
        return gym.spaces.Tuple(tuple(d.action_space for d in self.decoders))

    def decode(self, ctx: Context, action: Any) -> Messages:
        """The messages of every part for its element of ``action``, in order.

        Raises:
            ActionError: ``action`` is not a sequence with one element per decoder.
        """
        if isinstance(action, (str, bytes, Mapping)) or not isinstance(
            action, (Sequence, np.ndarray)
        ):
            raise ActionError(
                f"ChainedDecoder: the action must be a tuple with one element per decoder "
                f"({len(self.decoders)}), got {action!r}"
            )
        if len(action) != len(self.decoders):
            raise ActionError(
                f"ChainedDecoder: the action has {len(action)} elements but there are "
                f"{len(self.decoders)} decoders; give one element per decoder"
            )
        out: Messages = []
        for decoder, part in zip(self.decoders, action):
            out.extend(decoder.decode(ctx, part) or ())
        return out

    def chain(self, others: Decoder | Iterable[Decoder]) -> ChainedDecoder:
        return ChainedDecoder([self.decoders, others])

    def reset(self) -> None:
        for decoder in self.decoders:
            decoder.reset()


class DictDecoder(Decoder):
    """Several named decoders acting together on a dict action (``Dict`` action space).

    Args:
        decoders: ``{name: decoder}``; names are strings.

    Raises:
        AgentDefinitionError: no decoders, a name that is not a string, or a value that
            is not a Decoder.
    """

    def __init__(self, decoders: Mapping[str, Decoder]) -> None:
        self.decoders: dict[str, Decoder] = _named("DictDecoder", decoders, Decoder)

    @property
    def action_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({name: d.action_space for name, d in self.decoders.items()})

    def decode(self, ctx: Context, action: Any) -> Messages:
        """The messages of every part for its entry of ``action``, in the decoders' order.

        Raises:
            ActionError: ``action`` is not a mapping holding every decoder's name.
        """
        if not isinstance(action, Mapping):
            raise ActionError(
                f"DictDecoder: the action must be a dict with the keys "
                f"{list(self.decoders)}, got {action!r}"
            )
        missing = [name for name in self.decoders if name not in action]
        if missing:
            raise ActionError(
                f"DictDecoder: the action {action!r} lacks the keys {missing}; give one "
                f"entry per decoder ({list(self.decoders)})"
            )
        out: Messages = []
        for name, decoder in self.decoders.items():
            out.extend(decoder.decode(ctx, action[name]) or ())
        return out

    def reset(self) -> None:
        for decoder in self.decoders.values():
            decoder.reset()
