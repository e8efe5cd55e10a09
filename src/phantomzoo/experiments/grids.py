"""Range grids: every concrete configuration of a config whose values may be ranges.

A :class:`~phantomzoo.ranges.Range` may stand anywhere in an env config, including inside
a supertype's fields; :func:`expand_ranges` finds every one (by dotted path) and returns
the cartesian product of their values as concrete configurations. Rollouts sweep these.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

from ..ranges import Range
from ..supertype import Supertype

__all__ = ["expand_ranges"]


def _find_ranges(value: Any, path: str, found: dict[str, Range]) -> None:
    if isinstance(value, Range):
        found[path] = value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _find_ranges(item, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, Supertype) and dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _find_ranges(getattr(value, f.name), f"{path}.{f.name}", found)


def _substitute(value: Any, path: str, chosen: Mapping[str, Any]) -> Any:
    if path in chosen:
        return chosen[path]
    if isinstance(value, Mapping):
        return {
            k: _substitute(v, f"{path}.{k}" if path else str(k), chosen) for k, v in value.items()
        }
    if isinstance(value, Supertype) and dataclasses.is_dataclass(value):
        changes = {
            f.name: _substitute(getattr(value, f.name), f"{path}.{f.name}", chosen)
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


def expand_ranges(config: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every concrete configuration of ``config``'s ranges: ``[(params, config), ...]``."""
    found: dict[str, Range] = {}
    _find_ranges(dict(config), "", found)
    if not found:
        return [({}, copy.deepcopy(dict(config)))]
    paths = list(found)
    grid = []
    for values in itertools.product(*(found[p].values() for p in paths)):
        chosen = dict(zip(paths, values))
        grid.append((chosen, _substitute(dict(config), "", chosen)))
    return grid
