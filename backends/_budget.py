"""The training budget and the history rows every backend reports, with one meaning.

**Budget.** ``ph.train`` gives ``timesteps`` (learnt agent-steps) and/or ``iterations``
(one iteration = one policy update cycle of the backend); every backend adds
``max_seconds``. All three are totals over the whole run, resumed sessions included.
:class:`Budget` keeps the counters and answers "what fraction is used" (the largest of
the three, which drives learning-rate annealing) and "is it used up".

**History.** ``TrainingResult.history`` holds one :class:`HistoryRow` per iteration,
with the same keys and meanings in every backend:

* ``iteration``: 1, 2, ... (iterations done so far, this one included);
* ``timesteps``: learnt agent-steps so far; ``seconds``: wall time so far;
* ``episodes``: episodes **finished during this iteration** (not a running total);
* ``episode_length``: their mean length (None when none finished);
* ``returns``: mean return per policy over the latest finished episodes (a window);
* ``metrics``: per user metric, the mean over this iteration's episodes (NaN: no value).

Backends may add keys of their own (documented where they are made): cleanrl
``losses``/``learning_rate``, sb3 ``policy``, rllib ``rllib_module_returns``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

#: The keys every backend's history rows have (see the module docs).
HISTORY_KEYS = frozenset(
    {"iteration", "timesteps", "seconds", "episodes", "episode_length", "returns", "metrics"}
)


class HistoryRow(TypedDict):
    """One iteration of training, as every backend reports it (see the module docs)."""

    iteration: int
    timesteps: int
    seconds: float
    episodes: int
    episode_length: float | None
    returns: dict[str, float]
    metrics: dict[str, float]


def history_row(
    budget: Budget, episodes: Sequence[Mapping[str, Any]], returns: Mapping[str, float]
) -> HistoryRow:
    """The row of the iteration just finished.

    Args:
        budget: The run's budget (its counters give iteration, timesteps, seconds).
        episodes: Summaries (``EpisodeTracker.finish``) of the episodes finished in it.
        returns: The logger's latest mean return per policy.
    """
    lengths = [summary["length"] for summary in episodes]
    names = sorted({name for summary in episodes for name in summary["metrics"]})
    return {
        "iteration": budget.iterations_done,
        "timesteps": budget.steps,
        "seconds": budget.seconds(),
        "episodes": len(episodes),
        "episode_length": sum(lengths) / len(lengths) if lengths else None,
        "returns": dict(returns),
        "metrics": {n: _finite_mean([s["metrics"].get(n) for s in episodes]) for n in names},
    }


def _finite_mean(values: Sequence[Any]) -> float:
    finite = [float(v) for v in values if v is not None and not math.isnan(v)]
    return math.fsum(finite) / len(finite) if finite else math.nan


@dataclass
class Budget:
    """Steps, iterations and seconds used of a run's budget (see the module docs).

    Attributes:
        timesteps / iterations / max_seconds: The limits (None: no such limit).
        steps: Learnt agent-steps done; iterations_done: iterations done.
        started: ``time.perf_counter()`` at the (virtual) start of the run: a resumed
            run's clock continues from the checkpoint's seconds.
    """

    timesteps: int | None
    iterations: int | None
    max_seconds: float | None = None
    steps: int = 0
    iterations_done: int = 0
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def of(cls, job: Any, max_seconds: float | None) -> Budget:
        """The budget of ``job``, continuing a resumed run's counters and clock."""
        progress = job.resume.progress if job.resume is not None else {}
        return cls(
            job.timesteps,
            job.iterations,
            max_seconds,
            steps=int(progress.get("timesteps", 0)),
            iterations_done=int(progress.get("iterations", 0)),
            started=time.perf_counter() - float(progress.get("seconds", 0.0)),
        )

    def seconds(self) -> float:
        """Wall time used so far."""
        return time.perf_counter() - self.started

    def fraction(self) -> float:
        """The fraction used of whichever budget runs out first (0.0 with no limit)."""
        fractions = [0.0]
        if self.timesteps is not None:
            fractions.append(self.steps / self.timesteps)
        if self.iterations is not None:
            fractions.append(self.iterations_done / self.iterations)
        if self.max_seconds is not None:
            fractions.append(self.seconds() / self.max_seconds)
        return max(fractions)

    def done(self) -> bool:
        """Whether some budget is used up."""
        return self.fraction() >= 1.0

    def out_of_time(self, ahead: float = 0.0) -> bool:
        """Whether ``max_seconds`` is used up, or would be ``ahead`` seconds from now."""
        return self.max_seconds is not None and self.seconds() + ahead >= self.max_seconds

    @property
    def by_steps(self) -> bool:
        """Whether progress is shown in agent-steps (else in iterations)."""
        return self.timesteps is not None

    @property
    def total(self) -> int | None:
        """The progress-bar total: timesteps if given, else iterations."""
        return self.timesteps if self.by_steps else self.iterations

    @property
    def shown(self) -> int:
        """Progress done in the bar's unit (capped at the total)."""
        done = self.steps if self.by_steps else self.iterations_done
        return min(done, self.total) if self.total is not None else done
