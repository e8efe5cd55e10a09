"""Backend options from a dataclass: one place that checks ``ph.train``'s ``options``.

A backend describes its options as a dataclass whose fields carry a :class:`Rule`
(declared with :func:`option`); :func:`validate_options` turns the user's dict into an
instance of it, refusing unknown names and bad values with a
:class:`~phantomzoo.errors.ConfigError` that names the option, what it must be and what
was given. ``ph.train`` calls a backend's ``check_options`` before it touches the results
directory, so a bad option never leaves a half-made run behind.

::

    @dataclass
    class Args:
        num_envs: int = option(16, AT_LEAST_1)
        gamma: float = option(0.99, Rule("a number <= 1", lambda v: is_number(v) and v <= 1))

    args = validate_options(Args, {"num_envs": 4}, "mybackend")
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from phantomzoo.errors import ConfigError

T = TypeVar("T")


def is_int(value: Any) -> bool:
    """An int (NumPy ints too), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or float (NumPy ones too), not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class Rule:
    """What an option's value must be.

    Attributes:
        expected: Completes "option X must be ...", e.g. ``"an int >= 1"``.
        test: True for an acceptable value.
        convert: Applied to an accepted value (e.g. a list to a tuple); None: as given.
    """

    expected: str
    test: Callable[[Any], bool]
    convert: Callable[[Any], Any] | None = None

    def optional(self, expected: str | None = None) -> Rule:
        """This rule, also accepting None."""
        text = expected or f"None or {self.expected}"
        return Rule(text, lambda v: v is None or self.test(v), self.convert)


def int_at_least(least: int) -> Rule:
    """An int >= ``least``."""
    return Rule(f"an int >= {least}", lambda v: is_int(v) and v >= least)


def choice(*values: Any) -> Rule:
    """One of ``values`` (compared with ==)."""
    text = (
        " or ".join(repr(v) for v in values)
        if len(values) <= 2
        else (", ".join(repr(v) for v in values[:-1]) + f" or {values[-1]!r}")
    )
    return Rule(text, lambda v: isinstance(v, type(values[0])) and v in values)


AT_LEAST_1 = int_at_least(1)
FLAG = Rule("True or False", lambda v: isinstance(v, bool))
POSITIVE = Rule("a number > 0", lambda v: is_number(v) and 0 < v < math.inf)
MAPPING = Rule("a dict", lambda v: isinstance(v, Mapping), dict)
#: A wall-time budget in seconds (every backend's ``max_seconds``).
MAX_SECONDS = POSITIVE.optional()


def option(default: Any, rule: Rule, *, factory: Callable[[], Any] | None = None) -> Any:
    """A dataclass field whose values :func:`validate_options` checks with ``rule``."""
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"rule": rule})
    return dataclasses.field(default=default, metadata={"rule": rule})


def option_names(args_class: type) -> frozenset[str]:
    """The options an Args dataclass accepts (its field names)."""
    return frozenset(f.name for f in dataclasses.fields(args_class))


def validate_options(
    args_class: type[T], options: Mapping[str, Any], where: str, what: str = "option"
) -> T:
    """An ``args_class`` instance from ``options``, every value checked by its field's rule.

    Args:
        args_class: A dataclass whose fields were declared with :func:`option`.
        options: The user's values (missing ones take the field defaults).
        where: Prefix of error messages, e.g. ``"cleanrl"`` or ``"rllib option model"``.
        what: What a key is called in messages (``"option"``, ``"key"``).

    Raises:
        ConfigError: for a non-dict ``options``, an unknown name (with the closest known
            one) or a value its rule refuses.
    """
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where}: the {what}s must be a dict, got {options!r}")
    fields = {f.name: f for f in dataclasses.fields(args_class)}
    unknown = sorted(str(k) for k in set(options) - set(fields))
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(fields), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"{where}: unknown {what}(s) {unknown}{hint}; {what}s are {sorted(fields)}"
        )
    values = {}
    for name, value in options.items():
        rule: Rule | None = fields[name].metadata.get("rule")
        if rule is not None:
            if not rule.test(value):
                raise ConfigError(f"{where}: {what} {name} must be {rule.expected}, got {value!r}")
            value = rule.convert(value) if rule.convert is not None else value
        values[name] = value
    return args_class(**values)
