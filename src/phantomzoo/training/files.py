"""Small file helpers: atomic writes and output locations checked before work starts."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never
    a partial one (write a temporary file beside it, flush to disk, rename over)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, payload: Any) -> None:
    """:func:`atomic_write_bytes` of ``payload`` as indented JSON."""
    text = json.dumps(payload, indent=2, default=str) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """:func:`atomic_write_bytes` of ``arrays`` as an uncompressed ``.npz`` archive."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def writable_directory(path: str | Path, what: str = "results directory") -> Path:
    """Create ``path`` (and parents) and prove a file can be written there.

    Raises:
        ConfigError: naming the path and the reason, before any work is spent.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {str(path)!r} is a file; pass a directory path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".phantomzoo-probe-", delete=True)
        probe.close()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot write the {what} {str(path)!r}: {reason}") from None
    return path
