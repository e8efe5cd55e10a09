"""``LambdaSampler``: a sampler from any function, in Phantom's form or the seeded form.

Two calling forms, told apart from ``func``'s signature (or set with ``pass_rng=``):

* seeded (phantomzoo's form): ``LambdaSampler(lambda rng, k: rng.integers(k), 5)``
  calls ``func(rng, *args, **kwargs)`` with the episode's generator, so a seed fixes
  every draw. Use this form for reproducible runs.
* Phantom's form: ``LambdaSampler(func, *args, **kwargs)`` calls
  ``func(*args, **kwargs)``; phantomzoo cannot seed what ``func`` draws (it is as
  random, or as fixed, as ``func`` makes it).

The rule when ``pass_rng`` is not given: if the arguments fit ``func`` only with a
generator in front, the seeded form is used; if they fit only without it, Phantom's
form. If they fit both ways (``func`` has a defaulted parameter), the seeded form is
used when ``func``'s first parameter is named ``rng``, ``generator``, ``gen``,
``np_random`` or ``random_state`` (or is annotated ``np.random.Generator``), Phantom's
form otherwise. Functions without a readable signature (builtins) get the seeded form.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import SamplerError
from .base import Sampler
from .checks import INF, Bounds, check_bounds_pair, check_shape, draw_problem, generator, is_numeric

#: First-parameter names that mark ``func`` as taking the generator (ambiguous cases).
RNG_PARAMETER_NAMES = frozenset({"rng", "generator", "gen", "np_random", "random_state"})


class LambdaSampler(Sampler[Any]):
    """Draws ``func(rng, *args, **kwargs)`` or ``func(*args, **kwargs)`` (see module docs).

    Args:
        func: The function to call on every draw.
        args, kwargs: Passed on to ``func``.
        pass_rng: ``True`` to call ``func(rng, ...)``, ``False`` for ``func(...)``;
            ``None`` (default) decides from ``func``'s signature.
        bounds: Optional ``(low, high)`` of the values ``func`` returns: numbers (for
            every element) or arrays of ``shape``, with ``low <= high``. A draw outside
            them is an error naming the field.
        shape: Shape of what ``func`` returns: ``()`` (default) for one number,
            ``(3,)`` for a 3-vector, and so on. Type-augmented observations get one
            entry per element; a draw of another shape is an error naming the field.

    Attributes:
        pass_rng: Whether ``func`` receives the generator (the form in use).
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *args: Any,
        bounds: tuple[Any, Any] | None = None,
        shape: tuple[int, ...] | int = (),
        pass_rng: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(func):
            raise SamplerError(f"LambdaSampler: func must be callable, got {func!r}")
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.shape = check_shape("LambdaSampler", shape)
        self._bounds = (
            None if bounds is None else check_bounds_pair("LambdaSampler", bounds, self.shape)
        )
        self.pass_rng = _passes_rng(func, args, kwargs, pass_rng)

    def sample(self, rng: np.random.Generator | None = None) -> Any:
        if self.pass_rng:
            return self.func(generator("LambdaSampler", rng), *self.args, **self.kwargs)
        return self.func(*self.args, **self.kwargs)

    def bounds(self) -> Bounds:
        return self._bounds if self._bounds is not None else (-INF, INF)

    def check_draw(self, value: Any) -> str | None:
        problem = draw_problem(value, self.shape, self.bounds())
        if problem is None and self._bounds is not None and not is_numeric(value):
            return f"drew {value!r}, which is not a number, but bounds={self._bounds} were given"
        return problem

    def __repr__(self) -> str:
        name = getattr(self.func, "__qualname__", repr(self.func))
        return f"LambdaSampler({name}, shape={self.shape}, bounds={self._bounds})"


def _passes_rng(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], pass_rng: Any
) -> bool:
    """Whether ``func`` is called with the generator first (see the module docs)."""
    if pass_rng is not None:
        if not isinstance(pass_rng, (bool, np.bool_)):
            raise SamplerError(
                f"LambdaSampler: pass_rng must be True, False or None, got {pass_rng!r}"
            )
        return bool(pass_rng)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return True
    with_rng = _binds(signature, (None, *args), kwargs)
    without = _binds(signature, args, kwargs)
    if with_rng and not without:
        return True
    if without and not with_rng:
        return False
    if not with_rng:
        name = getattr(func, "__qualname__", repr(func))
        raise SamplerError(
            f"LambdaSampler: {name}{signature} cannot be called with args={args!r} and "
            f"kwargs={kwargs!r}, neither as func(rng, *args, **kwargs) nor as "
            "func(*args, **kwargs); pass the arguments func expects"
        )
    first = next(iter(signature.parameters.values()))
    return first.name in RNG_PARAMETER_NAMES or _is_generator_annotation(first.annotation)


def _binds(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _is_generator_annotation(annotation: Any) -> bool:
    if annotation is np.random.Generator:
        return True
    return isinstance(annotation, str) and annotation.split(".")[-1] == "Generator"
