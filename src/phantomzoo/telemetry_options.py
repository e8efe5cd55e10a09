"""The options of a :class:`~phantomzoo.telemetry.Telemetry`, checked, and its sink opened.

Each check returns the option in the form the Telemetry keeps, or raises
:class:`~phantomzoo.errors.ConfigError` saying what was given and what is accepted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .metrics import Metric
from .telemetry_records import FIELDS, jsonable

#: The layouts a Telemetry writes (see the module docs).
LAYOUTS = ("records", "episodes")
#: Record fields that ``tags`` may not overwrite.
RESERVED = frozenset(
    {"kind", "episode", "step", "stage", "next_stage", "seed", "metrics", "sender", "receiver"}
    | {"payload", "payload_type", *FIELDS}
)


def check_agents(name: str, value: Any) -> frozenset[Any] | None | bool:
    """``None`` (every agent), ``False`` (off) or the frozenset of agent ids given."""
    if isinstance(value, (bool, np.bool_)):
        return None if value else False
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ConfigError(
            f"Telemetry {name}= must be True, False or a list of agent ids, got {value!r}"
            + ("; for one agent pass a list, e.g. ['SHOP1']" if isinstance(value, str) else "")
        )
    try:
        return frozenset(value)
    except TypeError:
        raise ConfigError(f"Telemetry {name}=: agent ids must be hashable, got {value!r}") from None


def check_metrics(metrics: Any) -> dict[str, Metric]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise ConfigError(
            f"Telemetry metrics= must be a mapping of name -> ph.metrics.Metric, got {metrics!r}"
        )
    for name, metric in metrics.items():
        if not isinstance(name, str):
            raise ConfigError(f"Telemetry metrics=: names must be strings, got {name!r}")
        if not isinstance(metric, Metric):
            raise ConfigError(
                f"Telemetry metrics[{name!r}] must be a ph.metrics.Metric, got {metric!r}"
            )
    return dict(metrics)


def check_choice(name: str, value: Any, accepted: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in accepted:
        raise ConfigError(f"Telemetry {name}= must be one of {list(accepted)}, got {value!r}")
    return value


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"Telemetry {name}= must be True or False, got {value!r}")
    return bool(value)


def check_indent(indent: Any) -> int | None:
    if indent is None:
        return None
    if not isinstance(indent, int) or isinstance(indent, bool) or indent < 0:
        raise ConfigError(f"Telemetry indent= must be None or an int >= 0, got {indent!r}")
    return indent


def check_tags(tags: Any) -> dict[str, Any]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise ConfigError(f"Telemetry tags= must be a mapping of column -> value, got {tags!r}")
    clash = sorted(k for k in tags if k in RESERVED)
    if clash or not all(isinstance(k, str) for k in tags):
        raise ConfigError(
            f"Telemetry tags= keys must be strings other than the record fields "
            f"{sorted(RESERVED)}; got {list(tags)}"
        )
    return {k: jsonable(v) for k, v in tags.items()}


def printer(value: Any) -> Any:
    """A function returning the stream to print to (stdout looked up at each print)."""
    if isinstance(value, (bool, np.bool_)):
        return (lambda: sys.stdout) if value else None
    if callable(getattr(value, "write", None)):
        return lambda: value
    raise ConfigError(f"Telemetry print= must be True, False or a text stream, got {value!r}")


def open_sink(sink: Any, append: bool) -> tuple[Any, bool]:
    """``(stream, opened here)`` for a sink (see :class:`Telemetry`)."""
    if sink is None:
        return None, False
    if isinstance(sink, (str, os.PathLike)):
        path = Path(sink)
        if not path.parent.is_dir():
            raise ConfigError(
                f"cannot write telemetry to {str(path)!r}: the directory "
                f"{str(path.parent)!r} does not exist; create it first"
            )
        try:
            return path.open("a" if append else "w", encoding="utf-8"), True
        except OSError as exc:
            raise ConfigError(
                f"cannot write telemetry to {str(path)!r}: {exc.strerror or exc}; choose a "
                "writable file path"
            ) from exc
    if callable(getattr(sink, "write", None)):
        return sink, False
    raise ConfigError(f"Telemetry sink must be a file path, a text stream or None, got {sink!r}")


def make_directory(directory: Any) -> Path:
    if not isinstance(directory, (str, os.PathLike)):
        raise ConfigError(f"for_episode: directory must be a path, got {directory!r}")
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"for_episode: cannot create the telemetry directory {str(folder)!r}: "
            f"{exc.strerror or exc}"
        ) from exc
    return folder
