"""The timing loop both side-by-side worker programs share (phantomzoo's and Phantom's).

Imported by ``side_pz_worker.py`` (phantomzoo's venv) and ``side_phantom_worker.py``
(Phantom's venv), so it uses only the standard library and numpy. Keeping one loop for
both systems is what makes their figures comparable: the same warm-up, the same episode
seeds, the same stopping rule, the same clocks and the same contention estimate.

A worker supplies two callables:

* ``warm_up()``: one reset and a few steps, not timed;
* ``episode(seed) -> EpisodeCount``: one whole episode, reset included, with uniform
  random actions drawn as one ``Generator.uniform`` batch per step (see
  :class:`ActionDraw`).

:func:`measure` runs episodes with seeds ``seed, seed + 1, ...`` until at least
``min_seconds`` of wall time have passed and returns the rates as a dict;
:func:`emit` prints it as the one JSON line the runner (``phantom_side.py``) reads.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Steps of warm-up after the first reset (not timed, not counted).
WARMUP_STEPS = 10
#: Prefix of the one result line on stdout (other output is ignored by the runner).
RESULT_PREFIX = "SIDE_RESULT "


@dataclass
class EpisodeCount:
    """What one episode did.

    Attributes:
        env_steps: Steps as the metric counts them (supply chain: ``step`` calls; ads:
            impressions).
        agent_steps: Actions actually passed to the env by acting strategic agents.
        acting_steps: Steps in which at least one strategic agent acted.
        extra: Counters specific to a system or API (e.g. AEC dead-agent steps).
    """

    env_steps: int = 0
    agent_steps: int = 0
    acting_steps: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class ActionDraw:
    """Uniform random actions in ``[low, high)``, one seeded numpy batch per step."""

    def __init__(self, low: float, high: float, shape: Sequence[int], seed: int) -> None:
        self.low, self.high, self.shape = low, high, tuple(shape)
        self.rng = np.random.default_rng(seed)

    def batch(self, count: int) -> np.ndarray:
        """``count`` actions as float32 rows (one ``uniform`` call)."""
        size = (count, *self.shape)
        return self.rng.uniform(self.low, self.high, size=size).astype(np.float32)

    def for_agents(self, agents: Sequence[Any]) -> dict[Any, np.ndarray]:
        """One action per agent, from one batch."""
        return dict(zip(agents, self.batch(len(agents))))


def busy_jiffies() -> int | None:
    """Busy clock ticks summed over all CPUs, from ``/proc/stat`` (None off Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle


def other_cores(j0: int | None, j1: int | None, cpu: float, wall: float) -> float | None:
    """CPUs kept busy by *other* processes during a measurement (contention estimate)."""
    if j0 is None or j1 is None or wall <= 0:
        return None
    return ((j1 - j0) / os.sysconf("SC_CLK_TCK") - cpu) / wall


def measure(
    warm_up: Callable[[], None],
    episode: Callable[[int], EpisodeCount],
    min_seconds: float,
    seed: int,
) -> dict[str, Any]:
    """Whole episodes (seeds ``seed + e``) until ``min_seconds`` of wall time; the rates."""
    warm_up()
    total = EpisodeCount()
    episodes = 0
    j0 = busy_jiffies()
    start, cpu0 = time.perf_counter(), time.process_time()
    while True:
        count = episode(seed + episodes)
        episodes += 1
        total.env_steps += count.env_steps
        total.agent_steps += count.agent_steps
        total.acting_steps += count.acting_steps
        for key, value in count.extra.items():
            total.extra[key] = total.extra.get(key, 0) + value
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            break
    cpu = time.process_time() - cpu0
    return rates(total, episodes, seconds, cpu, other_cores(j0, busy_jiffies(), cpu, seconds))


def rates(
    total: EpisodeCount, episodes: int, seconds: float, cpu: float, others: float | None
) -> dict[str, Any]:
    """The result dict of one measurement (wall and CPU-time rates, per-episode shape)."""
    agent_steps = max(1, total.agent_steps)
    return {
        "env_steps": total.env_steps,
        "agent_steps": total.agent_steps,
        "episodes": episodes,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "cpu_over_wall": cpu / seconds,
        "other_cores": others,
        "env_steps_per_s": total.env_steps / seconds,
        "agent_steps_per_s": total.agent_steps / seconds,
        "agent_steps_per_cpu_s": total.agent_steps / max(cpu, 1e-9),
        "us_per_agent_step": 1e6 * seconds / agent_steps,
        "acting_per_acting_step": total.agent_steps / max(1, total.acting_steps),
        "steps_per_episode": total.env_steps / episodes,
        **total.extra,
    }


def parse_worker_args(argv: Sequence[str], kinds: Sequence[str]) -> dict[str, Any]:
    """``KIND N MIN_SECONDS SEED [--count]`` -> a dict; exits with status 2 when malformed."""
    args = [a for a in argv if a != "--count"]
    try:
        kind, n, min_seconds, seed = args[0], int(args[1]), float(args[2]), int(args[3])
    except (IndexError, ValueError):
        fail(f"usage: KIND N MIN_SECONDS SEED [--count] with KIND in {list(kinds)}; got {argv}")
    if kind not in kinds or n < 1 or not min_seconds > 0:
        fail(f"bad arguments {list(argv)}: KIND in {list(kinds)}, N >= 1, MIN_SECONDS > 0")
    return {
        "kind": kind,
        "n": n,
        "min_seconds": min_seconds,
        "seed": seed,
        "count": "--count" in argv,
    }


def fail(message: str) -> None:
    """Print ``message`` on stderr and exit with status 2 (the runner shows it)."""
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(2)


def emit(result: dict[str, Any]) -> None:
    """Print ``result`` as the one JSON result line the runner parses."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)
