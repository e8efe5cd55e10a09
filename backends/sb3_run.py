"""Bookkeeping of one sb3 training run: budget, progress, logging, history, and the
SB3 callback that hooks each model into it (see :mod:`.sb3`)."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from phantomzoo.training import TrainingJob

from ._common import Budget, TrainingLogger, history_row
from .sb3_checkpoint import Checkpointer

__all__ = ["Control", "Run"]


class Run:
    """Budget used (agent-steps, iterations, seconds), progress bar, TensorBoard, history."""

    def __init__(self, job: TrainingJob, max_seconds: float | None, source: Any) -> None:
        self.budget = budget = Budget(job.timesteps, job.iterations, max_seconds)
        self.by_steps = budget.by_steps
        unit = "step" if budget.by_steps else "iter"
        policy_ids = list(job.mapping.policies)
        self.logger = TrainingLogger(job.results_dir, policy_ids, budget.total, unit, job.progress)
        self.source = source
        self.last_record = 0
        self.history: list[dict[str, Any]] = []
        self.recent: list[dict[str, Any]] = []  # episodes finished since the last row

    # The counters live in the budget (a checkpoint saves and restores them).
    steps = property(
        lambda self: self.budget.steps, lambda self, v: setattr(self.budget, "steps", v)
    )
    iterations = property(
        lambda self: self.budget.iterations_done,
        lambda self, v: setattr(self.budget, "iterations_done", v),
    )
    started = property(
        lambda self: self.budget.started, lambda self, v: setattr(self.budget, "started", v)
    )

    def seconds(self) -> float:
        return self.budget.seconds()

    def fraction(self) -> float:
        return self.budget.fraction()

    def done(self) -> bool:
        return self.budget.done()

    def out_of_time(self) -> bool:
        return self.budget.out_of_time()

    def step(self) -> None:
        """Count new agent-steps; log finished episodes."""
        steps = self.source.agent_steps
        if self.by_steps:  # the bar stops at its total (the last update may overshoot it)
            cap = self.budget.timesteps
            self.logger.advance(min(steps, cap) - min(self.steps, cap))
        self.steps = steps
        for summary in self.source.drain():
            self.logger.episode(summary, steps)
            self.recent.append(summary)

    def record(self, policy_id: str) -> None:
        """Append a history row (:mod:`._budget`) for the episodes since the last one,
        plus ``policy``: the policy that was learning."""
        self.last_record = self.steps
        row = history_row(self.budget, self.recent, self.logger.mean_returns())
        self.history.append({**row, "policy": policy_id})
        self.recent = []
        rate = self.steps / max(self.seconds(), 1e-9)
        self.logger.scalar("time/agent_steps_per_second", rate, self.steps)


class Control(BaseCallback):
    """Hooks one model into the run: counting, logging, budget and checkpoint checks."""

    def __init__(self, policy_id: str, on_policy: bool, run: Run, ckpt: Checkpointer) -> None:
        super().__init__()
        self.policy_id, self.on_policy, self.run, self.ckpt = policy_id, on_policy, run, ckpt

    def _on_step(self) -> bool:
        self.run.step()
        if not self.on_policy and self.ckpt.maybe_save():  # off-policy: no update boundary
            return False
        return not self.run.out_of_time() and (self.on_policy or not self.run.done())

    def _on_rollout_end(self) -> None:
        run = self.run
        run.iterations += 1
        if not run.by_steps:
            run.logger.advance(1)
        if self.on_policy or run.steps - run.last_record >= 1000:
            run.record(self.policy_id)
