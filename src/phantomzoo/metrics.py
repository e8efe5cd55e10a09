"""Metrics: numbers recorded from a running environment every step.

A metric *extracts* one value from the environment after each step and *reduces* the
episode's values to one number. Metrics are plain objects handed to training and
rollouts (never process-global), so they work the same in worker processes::

    metrics = {
        "SHOP/stock": ph.metrics.SimpleAgentMetric("SHOP", "stock", "mean"),
        "SHOP/cost": ph.metrics.SimpleAgentMetric("SHOP", "type.cost_of_carry", "last"),
        "SHOP/sales": ph.metrics.SimpleAgentMetric("SHOP", "sales", "sum"),
    }

**Attributes** may be dotted paths (``"type.cost_of_carry"``), read one attribute at a
time, as in Phantom.

**Reduce** is a name (``last``, ``mean``, ``sum``, ``min``, ``max``) or any function
``values -> value``. As in Phantom there are two: ``train_reduce_action`` (used for the
training logs, must give one number) and ``eval_reduce_action`` (used by
``reduce(values, mode="evaluate")``; ``"none"`` keeps every step's value as an array,
the default for the simple metrics, as in Phantom). ``reduce=`` is accepted as another
name for ``train_reduce_action``. An episode without recorded values reduces to NaN.

``fsm_stages`` restricts a metric to the steps played in the given stages of a staged
environment.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import ConfigError

Reducer = Callable[[Sequence[Any]], Any]

REDUCERS: dict[str, Reducer] = {
    "last": lambda values: float(values[-1]),
    "mean": lambda values: float(np.mean(values)),
    "sum": lambda values: float(np.sum(values)),
    "min": lambda values: float(np.min(values)),
    "max": lambda values: float(np.max(values)),
}
#: Keeps every step's value (evaluation only): ``np.array(values)``.
NO_REDUCE = "none"
MODES = ("train", "evaluate")


class NotRecorded:
    """The value of a step a metric did not record (Phantom's marker); reduce skips it."""

    _instance: NotRecorded | None = None

    def __new__(cls) -> NotRecorded:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<NotRecorded>"


not_recorded = NotRecorded()


def _reducer(reduce: Any, label: str, *, allow_none: bool) -> str | Reducer:
    """A reduce given by name or as a function, checked."""
    if callable(reduce):
        return reduce
    names = sorted(REDUCERS) + ([NO_REDUCE] if allow_none else [])
    if reduce == NO_REDUCE and not allow_none:
        raise ConfigError(
            f"{label}='none' keeps every value, but training logs need one number; "
            f"use one of {sorted(REDUCERS)} or a function (values -> number)"
        )
    if not isinstance(reduce, str) or reduce not in names:
        raise ConfigError(
            f"unknown reduce {reduce!r} for {label}; use one of {names} or a function "
            "(values -> value)"
        )
    return reduce


def _either(label: str, value: Any, alias: str, alias_value: Any, default: Any) -> Any:
    """``value`` or its alias keyword (only one may be given)."""
    if alias_value is not None:
        if value is not None:
            raise ConfigError(f"give {label}= or {alias}=, not both (they are the same)")
        return alias_value
    return default if value is None else value


class Metric:
    """Base class: override :meth:`extract` (and :meth:`reduce`, if wanted).

    Args:
        fsm_stages: Only record steps played in these stages (staged envs).
        description: Free text describing the metric.
        train_reduce_action: Reduce for training (default ``"last"``, as in Phantom).
        eval_reduce_action: Reduce for evaluation (default: the training one).
        reduce: Another name for ``train_reduce_action``.
    """

    def __init__(
        self,
        fsm_stages: Iterable[Hashable] | None = None,
        description: str | None = None,
        *,
        train_reduce_action: str | Reducer | None = None,
        eval_reduce_action: str | Reducer | None = None,
        reduce: str | Reducer | None = None,
        _default: str = "last",
        _eval_default: str | None = None,
    ) -> None:
        train = _either("train_reduce_action", train_reduce_action, "reduce", reduce, _default)
        self.train_reduce_action = _reducer(train, "train_reduce_action", allow_none=False)
        evaluate = eval_reduce_action if eval_reduce_action is not None else _eval_default
        self.eval_reduce_action = (
            self.train_reduce_action
            if evaluate is None
            else _reducer(evaluate, "eval_reduce_action", allow_none=True)
        )
        self.fsm_stages = _stages(fsm_stages)
        if description is not None and not isinstance(description, str):
            raise ConfigError(f"metric description must be a string, got {description!r}")
        self.description = description

    def extract(self, env: Any) -> float:
        """The metric's value for the step just taken."""
        raise NotImplementedError

    def reduce(self, values: Sequence[Any], mode: str = "train") -> Any:
        """The episode's values reduced for ``mode`` (``"train"`` or ``"evaluate"``).

        Steps marked :data:`not_recorded` are skipped; no values give NaN (an empty
        array for ``"none"``).

        Raises:
            ConfigError: an unknown ``mode``.
        """
        if mode not in MODES:
            raise ConfigError(f"unknown metric reduce mode {mode!r}; use 'train' or 'evaluate'")
        action = self.train_reduce_action if mode == "train" else self.eval_reduce_action
        kept = [v for v in values if v is not not_recorded]
        if action == NO_REDUCE:
            return np.array(kept)
        if not kept:
            return float("nan")
        if callable(action):
            return action(kept)
        return REDUCERS[action](kept)

    def reduce_values(self, values: Sequence[Any]) -> Any:
        """The episode's values reduced for training (``reduce(values, "train")``)."""
        return self.reduce(values, "train")


class SimpleMetric(Metric):
    """Base of the helper metrics below (Phantom's name): a reduce by name or function,
    ``"mean"`` for training and ``"none"`` (every step's value) for evaluation unless
    given."""

    def __init__(
        self,
        train_reduce_action: str | Reducer | None = None,
        eval_reduce_action: str | Reducer | None = None,
        fsm_stages: Iterable[Hashable] | None = None,
        description: str | None = None,
        *,
        reduce: str | Reducer | None = None,
    ) -> None:
        super().__init__(
            fsm_stages,
            description,
            train_reduce_action=train_reduce_action,
            eval_reduce_action=eval_reduce_action,
            reduce=reduce,
            _default="mean",
            _eval_default=NO_REDUCE,
        )


class SimpleAgentMetric(SimpleMetric):
    """An attribute of one agent, e.g. ``SimpleAgentMetric("SHOP", "stock", "mean")``.

    ``agent_property`` may be a dotted path (``"type.cost_of_carry"``).
    """

    def __init__(
        self,
        agent_id: Hashable,
        agent_property: str,
        train_reduce_action: str | Reducer | None = None,
        eval_reduce_action: str | Reducer | None = None,
        fsm_stages: Iterable[Hashable] | None = None,
        description: str | None = None,
        *,
        reduce: str | Reducer | None = None,
    ) -> None:
        super().__init__(
            train_reduce_action, eval_reduce_action, fsm_stages, description, reduce=reduce
        )
        self.agent_id = agent_id
        self.agent_property = _path(agent_property)

    def extract(self, env: Any) -> float:
        return _number(_read(_agent(env, self.agent_id), self.agent_property, self.agent_id))


class SimpleEnvMetric(SimpleMetric):
    """An attribute of the environment (``env_property`` may be a dotted path)."""

    def __init__(
        self,
        env_property: str,
        train_reduce_action: str | Reducer | None = None,
        eval_reduce_action: str | Reducer | None = None,
        fsm_stages: Iterable[Hashable] | None = None,
        description: str | None = None,
        *,
        reduce: str | Reducer | None = None,
    ) -> None:
        super().__init__(
            train_reduce_action, eval_reduce_action, fsm_stages, description, reduce=reduce
        )
        self.env_property = _path(env_property)

    def extract(self, env: Any) -> float:
        return _number(_read(env, self.env_property, "the environment"))


class AggregatedAgentMetric(SimpleMetric):
    """An attribute over a group of agents, combined with ``group_reduce_action`` each step.

    ``group_reduce_action`` is ``min``, ``max``, ``mean``, ``sum`` (or ``last``) or a
    function; ``group_reduce=`` is another name for it.
    """

    def __init__(
        self,
        agent_ids: Sequence[Hashable],
        agent_property: str,
        group_reduce_action: str | Reducer | None = None,
        train_reduce_action: str | Reducer | None = None,
        eval_reduce_action: str | Reducer | None = None,
        fsm_stages: Iterable[Hashable] | None = None,
        description: str | None = None,
        *,
        group_reduce: str | Reducer | None = None,
        reduce: str | Reducer | None = None,
    ) -> None:
        super().__init__(
            train_reduce_action, eval_reduce_action, fsm_stages, description, reduce=reduce
        )
        if isinstance(agent_ids, (str, bytes)) or not agent_ids:
            raise ConfigError(
                f"AggregatedAgentMetric needs at least one agent id in a list, got {agent_ids!r}"
            )
        self.agent_ids = list(agent_ids)
        self.agent_property = _path(agent_property)
        group = _either(
            "group_reduce_action", group_reduce_action, "group_reduce", group_reduce, "mean"
        )
        self.group_reduce_action = _reducer(group, "group_reduce_action", allow_none=False)

    def extract(self, env: Any) -> float:
        values = [_number(_read(_agent(env, i), self.agent_property, i)) for i in self.agent_ids]
        action = self.group_reduce_action
        return _number(action(values) if callable(action) else REDUCERS[action](values))


class LambdaMetric(Metric):
    """A metric from a function ``extract_fn(env) -> number``.

    Args:
        extract_fn: Reads the value from the environment.
        train_reduce_fn: Reduce for training: a name or a function (default ``mean``).
        eval_reduce_fn: Reduce for evaluation (default: the training one).
        fsm_stages, description: As for :class:`Metric`.
        reduce: Another name for ``train_reduce_fn``.
    """

    def __init__(
        self,
        extract_fn: Callable[[Any], float],
        train_reduce_fn: str | Reducer | None = None,
        eval_reduce_fn: str | Reducer | None = None,
        fsm_stages: Iterable[Hashable] | None = None,
        description: str | None = None,
        *,
        reduce: str | Reducer | None = None,
    ) -> None:
        if not callable(extract_fn):
            raise ConfigError(f"LambdaMetric needs a callable, got {extract_fn!r}")
        super().__init__(
            fsm_stages,
            description,
            train_reduce_action=train_reduce_fn,
            eval_reduce_action=eval_reduce_fn,
            reduce=reduce,
            _default="mean",
        )
        self.extract_fn = extract_fn

    def extract(self, env: Any) -> float:
        return _number(self.extract_fn(env), "LambdaMetric's extract_fn")


# ------------------------------------------------------------------ helpers
def _stages(fsm_stages: Any) -> set[Hashable] | None:
    if fsm_stages is None:
        return None
    if isinstance(fsm_stages, (str, bytes)) or not isinstance(fsm_stages, Iterable):
        raise ConfigError(
            f"fsm_stages must be a list of stage ids, got {fsm_stages!r}; write "
            f"fsm_stages=[{fsm_stages!r}]"
        )
    return set(fsm_stages)


def _path(name: Any) -> str:
    if not isinstance(name, str) or not name or any(not part for part in name.split(".")):
        raise ConfigError(
            f"metric attribute must be a name or a dotted path such as 'type.cost', got {name!r}"
        )
    return name


def _agent(env: Any, agent_id: Hashable) -> Any:
    """The agent ``agent_id`` of ``env``: from its network, or a mapping ``env.agents``."""
    network = getattr(env, "network", None)
    if network is not None:
        if agent_id not in network:
            known = list(network)
            raise ConfigError(f"metric: no agent {agent_id!r} in the network; agents: {known}")
        return network[agent_id]
    agents = getattr(env, "agents", None)
    if isinstance(agents, Mapping):
        if agent_id not in agents:
            raise ConfigError(f"metric: no agent {agent_id!r}; agents: {list(agents)}")
        return agents[agent_id]
    raise ConfigError(
        f"metric: cannot find agent {agent_id!r}: the environment has neither a network "
        "nor an agents mapping"
    )


def _read(obj: Any, path: str, owner: Any) -> Any:
    """``obj.a.b.c`` for the path ``"a.b.c"``, naming the part that is missing."""
    value = obj
    walked: list[str] = []
    for part in path.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            where = (owner if isinstance(owner, str) and " " in owner else repr(owner)) + "".join(
                f".{w}" for w in walked
            )
            raise ConfigError(
                f"metric: {where} has no attribute {part!r}"
                + (f" (reading {path!r})" if walked else "")
            ) from None
        walked.append(part)
    return value


def _number(value: Any, what: str = "metric") -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{what}: the value {value!r} is not a number; metrics record numbers"
        ) from None


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

    def summary(self, mode: str = "train") -> dict[str, Any]:
        """Each metric's episode values reduced for ``mode``.

        In ``"train"`` mode every result is one float (training logs plot numbers).

        Raises:
            ConfigError: a training reduce function that returned something else.
        """
        out = {name: m.reduce(self.values[name], mode) for name, m in self.metrics.items()}
        if mode == "train":
            for name, value in out.items():
                out[name] = _number(value, f"metric {name!r}: its train reduce")
        return out
