"""Many rollouts out to pandas or JSON Lines (Phantom's ``rollouts_to_dataframe`` and
``rollouts_to_jsonl``).

* :func:`rollouts_to_dataframe`: one row per episode (or per configuration, averaged over
  its repeats), indexed by the values the ranges took, one column per metric holding the
  episode's value of that metric.
* :func:`rollouts_to_jsonl`: one JSON object per rollout per line (configuration, params,
  steps with messages, per-step metric values), loadable with ``pandas.read_json(path,
  lines=True)`` or line by line with :func:`json.loads`.

For one episode's long (step, agent) table see :meth:`Rollout.to_dataframe`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import ConfigError, DependencyNotInstalled
from ..message import Message, MsgPayload
from ..metrics import Metric
from .trajectories import Rollout

__all__ = ["rollouts_to_dataframe", "rollouts_to_jsonl"]


def rollouts_to_dataframe(
    rollouts: Iterable[Rollout],
    avg_over_repeats: bool = True,
    index_value_precision: int | None = None,
    metrics: Mapping[str, Metric] | None = None,
) -> Any:
    """Rollouts as a DataFrame: range values as the index, metrics as the columns.

    Args:
        rollouts: Rollouts (a list or any iterable, consumed once).
        avg_over_repeats: Average the rows of each configuration over its repeats (only
            when ranges were swept: without ranges there is no index to group by).
        index_value_precision: Round the range values to this many decimals and turn them
            into strings, so that ``2.0`` and ``2.0000000001`` index the same row.
        metrics: The ``{name: Metric}`` given to the rollout: each metric's per-step
            values become one number with that metric's own ``reduce``. Without it the
            episode value is the mean of the recorded steps (NaN when none).

    Raises:
        ConfigError: no rollouts, a non-Rollout item, ``metrics`` naming a metric the
            rollouts did not record, or a bad ``index_value_precision``.
        DependencyNotInstalled: pandas is missing.
    """
    try:
        import pandas as pd
    except ImportError:
        raise DependencyNotInstalled(
            "rollouts_to_dataframe needs pandas: pip install 'phantomzoo[plots]'"
        ) from None
    items = _checked(rollouts, "rollouts_to_dataframe")
    if index_value_precision is not None and (
        isinstance(index_value_precision, bool)
        or not isinstance(index_value_precision, int)
        or index_value_precision < 0
    ):
        raise ConfigError(
            f"index_value_precision must be None or an int >= 0 (decimals), got "
            f"{index_value_precision!r}"
        )
    reducers = _reducers(items, metrics)
    rows = [
        {**r.rollout_params, **{name: reducers(name, v) for name, v in r.metrics.items()}}
        for r in items
    ]
    frame = pd.DataFrame(rows)
    index = list(dict.fromkeys(k for r in items for k in r.rollout_params))
    if not index:
        return frame
    if index_value_precision is not None:
        for column in index:
            frame[column] = frame[column].round(index_value_precision).astype(str)
    if avg_over_repeats:
        frame = frame.groupby(index, sort=False).mean().reset_index()
    return frame.set_index(index)


def _reducers(items: list[Rollout], metrics: Mapping[str, Metric] | None) -> Any:
    recorded = {name for r in items for name in r.metrics}
    given = dict(metrics or {})
    unknown = sorted(set(given) - recorded)
    if unknown:
        raise ConfigError(
            f"metrics names {unknown}, which the rollouts did not record; they recorded "
            f"{sorted(recorded)}"
        )

    def reduce(name: str, values: Any) -> float:
        array = np.asarray(values, dtype=float)
        if array.ndim == 0:  # already one number per episode
            return float(array)
        if name in given:
            return float(given[name].reduce_values(list(array)))
        return float(array.mean()) if array.size else math.nan

    return reduce


def rollouts_to_jsonl(
    rollouts: Iterable[Rollout], file: str | Path | IO[str], human_readable: bool = False
) -> Path | None:
    """Write each rollout as one JSON object per line.

    Args:
        rollouts: Rollouts (a list or any iterable, consumed once).
        file: A path (created or overwritten) or a text file object open for writing.
        human_readable: Indent each object (then it spans several lines: not JSON Lines
            any more, but easier to read).

    Returns:
        The path written, or ``None`` for a file object.

    Raises:
        ConfigError: a non-Rollout item, or ``file`` neither a path nor a writable text file.
    """
    items = _checked(rollouts, "rollouts_to_jsonl", allow_empty=True)
    indent = 2 if human_readable else None
    if isinstance(file, (str, Path)):
        path = Path(file)
        with path.open("w", encoding="utf-8") as handle:
            _write(items, handle, indent)
        return path
    if not callable(getattr(file, "write", None)):
        raise ConfigError(
            f"rollouts_to_jsonl needs a path or a text file open for writing, got {file!r}"
        )
    _write(items, file, indent)
    return None


def _write(items: list[Rollout], handle: IO[str], indent: int | None) -> None:
    for rollout in items:
        try:
            handle.write(json.dumps(jsonable(rollout), indent=indent) + "\n")
        except TypeError as exc:
            if "str" in str(exc) and "bytes" in str(exc):
                raise ConfigError(
                    "rollouts_to_jsonl writes text: open the file with 'w', not 'wb'"
                ) from None
            raise
    if callable(getattr(handle, "flush", None)):
        handle.flush()


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: rollouts and steps as objects, messages as
    ``{"sender_id", "receiver_id", "payload": {"type", fields...}}``, arrays as lists,
    NumPy scalars as numbers, NaN and infinities as ``null``, any other object as its
    ``repr``."""
    if isinstance(value, Message):
        return {
            "sender_id": jsonable(value.sender_id),
            "receiver_id": jsonable(value.receiver_id),
            "payload": jsonable(value.payload),
        }
    if isinstance(value, MsgPayload):
        return {
            "type": type(value).__name__,
            **{k: jsonable(v) for k, v in value._asdict().items()},
        }
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _key(key: Any) -> str | int | float | bool | None:
    if key is None or isinstance(key, (str, int, float, bool)):
        return key
    return str(key)


def _checked(rollouts: Any, who: str, allow_empty: bool = False) -> list[Rollout]:
    if isinstance(rollouts, Rollout) or not isinstance(rollouts, Iterable):
        raise ConfigError(f"{who} takes an iterable of Rollouts (e.g. ph.rollout's result)")
    items = list(rollouts)
    for n, item in enumerate(items):
        if not isinstance(item, Rollout):
            raise ConfigError(f"{who}: item {n} is a {type(item).__name__}, not a Rollout")
    if not items and not allow_empty:
        raise ConfigError(f"{who} got no rollouts; pass the list ph.rollout returned")
    return items
