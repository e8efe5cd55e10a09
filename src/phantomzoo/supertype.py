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

import gymnasium as gym
import numpy as np

from .errors import SupertypeError, TypeConversionError  # noqa: F401 (re-exported)
from .ranges import Range
from .samplers import Sampler, Shared, draw_value

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
        self,
        rng: np.random.Generator | None = None,
        shared_draws: dict[int, Any] | None = None,
    ) -> Supertype:
        """A new instance with every sampler replaced by a draw from ``rng``.

        Args:
            rng: The generator to draw from. The environment passes the episode's seeded
                one. Omitted (Phantom's ``supertype.sample()``), the draws come from a
                fresh **unseeded** generator and differ from run to run.
            shared_draws: Draws of :class:`~phantomzoo.samplers.Shared` samplers made so
                far this episode, keyed by ``id``; filled in as new ones are drawn.

        Raises:
            SupertypeError: if a field holds a range, or a draw does not fit the shape
                or bounds its sampler declared (the field is named).
        """
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise SupertypeError(
                f"{type(self).__name__}.sample(rng): rng must be a numpy Generator, got "
                f"{rng!r}; pass np.random.default_rng(seed), or nothing for an unseeded draw"
            )
        shared_draws = {} if shared_draws is None else shared_draws
        values = {}
        for field in self._fields():
            value = getattr(self, field.name)
            if isinstance(value, Range):
                raise SupertypeError(
                    f"{type(self).__name__}.{field.name} holds a range ({value!r}); ranges "
                    "are swept by rollouts, not drawn on reset. Use a sampler for training."
                )
            if isinstance(value, Sampler):
                value = self._draw(field.name, value, rng, shared_draws)
            values[field.name] = value
        return dataclasses.replace(self, **values)  # type: ignore[type-var]

    def _draw(
        self, name: str, sampler: Sampler, rng: np.random.Generator, shared: dict[int, Any]
    ) -> Any:
        if isinstance(sampler, Shared) and id(sampler) in shared:
            return shared[id(sampler)]  # checked when first drawn
        value = draw_value(sampler, rng, shared)
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

    def to_obs_space_compatible_type(self) -> dict[str, Any]:
        """The type's fields as values of :meth:`to_obs_space` (Phantom's helper).

        Numbers become float32 arrays of shape ``(1,)``, arrays float32 arrays, lists
        lists, tuples tuples and dicts dicts, converted recursively, so that
        ``t.to_obs_space().contains(t.to_obs_space_compatible_type())``.

        Raises:
            TypeConversionError: naming the field that is not numeric (a string,
                ``None``, an object) or is still a sampler or range.
        """
        return {f.name: _compatible(self, f.name, getattr(self, f.name)) for f in self._fields()}

    def to_obs_space(self, low: float = -math.inf, high: float = math.inf) -> gym.spaces.Dict:
        """A ``Dict`` space with one entry per field, every box spanning ``[low, high]``.

        Numbers give ``Box(low, high, (1,))``, arrays a box of their shape, lists and
        tuples a ``Tuple`` and dicts a ``Dict``, recursively (Phantom's layout). On a
        supertype, a sampler field gives a box of the sampler's shape (``(1,)`` for one
        number), so the space can be built before the first draw.

        Raises:
            TypeConversionError: naming a field that cannot be part of a space, or if
                ``low``/``high`` are not numbers with ``low <= high``.
        """
        low, high = _space_range(type(self).__name__, low, high)
        return gym.spaces.Dict(
            {f.name: _space(self, f.name, getattr(self, f.name), low, high) for f in self._fields()}
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


# -------------------------------------------------- observation-space conversion
def _space_range(owner: str, low: Any, high: Any) -> tuple[float, float]:
    out = []
    for label, bound in (("low", low), ("high", high)):
        if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, (int, float, np.number)):
            raise TypeConversionError(
                f"{owner}.to_obs_space: {label} must be a number, got {bound!r}"
            )
        if math.isnan(bound):
            raise TypeConversionError(f"{owner}.to_obs_space: {label} must not be NaN")
        out.append(float(bound))
    if out[0] > out[1]:
        raise TypeConversionError(
            f"{owner}.to_obs_space: low ({low}) must be <= high ({high}); swap them"
        )
    return out[0], out[1]


def _not_convertible(owner: Supertype, name: str, value: Any, what: str) -> TypeConversionError:
    return TypeConversionError(
        f"{type(owner).__name__}.{name} = {value!r} ({type(value).__name__}) cannot be "
        f"converted into {what}: only numbers, numeric arrays, and lists, tuples and dicts "
        "of them can; encode other fields yourself (e.g. with an Encoder)"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number, np.bool_))


def _numeric_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS


def _compatible(owner: Supertype, name: str, value: Any) -> Any:
    """``value`` in the form :meth:`Supertype.to_obs_space` holds it."""
    if isinstance(value, (Sampler, Range)):
        raise TypeConversionError(
            f"{type(owner).__name__}.{name} is still a sampler or range ({value!r}); "
            "convert a sampled type (agent.type after reset, or supertype.sample(rng))"
        )
    if isinstance(value, dict):
        return {k: _compatible(owner, f"{name}[{k!r}]", v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_compatible(owner, f"{name}[{i}]", v) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if _is_number(value):
        return np.array([value], dtype=np.float32)
    if _numeric_array(value):
        return value.astype(np.float32)
    raise _not_convertible(owner, name, value, "an observation value")


def _space(owner: Supertype, name: str, value: Any, low: float, high: float) -> gym.Space[Any]:
    """The space of one field (see :meth:`Supertype.to_obs_space`)."""
    if isinstance(value, Sampler):
        if not _numeric_sampler(value):
            raise _not_convertible(owner, name, value, "an observation space")
        return gym.spaces.Box(low, high, value.shape or (1,), np.float32)
    if isinstance(value, Range):
        values = value.values()
        return _space(owner, name, values[0], low, high)
    if isinstance(value, dict):
        return gym.spaces.Dict(
            {k: _space(owner, f"{name}[{k!r}]", v, low, high) for k, v in value.items()}
        )
    if isinstance(value, (list, tuple)):
        return gym.spaces.Tuple(
            [_space(owner, f"{name}[{i}]", v, low, high) for i, v in enumerate(value)]
        )
    if _is_number(value):
        return gym.spaces.Box(low, high, (1,), np.float32)
    if _numeric_array(value):
        return gym.spaces.Box(low, high, value.shape, np.float32)
    raise _not_convertible(owner, name, value, "an observation space")


def _numeric_sampler(sampler: Sampler) -> bool:
    """False for samplers known to draw non-numbers (a DiscreteSampler of strings)."""
    inner = sampler.sampler if isinstance(sampler, Shared) else sampler
    values = getattr(inner, "values", None)
    if isinstance(values, list):
        return all(_is_number(v) or _numeric_array(np.asarray(v)) for v in values)
    return True
