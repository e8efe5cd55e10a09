"""What a telemetry log holds: JSON-safe values, the records of an episode, their text form.

:class:`~phantomzoo.telemetry.Telemetry` turns what an env does into plain dicts that
``json.dumps`` accepts and ``pandas.read_json(path, lines=True)`` loads. This module
holds the pieces that do not depend on where the records go:

* :func:`jsonable`: any value an env produces, made JSON-safe (NumPy arrays become
  lists, NumPy scalars numbers, payloads and dataclasses ``{"type", "fields"}``,
  mappings get string keys; anything else its ``repr``). Non-finite floats stay
  ``NaN`` / ``Infinity``, which Python's ``json`` and pandas read back (strict JSON
  parsers do not);
* :func:`message_record`: one delivered message;
* :class:`PhantomEpisode`: Phantom's layout, one JSON object per episode holding
  ``"start"`` and a list of ``"steps"`` (what ``ph.telemetry.logger`` writes);
* :func:`format_record`: the one-line text of a record, for ``print=True``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from .message import MsgPayload
from .metrics import NotRecorded

#: The fields of a step a telemetry log may hold, each switched on or off by the
#: Telemetry option of the same name.
FIELDS = ("observations", "actions", "rewards", "terminations", "truncations", "infos")
#: Record kinds of the native layout, in the order they appear within a step.
KINDS = ("reset", "message", "stage", "step", "end")


#: Types JSON takes as they are (checked by exact type first: the common case, fast).
_PLAIN = frozenset({int, float, str, bool, type(None)})
#: One encoder for every record (``json.dumps`` with options builds one per call).
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def jsonable(value: Any) -> Any:
    """``value`` made of JSON types only (see the module docs)."""
    if type(value) in _PLAIN:
        return value
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, MsgPayload):
        return payload_record(value)
    if isinstance(value, Mapping):
        return {_key(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, NotRecorded):
        return None
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, "fields": fields}
    return repr(value)


def _key(key: Any) -> str:
    """A mapping key as JSON needs it: a string (agent ids may be ints or tuples)."""
    if isinstance(key, str):
        return key
    if isinstance(key, tuple):  # "('SHOP', 1)", as the id prints (NumPy items unwrapped)
        return str(tuple(k.item() if isinstance(k, np.generic) else k for k in key))
    return str(jsonable(key))


def payload_record(payload: MsgPayload) -> dict[str, Any]:
    """A payload as ``{"type": its class name, "fields": {field: value}}``."""
    return {
        "type": type(payload).__name__,
        "fields": {
            k: v if type(v) in _PLAIN else jsonable(v) for k, v in zip(payload._fields, payload)
        },
    }


def message_record(message: Any) -> dict[str, Any]:
    """The sender, receiver and payload of one delivered message (no position fields)."""
    sender, receiver, payload = message
    if isinstance(payload, MsgPayload):
        kind, fields = type(payload).__name__, payload_record(payload)["fields"]
    else:  # a payload that is not a ph.MsgPayload (custom resolvers may deliver one)
        kind, fields = type(payload).__name__, jsonable(payload)
    return {
        "sender": sender if type(sender) is str else jsonable(sender),
        "receiver": receiver if type(receiver) is str else jsonable(receiver),
        "payload_type": kind,
        "payload": fields,
    }


def select(values: Mapping[Any, Any], agents: frozenset[Any] | None) -> dict[str, Any]:
    """The JSON-safe ``{agent: value}`` of ``values``, only ``agents`` if given."""
    if agents is None:
        return {_key(k): jsonable(v) for k, v in values.items()}
    return {_key(k): jsonable(v) for k, v in values.items() if k in agents}


def dumps(record: Mapping[str, Any], indent: int | None = None) -> str:
    """One record as a line of JSON (or indented text with ``indent``)."""
    if indent is None:
        return _COMPACT.encode(record)
    return json.dumps(record, indent=indent)


class PhantomEpisode:
    """One episode in Phantom's telemetry layout, built record by record.

    Phantom writes each episode as one JSON object ``{"start": time, "steps": [...]}``:
    ``steps[0]`` is the reset (``messages``, ``metrics``, ``observations``: no infos, as
    in Phantom), each further
    entry one step (``actions``, ``observations``, ``rewards``, ``terminations`` and
    ``truncations`` as lists of the agents that ended, ``infos``, ``messages``,
    ``metrics``; ``fsm_current_stage`` / ``fsm_next_stage`` in staged envs: the stage
    the step started in and the one it ended in). Keys of fields switched off are left
    out.
    """

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"start": str(datetime.now()), "steps": []}
        self._messages: list[dict[str, Any]] = []
        self._stages: list[Any] = []  # stages played since the last entry

    def add(self, record: Mapping[str, Any]) -> None:
        """Fold one native record into the episode."""
        kind = record["kind"]
        if kind == "message":
            self._messages.append(
                {
                    "sender_id": record["sender"],
                    "receiver_id": record["receiver"],
                    "payload": record["payload"],
                }
            )
        elif kind == "stage":
            if not self._stages:
                self._stages.append(record["stage"])
            self._stages.append(record["next_stage"])
        elif kind in ("reset", "step"):
            self.data["steps"].append(self._entry(record))

    def _entry(self, record: Mapping[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {"messages": self._messages}
        self._messages = []
        for name in FIELDS:
            if name in record and not (name == "infos" and record["kind"] == "reset"):
                value = record[name]
                if name in ("terminations", "truncations"):
                    value = [agent for agent, ended in value.items() if ended]
                entry[name] = value
        entry["metrics"] = record.get("metrics", {})
        if self._stages:  # several stages may play in one step: the first and the last
            entry["fsm_current_stage"], entry["fsm_next_stage"] = self._stages[0], self._stages[-1]
            self._stages = []
        return entry


def format_record(record: Mapping[str, Any]) -> str:
    """A record as one line of text (what ``print=True`` shows)."""
    kind = record["kind"]
    head = f"[episode {record.get('episode')} step {record.get('step')}]"
    if kind == "message":
        fields = ", ".join(f"{k}={v}" for k, v in (record["payload"] or {}).items())
        return (
            f"{head} MSG {record['sender']} -> {record['receiver']} "
            f"{record['payload_type']}({fields})"
        )
    if kind == "stage":
        return f"{head} STAGE {record['stage']} -> {record['next_stage']}"
    if kind == "end":
        return f"{head} EPISODE DONE"
    parts = [f"{name}={record[name]}" for name in (*FIELDS, "metrics") if name in record]
    label = "RESET" if kind == "reset" else "STEP"
    return f"{head} {label} " + " ".join(parts)
