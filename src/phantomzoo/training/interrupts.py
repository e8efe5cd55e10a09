"""SIGINT and SIGTERM during training: stop at the next safe point, save, then exit.

Inside ``with StopSignals() as stop:`` the first SIGINT (Ctrl-C) or SIGTERM (``kill``,
a batch scheduler's time limit) only records ``stop.signal_name``; the training loop
checks it between iterations, saves its policies and a checkpoint, and returns. A
second signal restores the previous handlers and raises ``KeyboardInterrupt`` at once
(the latest periodic checkpoint stays valid: checkpoints are written atomically).
Handlers can only be installed from the main thread; elsewhere signals behave as usual.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """A context manager turning SIGINT/SIGTERM into a stop request (see the module docs)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if self.enabled and threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()

    def request(self, name: str = "SIGINT") -> None:
        """Ask the loop to stop as if ``name`` had arrived (used by tests and callbacks)."""
        self.signal_name = self.signal_name or name

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal_name is not None:  # the second signal: stop now
            self._restore()
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name

    def _restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}
