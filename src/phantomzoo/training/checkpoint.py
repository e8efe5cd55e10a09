"""Training checkpoints as data: JSON plus ``.npz``, written atomically, read safely.

A backend hands :meth:`CheckpointStore.save` its state as a tree of dicts, lists,
tuples, numbers, strings, ``None``, bytes and NumPy arrays (torch tensors converted
first: see ``backends/_common.py``). The tree's skeleton goes to ``state.json``, its
arrays to ``arrays.npz``; the policies trained so far go to ``policies/`` in the usual
format, so a checkpoint can be rolled out like a finished run.

Layout under ``RESULTS/checkpoints/``::

    ckpt-000003/  state.json  arrays.npz  policies/
    ckpt-000004/  ...
    latest.json   {"name": "ckpt-000004", ...}

A checkpoint directory is complete before ``latest.json`` points at it (written to a
temporary name, then renamed), so a kill at any moment leaves the previous checkpoint
as the latest one. The two newest are kept. Reading never unpickles
(``allow_pickle=False``) and every malformed file is a :class:`CheckpointError`.
"""

from __future__ import annotations

import base64
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CheckpointError, ManifestError
from .files import atomic_write_json, atomic_write_npz
from .manifest import read_json
from .records import NOT_SCALAR, plain_scalar

FORMAT = "phantomzoo-checkpoint"
VERSION = 1
KEEP = 2
_NAME = re.compile(r"^ckpt-(\d{6,})$")


# ------------------------------------------------------------------ state trees
def pack(tree: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """Split a state tree into a JSON skeleton and named arrays."""
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any) -> Any:
        scalar = plain_scalar(value)
        if scalar is not NOT_SCALAR:
            return scalar
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biufc":
                raise CheckpointError(f"cannot checkpoint an array of dtype {value.dtype}")
            name = f"a{len(arrays)}"
            arrays[name] = value
            return {"$array": name}
        if isinstance(value, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [walk(v) for v in value]}
        if isinstance(value, Mapping):
            return {"$dict": [[walk(k), walk(v)] for k, v in value.items()]}
        raise CheckpointError(
            f"cannot checkpoint a value of type {type(value).__qualname__}; backends hand "
            "over plain data and NumPy arrays"
        )

    return walk(tree), arrays


def unpack(skeleton: Any, arrays: Mapping[str, np.ndarray], where: str) -> Any:
    """Rebuild a tree split by :func:`pack`; a malformed skeleton is a CheckpointError."""

    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"{where}: {problem}")

    def walk(value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not (isinstance(value, dict) and len(value) == 1):
            raise fail(f"unexpected entry {value!r:.80}")
        ((tag, body),) = value.items()
        if tag == "$array" and isinstance(body, str) and body in arrays:
            return arrays[body]
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$bytes" and isinstance(body, str):
            try:
                return base64.b64decode(body.encode("ascii"), validate=True)
            except ValueError:
                raise fail("malformed $bytes entry") from None
        if tag == "$tuple" and isinstance(body, list):
            return tuple(walk(v) for v in body)
        if tag == "$dict" and isinstance(body, list):
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise fail(f"malformed $dict item {pair!r:.80}")
                try:
                    out[walk(pair[0])] = walk(pair[1])
                except TypeError:
                    raise fail(f"unusable key {pair[0]!r:.80}") from None
            return out
        raise fail(f"unknown or malformed entry {tag!r}")

    return walk(skeleton)


# ------------------------------------------------------------------ the store
@dataclass
class Checkpoint:
    """One checkpoint read back: where, the run record, progress, history, backend state."""

    directory: Path
    run: dict[str, Any]
    progress: dict[str, Any]
    history: list[dict[str, Any]]
    state: Any

    def policies(self, **trust: Any) -> Any:
        """The policies saved with this checkpoint (as :func:`ph.load_policies`)."""
        from .trained import load_policies

        return load_policies(self.directory / "policies", **trust)


class CheckpointStore:
    """The ``checkpoints/`` folder of one results directory."""

    def __init__(self, results_dir: str | Path) -> None:
        self.root = Path(results_dir) / "checkpoints"

    def save(
        self,
        run: Mapping[str, Any],
        progress: Mapping[str, Any],
        history: list[dict[str, Any]],
        state: Any,
        policies: Any = None,
    ) -> Path:
        """Write a new checkpoint and make it the latest (see the module docs)."""
        skeleton, arrays = pack(state)
        self.root.mkdir(parents=True, exist_ok=True)
        latest = self._latest_number()
        number = (latest if latest is not None else 0) + 1
        target = self.root / f"ckpt-{number:06d}"
        staging = self.root / f".ckpt-{number:06d}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        atomic_write_npz(staging / "arrays.npz", arrays)
        if policies is not None:
            policies.save(staging / "policies")
        record = {
            "format": FORMAT,
            "version": VERSION,
            "run": dict(run),
            "progress": dict(progress),
            "history": history,
            "state": skeleton,
        }
        atomic_write_json(staging / "state.json", record)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        atomic_write_json(
            self.root / "latest.json", {"name": target.name, "saved_at": time.time(), **progress}
        )
        self._prune(keep_from=number - KEEP + 1)
        return target

    def latest(self) -> Checkpoint | None:
        """The latest complete checkpoint, or ``None`` when there is none."""
        pointer = self.root / "latest.json"
        if not pointer.exists():
            return None
        try:
            data = read_json(pointer, "the latest-checkpoint pointer")
        except ManifestError as exc:
            raise CheckpointError(str(exc)) from None
        name = data.get("name") if isinstance(data, dict) else None
        if not (isinstance(name, str) and _NAME.match(name) and (self.root / name).is_dir()):
            raise CheckpointError(f"{pointer} does not name a checkpoint directory in {self.root}")
        return self.load(self.root / name)

    def load(self, directory: Path) -> Checkpoint:
        """Read one checkpoint directory (untrusted input: checked, never unpickled)."""
        file = directory / "state.json"
        try:
            record = read_json(file, "the checkpoint state")
        except ManifestError as exc:
            raise CheckpointError(str(exc)) from None
        if not (isinstance(record, dict) and record.get("format") == FORMAT):
            raise CheckpointError(f"{file} is not a phantomzoo checkpoint")
        if record.get("version") != VERSION:
            raise CheckpointError(
                f"{file}: unsupported checkpoint version {record.get('version')!r}"
            )
        for key, kind in (("run", dict), ("progress", dict), ("history", list)):
            if not isinstance(record.get(key), kind):
                raise CheckpointError(f"{file}: entry {key!r} must be a {kind.__name__}")
        try:
            with np.load(directory / "arrays.npz", allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except Exception as exc:  # missing, truncated, pickled: all unusable
            raise CheckpointError(f"{directory / 'arrays.npz'} cannot be read: {exc}") from None
        state = unpack(record.get("state"), arrays, str(file))
        return Checkpoint(directory, record["run"], record["progress"], record["history"], state)

    def _numbers(self) -> list[int]:
        if not self.root.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.root.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def _latest_number(self) -> int | None:
        numbers = self._numbers()
        return numbers[-1] if numbers else None

    def _prune(self, keep_from: int) -> None:
        for number in self._numbers():
            if number < keep_from:
                shutil.rmtree(self.root / f"ckpt-{number:06d}", ignore_errors=True)
