"""The backend contract, and the pieces every backend shares.

**What a backend is.** One module, registered under a name (the ``phantomzoo.backends``
entry-point group, or :func:`phantomzoo.backends.register_backend`), that defines:

* ``train(job: TrainingJob) -> TrainingResult``: train ``job.mapping``'s learnt policies
  within ``job``'s budget (:class:`~._budget.Budget`: ``timesteps``, ``iterations`` and the
  ``max_seconds`` option, totals over resumed sessions), return every policy as a
  ``TrainedPolicies`` (learnt ones exported to ``MLPPolicy``) and one
  :class:`~._budget.HistoryRow` per iteration;
* ``OPTIONS`` (the accepted option names) and ``check_options(options)``, which refuses
  bad values before ``ph.train`` touches the results directory (build both from an Args
  dataclass with :mod:`._options`);
* ``SUPPORTS_CHECKPOINTS = True`` if it follows ``TrainingJob``'s checkpoint contract
  (checkpoint when due, stop when asked, resume from ``job.resume``).

Same seed, same result: episode seeds come from :func:`~._actions.seed_stream`, and a
backend that changes torch's process-wide settings restores them
(:func:`~._torch_state.torch_settings`).

**Shared pieces.** :class:`EpisodeTracker` follows one environment copy through the
acting-agents protocol and reports, at each episode end, the return of every policy
(mean over the agents sharing it), the episode length and the user's metrics.
:class:`TrainingLogger` shows a progress bar with the latest mean return per policy and
writes TensorBoard event files (``returns/<policy>``, ``episode/length``,
``metrics/<name>``) into the results directory. Acting (:class:`~._actions.ActionCodec`,
:class:`~._actions.FixedActors`), budget and history rows (:mod:`._budget`) and option
checks (:mod:`._options`) live in their own modules, re-exported here.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from phantomzoo.metrics import Metric, MetricRecorder
from phantomzoo.training.mapping import PolicyMapping
from phantomzoo.types import AgentID

from ._actions import ActionCodec, FixedActors, episode_seed, seed_stream
from ._budget import HISTORY_KEYS, Budget, HistoryRow, history_row
from ._options import option, option_names, validate_options

__all__ = [
    "HISTORY_KEYS",
    "UNBOUNDED",
    "ActionCodec",
    "Budget",
    "EpisodeTracker",
    "FixedActors",
    "HistoryRow",
    "TrainingLogger",
    "episode_seed",
    "history_row",
    "option",
    "option_names",
    "seed_stream",
    "validate_options",
]

#: Step budgets at least this large mean "until the wall-time budget runs out".
UNBOUNDED = 10**12


class EpisodeTracker:
    """Accumulates one env copy's rewards and metrics over an episode."""

    def __init__(self, mapping: PolicyMapping, metrics: Mapping[str, Metric] | None = None):
        self.mapping = mapping
        self.recorder = MetricRecorder(metrics)
        self.returns: dict[AgentID, float] = {}
        self.length = 0

    def start(self) -> None:
        """Call after ``acting_reset``."""
        self.returns = {}
        self.length = 0
        self.recorder.reset()

    def step(
        self, env: Any, rewards: Mapping[AgentID, float], stage: Hashable | None = None
    ) -> None:
        """Call after each ``acting_step`` with its rewards (and the stage played)."""
        self.length += 1
        for agent_id, reward in rewards.items():
            self.returns[agent_id] = self.returns.get(agent_id, 0.0) + float(reward)
        if self.recorder.metrics:
            self.recorder.record(env, stage)

    def finish(self) -> dict[str, Any]:
        """The finished episode's summary: policy returns, length and metrics."""
        pooled: dict[str, list[float]] = {}
        for agent_id, policy_id in self.mapping.agent_to_policy.items():
            pooled.setdefault(policy_id, []).append(self.returns.get(agent_id, 0.0))
        return {
            "returns": {p: float(np.mean(v)) for p, v in pooled.items()},
            "length": self.length,
            "metrics": self.recorder.summary(),
        }


class TrainingLogger:
    """Progress bar plus TensorBoard event files for one training run.

    Args:
        results_dir: Where TensorBoard event files go (``results_dir/tensorboard``).
        policy_ids: The policies whose returns are shown.
        total: Progress-bar total (agent-steps or iterations).
        unit: Progress-bar unit label.
        progress: Whether to show the bar.
        window: Episodes averaged for the "latest mean return".
    """

    def __init__(
        self,
        results_dir: Path,
        policy_ids: list[str],
        total: int | None,
        unit: str = "step",
        progress: bool = True,
        window: int = 20,
        initial: int = 0,
    ) -> None:
        from torch.utils.tensorboard import SummaryWriter  # backends all install tensorboard
        from tqdm.auto import tqdm

        self.writer = SummaryWriter(log_dir=str(Path(results_dir) / "tensorboard"))
        if total is not None and total >= UNBOUNDED:  # a wall-time budget: no known total
            total = None
        self.bar = tqdm(
            total=total, unit=unit, disable=not progress, dynamic_ncols=True, initial=initial
        )
        self.policy_ids = list(policy_ids)
        self.recent: dict[str, deque[float]] = {p: deque(maxlen=window) for p in policy_ids}
        self.recent_lengths: deque[int] = deque(maxlen=window)
        self.episodes = 0

    def episode(self, summary: Mapping[str, Any], step: int) -> None:
        """Log one finished episode (a summary from :meth:`EpisodeTracker.finish`)."""
        self.episodes += 1
        for policy_id, value in summary["returns"].items():
            if policy_id in self.recent:
                self.recent[policy_id].append(value)
            self.writer.add_scalar(f"returns/{policy_id}", value, step)
        self.recent_lengths.append(summary["length"])
        self.writer.add_scalar("episode/length", summary["length"], step)
        for name, value in summary.get("metrics", {}).items():
            if not math.isnan(value):
                self.writer.add_scalar(f"metrics/{name}", value, step)

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Log any other scalar (losses, throughput)."""
        self.writer.add_scalar(tag, value, step)

    def mean_returns(self) -> dict[str, float]:
        """Latest mean return per policy over the recent episodes."""
        return {p: float(np.mean(v)) for p, v in self.recent.items() if v}

    def advance(self, amount: int) -> None:
        """Move the progress bar and refresh the shown returns."""
        self.bar.update(amount)
        shown = {p: f"{v:.1f}" for p, v in self.mean_returns().items()}
        if shown:
            self.bar.set_postfix(shown, refresh=False)

    def state(self) -> dict[str, Any]:
        """The recent-episode window, for checkpoints."""
        return {
            "recent": {p: list(v) for p, v in self.recent.items()},
            "lengths": list(self.recent_lengths),
            "episodes": self.episodes,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Undo :meth:`state` (a resumed run shows the same recent returns)."""
        for policy_id, values in state.get("recent", {}).items():
            if policy_id in self.recent:
                self.recent[policy_id].extend(float(v) for v in values)
        self.recent_lengths.extend(int(v) for v in state.get("lengths", []))
        self.episodes = int(state.get("episodes", 0))

    def close(self) -> None:
        self.bar.close()
        self.writer.flush()
        self.writer.close()
