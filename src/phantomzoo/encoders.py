"""Observation encoders: objects that build a strategic agent's observation.

Pass one as ``StrategicAgent(observation_encoder=...)``; the agent's
``observation_space`` is the encoder's. Encoders compose, as in Phantom:

* :class:`ChainedEncoder` ``([e1, e2])`` (or ``e1.chain(e2)``) observes
  ``(e1.encode(ctx), e2.encode(ctx))`` in ``Tuple((e1.space, e2.space))``;
* :class:`DictEncoder` ``({"a": e1, "b": e2})`` observes ``{"a": ..., "b": ...}`` in
  ``Dict({"a": e1.space, "b": e2.space})``.

:meth:`Encoder.reset` is a hook for encoders that keep state; composed encoders pass
it on to every part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from .errors import AgentDefinitionError

if TYPE_CHECKING:
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

    def chain(self, others: Encoder | Iterable[Encoder]) -> ChainedEncoder:
        """This encoder followed by ``others`` (one encoder or several) as a ChainedEncoder."""
        return ChainedEncoder([self, others])

    def reset(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Forget any per-episode state (default: nothing to forget)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.observation_space!r})"


class LambdaEncoder(Encoder):
    """An encoder from a space and a function ``fn(ctx) -> observation``."""

    def __init__(self, observation_space: gym.Space[Any], fn: Callable[[Context], Any]):
        _check_space("LambdaEncoder", "observation_space", observation_space)
        if not callable(fn):
            raise AgentDefinitionError(f"LambdaEncoder: fn must be callable, got {fn!r}")
        self._space = observation_space
        self.fn = fn

    @property
    def observation_space(self) -> gym.Space[Any]:
        return self._space

    def encode(self, ctx: Context) -> Any:
        return self.fn(ctx)


class EmptyEncoder(Encoder):
    """Observes nothing of interest: always ``[0.0]`` in ``Box(-inf, inf, (1,))``."""

    @property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)

    def encode(self, ctx: Context) -> np.ndarray:
        return np.zeros((1,), dtype=np.float32)


class Constant(Encoder):
    """Always observes an array of ``shape`` filled with ``value``."""

    def __init__(self, shape: tuple[int, ...], value: float = 0.0) -> None:
        self._space = gym.spaces.Box(-np.inf, np.inf, shape=tuple(shape), dtype=np.float32)
        self._value = np.full(self._space.shape, value, dtype=np.float32)

    @property
    def observation_space(self) -> gym.spaces.Box:
        return self._space

    def encode(self, ctx: Context) -> np.ndarray:
        return self._value.copy()


class ChainedEncoder(Encoder):
    """Several encoders observed together as a tuple (``Tuple`` observation space).

    Args:
        encoders: Encoders, in order; nested lists are flattened (Phantom's rule), so
            ``ChainedEncoder([e1, [e2, e3]])`` has three parts.

    Raises:
        AgentDefinitionError: no encoders, or an item that is not an Encoder.
    """

    def __init__(self, encoders: Iterable[Encoder]) -> None:
        self.encoders: list[Encoder] = _flatten("ChainedEncoder", encoders, Encoder)

    @property
    def observation_space(self) -> gym.spaces.Tuple:
        return gym.spaces.Tuple(tuple(e.observation_space for e in self.encoders))

    def encode(self, ctx: Context) -> tuple[Any, ...]:
        return tuple(e.encode(ctx) for e in self.encoders)

    def chain(self, others: Encoder | Iterable[Encoder]) -> ChainedEncoder:
        return ChainedEncoder([self.encoders, others])

    def reset(self) -> None:
        for encoder in self.encoders:
            encoder.reset()


class DictEncoder(Encoder):
    """Several named encoders observed together as a dict (``Dict`` observation space).

    Args:
        encoders: ``{name: encoder}``; names are strings.

    Raises:
        AgentDefinitionError: no encoders, a name that is not a string, or a value that
            is not an Encoder.
    """

    def __init__(self, encoders: Mapping[str, Encoder]) -> None:
        self.encoders: dict[str, Encoder] = _named("DictEncoder", encoders, Encoder)

    @property
    def observation_space(self) -> gym.spaces.Dict:
        return gym.spaces.Dict({name: e.observation_space for name, e in self.encoders.items()})

    def encode(self, ctx: Context) -> dict[str, Any]:
        return {name: e.encode(ctx) for name, e in self.encoders.items()}

    def reset(self) -> None:
        for encoder in self.encoders.values():
            encoder.reset()


# ------------------------------------------------------------------ helpers
# Shared with decoders.py: composing parts is the same job on both sides.
def _check_space(owner: str, label: str, space: Any) -> None:
    if not isinstance(space, gym.Space):
        raise AgentDefinitionError(
            f"{owner}: {label} must be a gymnasium space, got {space!r}; "
            "e.g. gym.spaces.Box(0, 1, (1,))"
        )


def _flatten(owner: str, items: Any, kind: type) -> list[Any]:
    """``items`` flattened into a list of ``kind`` instances (nested lists allowed)."""
    out: list[Any] = []

    def visit(item: Any) -> None:
        if isinstance(item, kind):
            out.append(item)
        elif isinstance(item, Iterable) and not isinstance(item, (str, bytes, Mapping)):
            for sub in item:
                visit(sub)
        else:
            raise AgentDefinitionError(
                f"{owner}: every part must be a ph.{kind.__name__.lower()}s.{kind.__name__}, "
                f"got {item!r} ({type(item).__name__})"
            )

    visit(items)
    if not out:
        raise AgentDefinitionError(f"{owner}: give at least one {kind.__name__}")
    return out


def _named(owner: str, items: Any, kind: type) -> dict[str, Any]:
    """``items`` as a ``{str: kind}`` dict, checked."""
    if not isinstance(items, Mapping):
        raise AgentDefinitionError(
            f"{owner}: expects a mapping of names to {kind.__name__}s, got {items!r}; "
            f"for a sequence use Chained{kind.__name__}"
        )
    if not items:
        raise AgentDefinitionError(f"{owner}: give at least one {kind.__name__}")
    for name, part in items.items():
        if not isinstance(name, str):
            raise AgentDefinitionError(f"{owner}: names must be strings, got {name!r}")
        if not isinstance(part, kind):
            raise AgentDefinitionError(
                f"{owner}: {name!r} must be a ph.{kind.__name__.lower()}s.{kind.__name__}, "
                f"got {part!r} ({type(part).__name__})"
            )
    return dict(items)
