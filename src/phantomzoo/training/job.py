"""What a backend receives (:class:`TrainingJob`) and returns (:class:`TrainingResult`).

The job carries the environment source, the compiled policy mapping, the budgets, the
results directory and options, and the checkpoint contract every backend follows (see
:class:`TrainingJob`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..metrics import Metric
from .checkpoint import Checkpoint, CheckpointStore
from .interrupts import StopSignals
from .mapping import PolicyMapping
from .sources import EnvSource
from .trained import TrainedPolicies

#: Seconds between periodic checkpoints by default.
DEFAULT_CHECKPOINT_SECONDS = 300.0


@dataclass
class TrainingJob:
    """Everything a backend needs to train (built by :func:`train`).

    Checkpoint contract for backends (``SUPPORTS_CHECKPOINTS = True`` in the module):
    at each iteration boundary call :meth:`checkpoint_due` and, if true,
    :meth:`save_checkpoint`; stop the loop when :attr:`stop_requested` is set; save a
    final checkpoint when the loop ends. When :attr:`resume` is set, restore from its
    ``state``, ``history`` and ``progress`` before the first iteration. Budgets
    (timesteps, iterations, ``max_seconds``) are totals over the whole run, resumed
    sessions included.
    """

    env_source: EnvSource
    mapping: PolicyMapping
    timesteps: int | None
    iterations: int | None
    seed: int
    results_dir: Path
    options: dict[str, Any]
    metrics: dict[str, Metric]
    progress: bool
    checkpoint_seconds: float | None = DEFAULT_CHECKPOINT_SECONDS
    resume: Checkpoint | None = None
    run: dict[str, Any] = field(default_factory=dict)
    stop: StopSignals = field(default_factory=lambda: StopSignals(enabled=False))
    checkpoints: list[Path] = field(default_factory=list)
    _last_save: float = field(default_factory=time.monotonic)

    def make_env(self) -> Any:
        """A new environment."""
        return self.env_source.make()

    def env_info(self) -> dict[str, Any]:
        """The JSON description of the environment saved with the policies."""
        return self.env_source.to_json()

    @property
    def stop_requested(self) -> str | None:
        """The signal (``"SIGINT"``/``"SIGTERM"``) that asked training to stop, if any."""
        return self.stop.signal_name

    def checkpoint_due(self) -> bool:
        """Whether a checkpoint should be saved now (interval elapsed or stop requested)."""
        if self.stop_requested:
            return True
        if self.checkpoint_seconds is None:
            return False
        return time.monotonic() - self._last_save >= self.checkpoint_seconds

    def save_checkpoint(
        self,
        state: Any,
        history: list[dict[str, Any]],
        timesteps: int,
        iterations: int,
        seconds: float,
        policies: TrainedPolicies | None = None,
    ) -> Path:
        """Write a checkpoint of the backend's ``state`` (plain data + NumPy arrays)."""
        progress = {"timesteps": int(timesteps), "iterations": int(iterations), "seconds": seconds}
        path = CheckpointStore(self.results_dir).save(self.run, progress, history, state, policies)
        self._last_save = time.monotonic()
        self.checkpoints.append(path)
        return path


@dataclass
class TrainingResult:
    """What :func:`train` returns.

    Attributes:
        backend: The backend that trained.
        policies: The trained (and fixed) policies, backend-neutral.
        results_dir: Where policies, ``training.json`` and TensorBoard files are.
        history: One dict per training iteration (timesteps, seconds, mean return per
            policy, metrics).
        wall_seconds: Training time of this call.
        interrupted: The signal that stopped training early, else ``None``.
    """

    backend: str
    policies: TrainedPolicies
    results_dir: Path
    history: list[dict[str, Any]]
    wall_seconds: float = 0.0
    interrupted: str | None = None
