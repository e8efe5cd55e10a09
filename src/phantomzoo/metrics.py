"""Metrics: numbers recorded from a running environment every step.

A metric *extracts* one value from the environment after each step and *reduces* the
episode's values to one number. Metrics are plain objects handed to training and
rollouts (never process-global), so they work the same in worker processes::

    metrics = {
        "SHOP/stock": ph.metrics.SimpleAgentMetric("SHOP", "stock", "mean"),
        "SHOP/sales": ph.metrics.SimpleAgentMetric("SHOP", "sales", "sum"),
    }

``fsm_stages`` restricts a metric to the steps played in the given stages of a staged
environment.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError

REDUCERS: dict[str, Callable[[Sequence[float]], float]] = {
    "last": lambda values: float(values[-1]),
    "mean": lambda values: float(np.mean(values)),
    "sum": lambda values: float(np.sum(values)),
    "min": lambda values: float(np.min(values)),
    "max": lambda values: float(np.max(values)),
}


def _reducer(name: str) -> Callable[[Sequence[float]], float]:
    try:
        return REDUCERS[name]
    except KeyError:
        raise ConfigError(f"unknown reduce {name!r}; use one of {sorted(REDUCERS)}") from None


class Metric:
    """Base class: override :meth:`extract`.

    Args:
        reduce: How the episode's values become one number: ``last``, ``mean``, ``sum``,
            ``min`` or ``max``.
        fsm_stages: Only record steps played in these stages (staged envs).
    """

    def __init__(self, reduce: str = "mean", fsm_stages: Iterable[Hashable] | None = None):
        self.reduce = reduce
        self._reduce = _reducer(reduce)
        self.fsm_stages = None if fsm_stages is None else set(fsm_stages)

    def extract(self, env: Any) -> float:
        """The metric's value for the step just taken."""
        raise NotImplementedError

    def reduce_values(self, values: Sequence[float]) -> float:
        """The episode's values reduced to one number (NaN when nothing was recorded)."""
        return self._reduce(values) if len(values) else float("nan")


class SimpleAgentMetric(Metric):
    """An attribute of one agent, e.g. ``SimpleAgentMetric("SHOP", "stock", "mean")``."""

    def __init__(
        self,
        agent_id: Hashable,
        agent_property: str,
        reduce: str = "mean",
        fsm_stages: Iterable[Hashable] | None = None,
    ) -> None:
        super().__init__(reduce, fsm_stages)
        self.agent_id = agent_id
        self.agent_property = agent_property

    def extract(self, env: Any) -> float:
        return _read(env.network[self.agent_id], self.agent_property, self.agent_id)


class SimpleEnvMetric(Metric):
    """An attribute of the environment."""

    def __init__(
        self, env_property: str, reduce: str = "mean", fsm_stages: Iterable[Hashable] | None = None
    ) -> None:
        super().__init__(reduce, fsm_stages)
        self.env_property = env_property

    def extract(self, env: Any) -> float:
        return _read(env, self.env_property, "the environment")


class AggregatedAgentMetric(Metric):
    """An attribute over a group of agents, combined with ``group_reduce`` each step."""

    def __init__(
        self,
        agent_ids: Sequence[Hashable],
        agent_property: str,
        group_reduce: str = "mean",
        reduce: str = "mean",
        fsm_stages: Iterable[Hashable] | None = None,
    ) -> None:
        super().__init__(reduce, fsm_stages)
        if not agent_ids:
            raise ConfigError("AggregatedAgentMetric needs at least one agent id")
        self.agent_ids = list(agent_ids)
        self.agent_property = agent_property
        self.group_reduce = group_reduce
        self._group_reduce = _reducer(group_reduce)

    def extract(self, env: Any) -> float:
        values = [_read(env.network[i], self.agent_property, i) for i in self.agent_ids]
        return self._group_reduce(values)


class LambdaMetric(Metric):
    """A metric from a function ``extract_fn(env) -> float``."""

    def __init__(
        self,
        extract_fn: Callable[[Any], float],
        reduce: str = "mean",
        fsm_stages: Iterable[Hashable] | None = None,
    ) -> None:
        super().__init__(reduce, fsm_stages)
        if not callable(extract_fn):
            raise ConfigError(f"LambdaMetric needs a callable, got {extract_fn!r}")
        self.extract_fn = extract_fn

    def extract(self, env: Any) -> float:
        return float(self.extract_fn(env))


def _read(obj: Any, name: str, owner: Any) -> float:
    try:
        value = getattr(obj, name)
    except AttributeError:
        raise ConfigError(f"metric: {owner!r} has no attribute {name!r}") from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"metric: {owner!r}.{name} = {value!r} is not a number") from None


class MetricRecorder:
    """Records a set of metrics over an episode (one recorder per env copy)."""

    def __init__(self, metrics: Mapping[str, Metric] | None) -> None:
        self.metrics = dict(metrics or {})
        for name, metric in self.metrics.items():
            if not isinstance(metric, Metric):
                raise ConfigError(f"metric {name!r} must be a ph.metrics.Metric, got {metric!r}")
        self.values: dict[str, list[float]] = {name: [] for name in self.metrics}

    def reset(self) -> None:
        """Forget the values recorded so far (call at the start of an episode)."""
        self.values = {name: [] for name in self.metrics}

    def record(self, env: Any, stage: Hashable | None = None) -> dict[str, float]:
        """Record every metric for the step just played (in ``stage``, if staged)."""
        step: dict[str, float] = {}
        for name, metric in self.metrics.items():
            if metric.fsm_stages is not None and stage not in metric.fsm_stages:
                continue
            value = metric.extract(env)
            self.values[name].append(value)
            step[name] = value
        return step

    def summary(self) -> dict[str, float]:
        """Each metric's episode values reduced to one number."""
        return {name: m.reduce_values(self.values[name]) for name, m in self.metrics.items()}
