"""Supertypes: families of agent (or environment) types.

A supertype is a dataclass whose fields hold either fixed values or
:mod:`~phantomzoo.samplers`. On every ``reset`` the environment samples it into a
*type*: an instance of the same class with every sampler replaced by a draw::

    @dataclass
    class ShopSupertype(ph.Supertype):
        cost_of_carry: float

    shop = ShopAgent("SHOP", supertype=ShopSupertype(UniformFloatSampler(0.1, 0.5)))
    # after env.reset(seed=0): shop.type.cost_of_carry == 0.3187...
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .errors import SupertypeError
from .ranges import Range
from .samplers import Sampler, Shared


class Supertype:
    """Base class for supertypes; subclass it and decorate the subclass with ``@dataclass``."""

    def _fields(self) -> tuple[dataclasses.Field[Any], ...]:
        if not dataclasses.is_dataclass(self):
            raise SupertypeError(
                f"{type(self).__name__} is not a dataclass; decorate it with @dataclasses.dataclass"
            )
        return dataclasses.fields(self)

    def sample(
        self, rng: np.random.Generator, shared_draws: dict[int, Any] | None = None
    ) -> Supertype:
        """A new instance with every sampler replaced by a draw from ``rng``.

        Args:
            rng: The generator to draw from.
            shared_draws: Draws of :class:`~phantomzoo.samplers.Shared` samplers made so
                far this episode, keyed by ``id``; filled in as new ones are drawn.
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
                    shared_draws[key] = value.sample(rng)
                value = shared_draws[key]
            elif isinstance(value, Sampler):
                value = value.sample(rng)
            values[field.name] = value
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    def to_array(self) -> np.ndarray:
        """The type's values flattened into one float32 vector (field order)."""
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
        """Lower and upper bounds of :meth:`to_array` over all possible draws."""
        lows, highs = [], []
        for field in self._fields():
            value = getattr(self, field.name)
            if isinstance(value, Sampler):
                low, high = value.bounds()
                probe = np.zeros(1)
            else:
                low, high = -math.inf, math.inf
                probe = _flatten(type(self).__name__, field.name, value)
            lows.append(np.full(probe.size, low))
            highs.append(np.full(probe.size, high))
        if not lows:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty
        return (
            np.concatenate(lows).astype(np.float32),
            np.concatenate(highs).astype(np.float32),
        )


def _flatten(owner: str, name: str, value: Any) -> np.ndarray:
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return np.array([float(value)])
    try:
        array = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        raise SupertypeError(
            f"{owner}.{name} = {value!r} cannot be flattened into a numeric observation; "
            "use numbers or numeric arrays for types, or build the env with "
            "type_augmented_observations=False and encode the type yourself"
        ) from None
    return array
