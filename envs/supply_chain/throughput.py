"""Throughput of the tutorial supply chain next to its plain-Python floor.

Each size (number of shops) is measured twice, the same way: ``supply_chain_v0`` through
the generic harness (:func:`phantomzoo.cli.bench.measure_env_throughput`) and the
hand-written floor (:class:`.floor.PlainSupplyChain`): whole episodes, resets included,
one batch of uniform random actions per block of steps, the median of ``repeats`` runs.
The ``ours/floor`` ratio is the cost of the agent/message/network machinery over plain
code. (Reference figures of other frameworks live in ``benchmarks/``, not here.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from phantomzoo.cli.bench import (
    WARMUP_STEPS,
    ThroughputReport,
    check_budget,
    growth_check,
    measure_env_throughput,
    median_run,
)
from phantomzoo.errors import ConfigError
from phantomzoo.registry import make

from .floor import PlainSupplyChain

#: Sizes ``phantomzoo bench supply_chain_v0`` measures unless ``--sizes`` says otherwise.
DEFAULT_SIZES = (1, 10, 100, 1000)

THROUGHPUT_COLUMNS: list[tuple[str, str, str]] = [
    ("shops", "shops", ",d"),
    ("agents", "agents", ",d"),
    ("env_steps_per_s", "env-steps/s", ",.0f"),
    ("shop_steps_per_s", "shop-steps/s", ",.0f"),
    ("floor_env_steps_per_s", "floor env-steps/s", ",.0f"),
    ("floor_shop_steps_per_s", "floor shop-steps/s", ",.0f"),
    ("ratio_vs_floor", "ours/floor", ".2f"),
    ("us_per_shop_step", "µs/shop-step", ".2f"),
]
"""Columns of the throughput table for ``format_table``: (key, header, format)."""


def measure_floor_throughput(
    num_shops: int, min_seconds: float = 2.0, seed: int = 0
) -> dict[str, float]:
    """Steps per second of the plain-Python supply chain, measured like the framework:
    same warm-up, whole episodes, resets included and batched uniform actions."""
    check_budget(min_seconds)
    floor = PlainSupplyChain(num_shops)
    rng = np.random.default_rng(seed)
    high = float(floor.max_stock)
    block: list[np.ndarray] = []

    def actions() -> np.ndarray:  # drawn a block of steps at a time, as for the framework
        if not block:
            draws = rng.uniform(0.0, high, size=(floor.num_steps, num_shops, 1))
            block.extend(reversed(list(draws.astype(np.float32))))
        return block.pop()

    floor.reset(seed)
    for _ in range(min(WARMUP_STEPS, floor.num_steps - 1)):
        floor.step(actions())

    env_steps = episode = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while True:
        floor.reset(seed + episode)
        episode += 1
        done = False
        while not done:
            _, _, done = floor.step(actions())
            env_steps += 1
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            break
    cpu = time.process_time() - cpu_start
    agent_steps = env_steps * num_shops
    return {
        "env_steps": env_steps,
        "agent_steps": agent_steps,
        "seconds": seconds,
        "env_steps_per_s": env_steps / seconds,
        "agent_steps_per_s": agent_steps / seconds,
        "us_per_agent_step": 1e6 * seconds / agent_steps,
        "cpu_us_per_agent_step": 1e6 * cpu / agent_steps,
    }


def supply_chain_row(
    num_shops: int, min_seconds: float = 2.0, seed: int = 0, repeats: int = 3
) -> dict[str, Any]:
    """One row of :func:`supply_chain_throughput_table` (one number of shops)."""

    def build() -> Any:
        return make("supply_chain_v0", num_shops=num_shops)

    num_agents = len(build().network)
    ours = median_run(lambda: measure_env_throughput(build, num_shops, min_seconds, seed), repeats)
    floor = median_run(lambda: measure_floor_throughput(num_shops, min_seconds, seed), repeats)
    return {
        "shops": num_shops,
        "agents": num_agents,
        "env_steps_per_s": ours["env_steps_per_s"],
        "shop_steps_per_s": ours["agent_steps_per_s"],
        "shop_steps_per_s_min": ours["agent_steps_per_s_min"],
        "shop_steps_per_s_max": ours["agent_steps_per_s_max"],
        "floor_env_steps_per_s": floor["env_steps_per_s"],
        "floor_shop_steps_per_s": floor["agent_steps_per_s"],
        "ratio_vs_floor": ours["agent_steps_per_s"] / floor["agent_steps_per_s"],
        "us_per_shop_step": ours["us_per_agent_step"],
        "floor_us_per_shop_step": floor["us_per_agent_step"],
        "env_steps_measured": ours["env_steps"],
        "seconds_measured": ours["seconds"],
    }


def supply_chain_throughput_table(
    shop_counts: Sequence[int] = DEFAULT_SIZES,
    min_seconds: float = 2.0,
    seed: int = 0,
    repeats: int = 3,
) -> list[dict[str, Any]]:
    """Throughput of ``supply_chain_v0`` and of its plain-Python floor at each size.

    Returns:
        One dict per size with ``shops``, ``agents`` (all agents in the network),
        ``env_steps_per_s``, ``shop_steps_per_s`` (with ``_min``/``_max`` over the
        repeats), the floor's two rates, ``ratio_vs_floor`` and ``us_per_shop_step``.
    """
    counts = [int(n) for n in shop_counts]
    if not counts or any(n < 1 for n in counts):
        raise ConfigError(f"shop counts must be integers >= 1, got {list(shop_counts)}")
    return [supply_chain_row(n, min_seconds, seed, repeats) for n in counts]


def throughput(
    sizes: Sequence[int] | None = None, min_seconds: float = 2.0, seed: int = 0, repeats: int = 3
) -> ThroughputReport:
    """The ``throughput`` bench hook: the table at ``sizes`` shops and the scaling check."""
    sizes = tuple(DEFAULT_SIZES if sizes is None else sizes)
    rows = supply_chain_throughput_table(sizes, min_seconds, seed, repeats)
    shops = ", ".join(str(n) for n in sizes)
    title = (
        f"Throughput: random actions, >= {min_seconds:g} s per measurement, median of "
        f"{repeats}, shops {shops}"
    )
    checks = [growth_check(rows, "shops", "us_per_shop_step", unit="shop-step")]
    return {"title": title, "rows": rows, "columns": THROUGHPUT_COLUMNS, "checks": checks}
