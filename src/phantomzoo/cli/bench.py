"""A generic throughput harness: steps per second of any environment, tables, JSON.

Throughput is measured the way a trainer uses an environment: whole episodes, resets
included, with actions from an *act function* (by default uniform random actions drawn
from a seeded generator, one batch per block of steps, so drawing costs next to
nothing). Any phantomzoo env works: a PettingZoo ``ParallelEnv`` is driven through
``reset``/``step``, any other env through the acting-agents protocol
(``acting_reset``/``acting_agents``/``acting_step``).

Model-specific measurements (a hand-written floor, per-size rows) live next to their
model, in the bench module the registry names (``throughput`` hook,
:mod:`phantomzoo.registry`); reference figures and speed goals live in ``benchmarks/``.
Nothing here asserts a speed.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from pettingzoo import ParallelEnv

from ..engine.masks import sample_legal
from ..errors import ConfigError
from ..registry import make
from ..types import AgentID

#: Steps run (after a first reset) before timing starts; not counted.
WARMUP_STEPS = 10

#: Cost per agent-step "grows" when a larger size costs this many times a smaller one
#: (the slack absorbs timing noise).
GROWTH_TOLERANCE = 1.25

#: ``act(agents, observations) -> actions``: one action per agent of ``agents`` (the
#: agents that must act now); ``observations`` holds at least their observations.
ActFn = Callable[[Sequence[AgentID], Mapping[AgentID, Any]], Mapping[AgentID, Any]]


class ThroughputReport(TypedDict):
    """What a model's ``throughput`` hook returns (and :func:`generic_throughput`)."""

    title: str  # one line describing what was measured
    rows: list[dict[str, Any]]  # one per size measured
    columns: list[tuple[str, str, str]]  # (key, header, format) for format_table
    checks: list[dict[str, Any]]  # name, status (PASS/MISS/SKIP), detail


# --------------------------------------------------------------------------- actions
class RandomActions:
    """An act function drawing uniform random actions, seeded.

    When every agent shares one bounded ``Box`` action space, a whole block of steps is
    drawn in one NumPy call (a ``(steps, agents, *shape)`` array sliced per step);
    otherwise each agent samples its own space (copied, then seeded from ``seed``).
    """

    #: The measuring loop need not keep observations for this act function.
    needs_observations = False

    def __init__(self, env: Any, seed: int, block_steps: int | None = None) -> None:
        possible = list(env.possible_agents)
        self.env = env  # masked agents sample among their legal actions
        if not possible:
            raise ConfigError("the environment has no strategic agents to act")
        self.spaces = {agent: env.action_space(agent) for agent in possible}
        self.index = {agent: i for i, agent in enumerate(possible)}
        self.count = len(possible)
        self.steps = max(1, int(block_steps or getattr(env, "num_steps", 100) or 100))
        self.rng = np.random.default_rng(seed)
        first = self.spaces[possible[0]]
        shared = all(space == first for space in self.spaces.values())
        self.box = first if shared and _is_bounded_box(first) else None
        if self.box is None:
            self.spaces = {a: copy.deepcopy(s) for a, s in self.spaces.items()}
            for offset, space in enumerate(self.spaces.values()):
                space.seed(seed + offset)
        self.block: np.ndarray | None = None
        self.t = 0

    def __call__(
        self, agents: Sequence[AgentID], observations: Mapping[AgentID, Any] | None = None
    ) -> dict[AgentID, Any]:
        if self.box is None:
            return {agent: sample_legal(self.env, agent, self.spaces[agent]) for agent in agents}
        if self.block is None or self.t >= self.steps:
            size = (self.steps, self.count, *self.box.shape)
            self.block = self.rng.uniform(self.box.low, self.box.high, size=size).astype(
                self.box.dtype
            )
            self.t = 0
        rows = self.block[self.t]
        self.t += 1
        if len(agents) == self.count:
            return dict(zip(agents, rows))
        return {agent: rows[self.index[agent]] for agent in agents}


def _is_bounded_box(space: Any) -> bool:
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if low is None or high is None or not hasattr(space, "shape"):
        return False
    return bool(np.all(np.isfinite(low)) and np.all(np.isfinite(high)))


def policy_actions(policies: Any) -> ActFn:
    """An act function from anything with ``compute_actions(observations) -> actions``
    (a :class:`~phantomzoo.TrainedPolicies` or a policy)."""

    def act(agents: Sequence[AgentID], observations: Mapping[AgentID, Any]) -> Mapping[Any, Any]:
        return policies.compute_actions({agent: observations[agent] for agent in agents})

    return act


# --------------------------------------------------------------------------- measurement
def _rates(env_steps: int, agent_steps: int, seconds: float, cpu: float) -> dict[str, float]:
    """The throughput summary of ``env_steps`` steps taking ``seconds`` (``cpu`` of CPU)."""
    return {
        "env_steps": env_steps,
        "agent_steps": agent_steps,
        "seconds": seconds,
        "env_steps_per_s": env_steps / seconds,
        "agent_steps_per_s": agent_steps / seconds,
        "us_per_agent_step": 1e6 * seconds / agent_steps,
        "cpu_us_per_agent_step": 1e6 * cpu / agent_steps,
    }


def check_budget(min_seconds: float) -> None:
    """ConfigError unless ``min_seconds`` is a positive finite number of seconds."""
    if not (isinstance(min_seconds, (int, float)) and 0 < min_seconds < float("inf")):
        raise ConfigError(f"min_seconds must be a number > 0, got {min_seconds!r}")


def _driver(env: Any, protocol: str | None) -> tuple[Callable[..., Any], Callable[..., Any], Any]:
    """``(reset, step, live)`` of ``env`` for the protocol asked for (or the natural one)."""
    if protocol is None:
        protocol = "parallel" if isinstance(env, ParallelEnv) else "acting"
    if protocol == "parallel":
        if not hasattr(env, "agents"):
            raise ConfigError(f"{type(env).__name__} is not a ParallelEnv; use protocol='acting'")
        return env.reset, env.step, lambda: env.agents
    if protocol == "acting":
        if not hasattr(env, "acting_step"):
            raise ConfigError(
                f"{type(env).__name__} has no acting_reset/acting_step (the acting-agents "
                "protocol); give a phantomzoo env or a ParallelEnv with protocol='parallel'"
            )
        return env.acting_reset, env.acting_step, lambda: env.acting_agents
    raise ConfigError(f"protocol must be 'parallel', 'acting' or None, got {protocol!r}")


def measure_env_throughput(
    env_fn: Callable[[], Any],
    num_strategic: int | None = None,
    min_seconds: float = 2.0,
    seed: int = 0,
    *,
    act: ActFn | None = None,
    protocol: str | None = None,
) -> dict[str, float]:
    """Steps per second of one environment, whole episodes, resets included.

    Builds the env, warms it up (a reset and :data:`WARMUP_STEPS` steps, not counted),
    then runs whole episodes (seeds ``seed``, ``seed + 1``, ...) until at least
    ``min_seconds`` of wall time have passed; the last episode is always finished.

    Args:
        env_fn: Builds the environment (called once).
        num_strategic: Number of strategic agents the env must have, checked against
            ``env.possible_agents`` when given.
        min_seconds: Least wall time to measure.
        seed: Seed of the episodes and of the random actions.
        act: Chooses the actions (default: :class:`RandomActions` seeded with ``seed``).
        protocol: ``"parallel"`` (``reset``/``step``), ``"acting"`` (the acting-agents
            protocol) or ``None``: parallel for a ``ParallelEnv``, acting otherwise.

    Returns:
        ``env_steps``, ``agent_steps`` (strategic agent-steps), ``seconds``,
        ``env_steps_per_s``, ``agent_steps_per_s``, ``us_per_agent_step`` and
        ``cpu_us_per_agent_step`` (process CPU time, less inflated by other programs).
    """
    check_budget(min_seconds)
    env = env_fn()
    if num_strategic is not None and len(env.possible_agents) != num_strategic:
        raise ConfigError(
            f"expected {num_strategic} strategic agents, the env has {len(env.possible_agents)}"
        )
    reset, step, live = _driver(env, protocol)
    act = RandomActions(env, seed) if act is None else act
    keep = getattr(act, "needs_observations", True)

    observations, _ = reset(seed=seed)
    for _ in range(WARMUP_STEPS):
        agents = live()
        if not agents:
            break
        observations = step(act(agents, observations))[0]

    env_steps = agent_steps = episode = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while True:
        steps, acted = _episode(reset, step, live, act, seed + episode, keep)
        env_steps, agent_steps, episode = env_steps + steps, agent_steps + acted, episode + 1
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            break
    cpu = time.process_time() - cpu_start
    env.close()
    if not agent_steps:
        raise ConfigError("the environment's episodes ended before any agent acted")
    return _rates(env_steps, agent_steps, seconds, cpu)


def _episode(
    reset: Callable[..., Any],
    step: Callable[..., Any],
    live: Callable[[], Sequence[AgentID]],
    act: ActFn,
    seed: int,
    keep: bool,
) -> tuple[int, int]:
    """Play one episode; ``(env-steps, agent-steps)``. Without ``keep`` the observations
    are dropped as soon as they arrive (an act function that ignores them, such as
    :class:`RandomActions`, then costs no extra allocation per step)."""
    env_steps = agent_steps = 0
    observations, _ = reset(seed=seed)
    agents = live()
    if keep:
        while agents:
            observations = step(act(agents, observations))[0]
            env_steps += 1
            agent_steps += len(agents)
            agents = live()
        return env_steps, agent_steps
    while agents:
        step(act(agents, None))
        env_steps += 1
        agent_steps += len(agents)
        agents = live()
    return env_steps, agent_steps


def median_run(
    measure: Callable[[], dict[str, float]], repeats: int = 3, key: str = "agent_steps_per_s"
) -> dict[str, float]:
    """Run ``measure`` ``repeats`` times; the run with the median ``key``, plus its range.

    Shared, virtualised 2-core machines are noisy (one run can be 30% off); the median
    of repeats is a steadier figure than any single run. The result adds
    ``<key>_min``, ``<key>_max`` and ``repeats``.
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"repeats must be an int >= 1, got {repeats!r}")
    runs = sorted((measure() for _ in range(repeats)), key=lambda r: r[key])
    median = dict(runs[len(runs) // 2])
    median.update({f"{key}_min": runs[0][key], f"{key}_max": runs[-1][key], "repeats": repeats})
    return median


GENERIC_COLUMNS: list[tuple[str, str, str]] = [
    ("env", "env", ""),
    ("agents", "agents", ",d"),
    ("strategic", "strategic", ",d"),
    ("env_steps_per_s", "env-steps/s", ",.0f"),
    ("agent_steps_per_s", "agent-steps/s", ",.0f"),
    ("agent_steps_per_s_min", "min", ",.0f"),
    ("agent_steps_per_s_max", "max", ",.0f"),
    ("us_per_agent_step", "µs/agent-step", ".2f"),
]
"""Columns of :func:`generic_throughput` rows for :func:`format_table`."""


def measure_registered(
    env_id: str,
    config: Mapping[str, Any] | None = None,
    min_seconds: float = 2.0,
    seed: int = 0,
    repeats: int = 3,
    act: ActFn | None = None,
) -> dict[str, Any]:
    """One throughput row of the registered environment ``env_id`` built with ``config``."""
    settings = dict(config or {})
    probe = make(env_id, **settings)
    network = getattr(probe, "network", None)
    row: dict[str, Any] = {
        "env": env_id,
        "config": settings,
        "agents": len(network) if network is not None else len(probe.possible_agents),
        "strategic": len(probe.possible_agents),
    }

    def once() -> dict[str, float]:
        return measure_env_throughput(
            lambda: make(env_id, **settings), None, min_seconds, seed, act=act
        )

    row.update(median_run(once, repeats))
    return row


def generic_throughput(
    env_id: str,
    config: Mapping[str, Any] | None = None,
    min_seconds: float = 2.0,
    seed: int = 0,
    repeats: int = 3,
) -> ThroughputReport:
    """The throughput report of an env whose bench module has no ``throughput`` hook."""
    row = measure_registered(env_id, config, min_seconds, seed, repeats)
    title = (
        f"{env_id}, random actions, median of {repeats} runs of >= {min_seconds:g} s "
        f"(min-max shown)"
    )
    return {"title": title, "rows": [row], "columns": GENERIC_COLUMNS, "checks": []}


# --------------------------------------------------------------------------- checks
def growth_check(
    rows: Sequence[Mapping[str, Any]],
    size_key: str,
    cost_key: str,
    unit: str = "agent-step",
    tolerance: float = GROWTH_TOLERANCE,
) -> dict[str, Any]:
    """Whether the cost per agent-step stays flat as the size grows.

    PASS when no larger size costs more than ``tolerance`` times a smaller one; SKIP
    with fewer than two sizes. Returns ``name``, ``target``, ``measured`` (the worst
    growth), ``status``, ``detail`` and the cost by size.
    """
    name = f"cost per {unit} does not grow with {size_key}"
    costs = sorted((int(r[size_key]), float(r[cost_key])) for r in rows)
    result: dict[str, Any] = {"name": name, "target": tolerance, "by_size": dict(costs)}
    if len(costs) < 2:
        return {**result, "measured": None, "status": "SKIP", "detail": "needs two sizes"}
    growth, small, large = max(
        (later / earlier, n, m)
        for i, (n, earlier) in enumerate(costs)
        for m, later in costs[i + 1 :]
    )
    listing = ", ".join(f"{n:,}: {c:.2f}" for n, c in costs)
    detail = (
        f"µs/{unit} by {size_key} {{{listing}}}; worst growth {growth:.2f}x "
        f"({small:,} -> {large:,}; tolerance {tolerance:g}x)"
    )
    status = "PASS" if growth <= tolerance else "MISS"
    return {**result, "measured": growth, "status": status, "detail": detail}


def format_checks(checks: Sequence[Mapping[str, Any]]) -> str:
    """One ``  STATUS  name: detail`` line per check."""
    return "\n".join(f"  {c['status']:4}  {c['name']}: {c['detail']}" for c in checks)


# --------------------------------------------------------------------------- reporting
def _cell(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    if spec and isinstance(value, (int, float, np.integer, np.floating)):
        return format(value, spec)
    return str(value)


def format_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str] | tuple[str, str, str]]
) -> str:
    """A plain text table, columns aligned (numbers to the right, text to the left).

    Args:
        rows: One mapping per row.
        columns: ``(key, header)`` or ``(key, header, format_spec)`` per column; the
            spec (for example ``",.0f"``) applies to numbers. ``None`` shows as ``-``.
    """
    keys = [c[0] for c in columns]
    headers = [c[1] for c in columns]
    specs = [c[2] if len(c) > 2 else "" for c in columns]
    cells = [[_cell(row.get(k), s) for k, s in zip(keys, specs)] for row in rows]
    numeric = [
        all(isinstance(row.get(k), (int, float, np.number, type(None))) for row in rows)
        for k in keys
    ]
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def machine_info() -> dict[str, Any]:
    """The platform, Python and CPU count the measurements ran on."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
    }


def write_json(path: Path | str, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as indented JSON to ``path`` (parents created); ConfigError if not."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write results to {str(path)!r}: {exc.strerror}") from exc
    return path
