"""Supertypes: families of agent (or environment) types.

A supertype is a dataclass whose fields hold either fixed values or
:mod:`~phantomzoo.samplers`. On every ``reset`` the environment samples it into a
*type*: an instance of the same class with every sampler replaced by a draw::

    @dataclass
    class ShopSupertype(ph.Supertype):
        cost_of_carry: float

    shop = ShopAgent("SHOP", supertype=ShopSupertype(UniformFloatSampler(0.1, 0.5)))
    # after env.reset(seed=0): shop.type.cost_of_carry == 0.3187...

Every draw is checked against what its sampler promised (shape, bounds; see
:meth:`phantomzoo.samplers.Sampler.check_draw`), so the type vector always has the
length and range of the observation space :meth:`Supertype.bounds` widened.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .errors import SupertypeError
from .ranges import Range
from .samplers import Sampler, Shared

_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float


class Supertype:
    """Base class for supertypes; subclass it and decorate the subclass with ``@dataclass``.

    Instantiating a subclass that is not a dataclass, or that adds annotated fields
    without being decorated itself, raises :class:`~phantomzoo.errors.SupertypeError`.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Supertype:
        _check_dataclass(cls)
        return super().__new__(cls)

    def _fields(self) -> tuple[dataclasses.Field[Any], ...]:
        _check_dataclass(type(self))
        return dataclasses.fields(self)

    def sample(
        self, rng: np.random.Generator, shared_draws: dict[int, Any] | None = None
    ) -> Supertype:
        """A new instance with every sampler replaced by a draw from ``rng``.

        Args:
            rng: The generator to draw from.
            shared_draws: Draws of :class:`~phantomzoo.samplers.Shared` samplers made so
                far this episode, keyed by ``id``; filled in as new ones are drawn.

        Raises:
            SupertypeError: if a field holds a range, or a draw does not fit the shape
                or bounds its sampler declared (the field is named).
        """
        shared_draws = {} if shared_draws is None else shared_draws
        values = {}
        for field in self._fields():
            value = getattr(self, field.name)
            if isinstance(value, Range):
                raise SupertypeError(
                    f"{type(self).__name__}.{field.name} holds a range ({value!r}); ranges "
                    "are swept by rollouts, not drawn on reset. Use a sampler for training."
                )
            if isinstance(value, Shared):
                key = id(value)
                if key not in shared_draws:
                    shared_draws[key] = self._draw(field.name, value, rng)
                value = shared_draws[key]
            elif isinstance(value, Sampler):
                value = self._draw(field.name, value, rng)
            values[field.name] = value
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    def _draw(self, name: str, sampler: Sampler, rng: np.random.Generator) -> Any:
        value = sampler.sample(rng)
        problem = sampler.check_draw(value)
        if problem is not None:
            raise SupertypeError(f"{type(self).__name__}.{name}: {sampler!r} {problem}")
        return value

    def to_array(self) -> np.ndarray:
        """The type's values flattened into one float32 vector (field order).

        Raises:
            SupertypeError: if a field is still a sampler or range, is not numeric
                (strings, ``None``, objects) or is NaN.
        """
        parts = []
        for field in self._fields():
            value = getattr(self, field.name)
            if isinstance(value, (Sampler, Range)):
                raise SupertypeError(
                    f"{type(self).__name__}.{field.name} is still a sampler; call sample() "
                    "first (the environment does this on reset)"
                )
            parts.append(_flatten(type(self).__name__, field.name, value))
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of :meth:`to_array` over all possible draws.

        A sampler field contributes one entry per element of its
        :attr:`~phantomzoo.samplers.Sampler.shape`; a fixed field one per element of
        its value, unbounded.
        """
        lows, highs = [], []
        for field in self._fields():
            value = getattr(self, field.name)
            if isinstance(value, Sampler):
                size = math.prod(value.shape)
                low, high = value.bounds()
                lows.append(_spread(low, value.shape, size))
                highs.append(_spread(high, value.shape, size))
            else:
                size = _flatten(type(self).__name__, field.name, value).size
                lows.append(np.full(size, -math.inf))
                highs.append(np.full(size, math.inf))
        if not lows:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty
        return (
            np.concatenate(lows).astype(np.float32),
            np.concatenate(highs).astype(np.float32),
        )


_CHECKED: set[type] = set()  # classes that passed (a class is checked once: sampled every reset)


def _check_dataclass(cls: type) -> None:
    """Refuse a supertype class that is not (fully) a dataclass."""
    if cls in _CHECKED:
        return
    if not dataclasses.is_dataclass(cls):
        raise SupertypeError(
            f"{cls.__name__} is not a dataclass; decorate it with @dataclasses.dataclass"
        )
    own = cls.__dict__.get("__annotations__", {})
    missing = [name for name in own if name not in cls.__dataclass_fields__]  # type: ignore[attr-defined]
    if missing:
        raise SupertypeError(
            f"{cls.__name__} declares fields {missing} but is not itself a dataclass (only a "
            "parent is); decorate it with @dataclasses.dataclass too"
        )
    _CHECKED.add(cls)


def _spread(bound: Any, shape: tuple[int, ...], size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(bound, dtype=float), shape).reshape(size)


def _flatten(owner: str, name: str, value: Any) -> np.ndarray:
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        array = np.array([float(value)])
    else:
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError):  # ragged nested lists and the like
            raw = None
        if raw is None or raw.dtype.kind not in _NUMERIC_KINDS:
            raise SupertypeError(
                f"{owner}.{name} = {value!r} cannot be flattened into a numeric observation; "
                "use numbers or numeric arrays for types, or build the env with "
                "type_augmented_observations=False and encode the type yourself"
            )
        array = raw.astype(float).ravel()
    if np.isnan(array).any():
        raise SupertypeError(
            f"{owner}.{name} = {value!r} is NaN, which cannot go into an observation; "
            "give it a number"
        )
    return array
