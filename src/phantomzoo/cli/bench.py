"""Throughput and baseline measurements shared by ``benchmarks/`` and ``phantomzoo bench``.

Throughput is measured the way a trainer uses an environment: whole episodes, resets
included, under uniform random actions drawn in one batch per step from a seeded
generator. The supply-chain table sets phantomzoo against a hand-written plain-Python
*floor* of the same dynamics (:class:`phantomzoo.envs.supply_chain.floor.PlainSupplyChain`)
and against the figures Phantom 2.2 reached on the same kind of machine.

This module imports only numpy and phantomzoo at import time; the supply chain is
imported when a function needs it. Nothing here asserts a speed: the goals are checked
and reported by :func:`check_goals`, never enforced.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..registry import make

#: Phantom 2.2 on the reference machine, in shop-steps per second by number of shops.
#: (With one shop an env-step is a shop-step: 11,600 env-steps/s.) No other sizes were
#: measured; rows for other sizes carry ``None``.
PHANTOM_REFERENCE: dict[int, float] = {1: 11_600.0, 1000: 7_000.0}

#: Speed-up over Phantom 2.2 that phantomzoo aims for, by number of shops.
SPEEDUP_GOALS: dict[int, float] = {1: 5.0, 1000: 10.0}

#: Cost per shop-step "grows" when a larger size costs this many times a smaller one
#: (the slack absorbs timing noise).
GROWTH_TOLERANCE = 1.25

#: Steps run (after a first reset) before timing starts; not counted.
WARMUP_STEPS = 10


# --------------------------------------------------------------------------- measurement
def _rates(env_steps: int, agent_steps: int, seconds: float) -> dict[str, float]:
    """The throughput summary of ``env_steps`` steps taking ``seconds``."""
    return {
        "env_steps": env_steps,
        "agent_steps": agent_steps,
        "seconds": seconds,
        "env_steps_per_s": env_steps / seconds,
        "agent_steps_per_s": agent_steps / seconds,
        "us_per_agent_step": 1e6 * seconds / agent_steps,
    }


def _check_budget(min_seconds: float) -> None:
    if not min_seconds > 0:
        raise ConfigError(f"min_seconds must be > 0, got {min_seconds!r}")


def _shared_box(env: Any) -> Any:
    """The action space every strategic agent of ``env`` shares (a bounded Box)."""
    spaces = [env.action_space(i) for i in env.possible_agents]
    if not spaces:
        raise ConfigError("the environment has no strategic agents to act")
    first = spaces[0]
    if not (hasattr(first, "low") and hasattr(first, "high")):
        raise ConfigError(f"throughput needs Box action spaces, got {first!r}")
    if any(s != first for s in spaces[1:]):
        raise ConfigError("throughput needs all strategic agents to share one action space")
    return first


class _ActionBlocks:
    """Uniform random actions drawn a block of steps at a time (one NumPy call per block).

    Drawing is not what is being measured, so it is batched as far as possible: one
    ``(steps, agents, *shape)`` array per block, sliced into per-step dicts.
    """

    def __init__(self, rng: np.random.Generator, space: Any, possible: list[Any], steps: int):
        self.rng, self.space, self.steps = rng, space, max(1, steps)
        self.index = {agent: i for i, agent in enumerate(possible)}
        self.count = len(possible)
        self.block: np.ndarray | None = None
        self.t = 0

    def next(self, agents: list[Any]) -> dict[Any, Any]:
        if self.block is None or self.t >= self.steps:
            low, high = self.space.low, self.space.high
            self.block = self.rng.uniform(
                low, high, size=(self.steps, self.count, *self.space.shape)
            ).astype(np.float32)
            self.t = 0
        rows = self.block[self.t]
        self.t += 1
        if len(agents) == self.count:
            return dict(zip(agents, rows))
        return {agent: rows[self.index[agent]] for agent in agents}


def measure_env_throughput(
    env_fn: Callable[[], Any],
    num_strategic: int | None = None,
    min_seconds: float = 2.0,
    seed: int = 0,
) -> dict[str, float]:
    """Steps per second of a PettingZoo ``ParallelEnv`` under uniform random actions.

    Builds the env, warms it up (a reset and :data:`WARMUP_STEPS` steps, not counted),
    then runs whole episodes (seeds ``seed``, ``seed + 1``, ...), resets included, until
    at least ``min_seconds`` of wall time have passed.

    Args:
        env_fn: Builds the environment (called once).
        num_strategic: Number of strategic agents the env must have, checked against
            ``env.possible_agents`` when given.
        min_seconds: Least wall time to measure; the last episode is always finished.
        seed: Seed of the episodes and of the action generator.

    Returns:
        ``env_steps``, ``agent_steps`` (strategic agent-steps), ``seconds``,
        ``env_steps_per_s``, ``agent_steps_per_s`` and ``us_per_agent_step``.
    """
    _check_budget(min_seconds)
    env = env_fn()
    if num_strategic is not None and len(env.possible_agents) != num_strategic:
        raise ConfigError(
            f"expected {num_strategic} strategic agents, the env has {len(env.possible_agents)}"
        )
    space = _shared_box(env)
    draws = _ActionBlocks(
        np.random.default_rng(seed),
        space,
        list(env.possible_agents),
        getattr(env, "num_steps", 100),
    )

    env.reset(seed=seed)
    for _ in range(WARMUP_STEPS):
        if not env.agents:
            break
        env.step(draws.next(env.agents))

    env_steps = agent_steps = episode = 0
    start = time.perf_counter()
    while True:
        env.reset(seed=seed + episode)
        episode += 1
        while env.agents:
            agents = env.agents
            env.step(draws.next(agents))
            env_steps += 1
            agent_steps += len(agents)
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            break
    env.close()
    return _rates(env_steps, agent_steps, seconds)


def measure_floor_throughput(
    num_shops: int, min_seconds: float = 2.0, seed: int = 0
) -> dict[str, float]:
    """Steps per second of the plain-Python supply chain (the floor), measured like
    :func:`measure_env_throughput`: same warm-up, whole episodes, resets included and
    one batch of uniform actions per step.
    """
    from phantomzoo.envs.supply_chain.floor import PlainSupplyChain

    _check_budget(min_seconds)
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
    start = time.perf_counter()
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
    return _rates(env_steps, env_steps * num_shops, seconds)


# --------------------------------------------------------------------------- supply chain
def _median_run(measure: Callable[[], dict[str, float]], repeats: int) -> dict[str, float]:
    """Run ``measure`` ``repeats`` times; keep the run with the median agent-step rate.

    Shared, virtualised 2-core machines are noisy (one run can be 30% off); the median
    of interleaved repeats is a steadier figure than any single run.
    """
    runs = sorted((measure() for _ in range(max(1, repeats))), key=lambda r: r["agent_steps_per_s"])
    return runs[len(runs) // 2]


def supply_chain_row(
    num_shops: int, min_seconds: float = 2.0, seed: int = 0, repeats: int = 3
) -> dict[str, Any]:
    """One row of :func:`supply_chain_throughput_table` (one number of shops).

    Each of the framework and the floor is measured ``repeats`` times for
    ``min_seconds`` each; the median run is reported.
    """

    def build() -> Any:
        return make("supply_chain_v0", num_shops=num_shops)

    num_agents = len(build().network)
    ours = _median_run(lambda: measure_env_throughput(build, num_shops, min_seconds, seed), repeats)
    floor = _median_run(lambda: measure_floor_throughput(num_shops, min_seconds, seed), repeats)
    reference = PHANTOM_REFERENCE.get(num_shops)
    return {
        "shops": num_shops,
        "agents": num_agents,
        "env_steps_per_s": ours["env_steps_per_s"],
        "shop_steps_per_s": ours["agent_steps_per_s"],
        "floor_env_steps_per_s": floor["env_steps_per_s"],
        "floor_shop_steps_per_s": floor["agent_steps_per_s"],
        "ratio_vs_floor": ours["agent_steps_per_s"] / floor["agent_steps_per_s"],
        "us_per_shop_step": ours["us_per_agent_step"],
        "floor_us_per_shop_step": floor["us_per_agent_step"],
        "phantom_env_steps_per_s": None if reference is None else reference / num_shops,
        "phantom_shop_steps_per_s": reference,
        "speedup_vs_phantom": None if reference is None else ours["agent_steps_per_s"] / reference,
        "env_steps_measured": ours["env_steps"],
        "seconds_measured": ours["seconds"],
    }


def supply_chain_throughput_table(
    shop_counts: Sequence[int] = (1, 10, 100, 1000),
    min_seconds: float = 2.0,
    seed: int = 0,
    repeats: int = 3,
) -> list[dict[str, Any]]:
    """Throughput of ``supply_chain_v0`` and of its plain-Python floor at each size.

    Args:
        shop_counts: Numbers of shops to measure.
        min_seconds: Least wall time per measurement (framework and floor each).
        seed: Seed of episodes and actions.
        repeats: Measurements per size and side; the median is reported.

    Returns:
        One dict per size with ``shops``, ``agents`` (all agents in the network),
        ``env_steps_per_s``, ``shop_steps_per_s``, the floor's two rates,
        ``ratio_vs_floor`` (framework / floor shop-steps per second),
        ``us_per_shop_step``, the Phantom 2.2 reference rates and ``speedup_vs_phantom``
        (``None`` where Phantom has no reference figure).
    """
    counts = [int(n) for n in shop_counts]
    if not counts or any(n < 1 for n in counts):
        raise ConfigError(f"shop counts must be integers >= 1, got {list(shop_counts)}")
    return [supply_chain_row(n, min_seconds, seed, repeats) for n in counts]


THROUGHPUT_COLUMNS: list[tuple[str, str, str]] = [
    ("shops", "shops", ",d"),
    ("agents", "agents", ",d"),
    ("env_steps_per_s", "env-steps/s", ",.0f"),
    ("shop_steps_per_s", "shop-steps/s", ",.0f"),
    ("floor_env_steps_per_s", "floor env-steps/s", ",.0f"),
    ("floor_shop_steps_per_s", "floor shop-steps/s", ",.0f"),
    ("ratio_vs_floor", "ours/floor", ".2f"),
    ("us_per_shop_step", "µs/shop-step", ".2f"),
    ("phantom_shop_steps_per_s", "Phantom 2.2 shop-steps/s", ",.0f"),
    ("speedup_vs_phantom", "vs Phantom", ".1f"),
]
"""Columns of the throughput table for :func:`format_table`: (key, header, format)."""


def check_goals(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Compare a throughput table with the speed goals and the scaling goal.

    The speed goals are :data:`SPEEDUP_GOALS` times :data:`PHANTOM_REFERENCE` in
    shop-steps per second (at one shop, env-steps per second). The scaling goal is that
    the cost per shop-step does not grow with the number of shops: no larger size may
    cost more than :data:`GROWTH_TOLERANCE` times a smaller one.

    Returns:
        One dict per goal: ``name``, ``target``, ``measured``, ``status`` (``"PASS"``,
        ``"MISS"`` or ``"SKIP"`` when the table lacks the size) and ``detail``.
    """
    by_shops = {int(r["shops"]): r for r in rows}
    checks = [_speed_goal(by_shops.get(n), n, factor) for n, factor in SPEEDUP_GOALS.items()]
    checks.append(_scaling_goal(rows))
    return checks


def _speed_goal(row: Mapping[str, Any] | None, shops: int, factor: float) -> dict[str, Any]:
    target = factor * PHANTOM_REFERENCE[shops]
    unit = "env-steps/s" if shops == 1 else "shop-steps/s"
    name = f"{factor:g}x Phantom 2.2 at {shops} shop{'s' if shops > 1 else ''}"
    if row is None:
        return {
            "name": name,
            "target": target,
            "measured": None,
            "status": "SKIP",
            "detail": f"{shops} shops not measured",
        }
    measured = float(row["shop_steps_per_s"])
    status = "PASS" if measured >= target else "MISS"
    detail = f"{measured:,.0f} {unit} (target >= {target:,.0f}; {measured / target:.2f}x target)"
    return {
        "name": name,
        "target": target,
        "measured": measured,
        "status": status,
        "detail": detail,
    }


def _scaling_goal(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    name = "cost per shop-step does not grow with shops"
    ordered = sorted(rows, key=lambda r: r["shops"])
    costs = [(int(r["shops"]), float(r["us_per_shop_step"])) for r in ordered]
    if len(costs) < 2:
        return {
            "name": name,
            "target": GROWTH_TOLERANCE,
            "measured": None,
            "status": "SKIP",
            "detail": "needs at least two sizes",
            "us_per_shop_step": dict(costs),
        }
    worst = max(
        (later / earlier, small, large)
        for i, (small, earlier) in enumerate(costs)
        for large, later in costs[i + 1 :]
    )
    growth, small, large = worst
    status = "PASS" if growth <= GROWTH_TOLERANCE else "MISS"
    listing = ", ".join(f"{n:,}: {c:.2f}" for n, c in costs)
    detail = (
        f"µs/shop-step by shops {{{listing}}}; worst growth {growth:.2f}x "
        f"({small:,} -> {large:,} shops; tolerance {GROWTH_TOLERANCE:g}x)"
    )
    return {
        "name": name,
        "target": GROWTH_TOLERANCE,
        "measured": growth,
        "status": status,
        "detail": detail,
        "us_per_shop_step": dict(costs),
    }


# --------------------------------------------------------------------------- baselines
def baseline_returns(
    num_episodes: int = 100, seed: int = 0, search_episodes: int = 20, search_seed: int = 10_000
) -> dict[str, Any]:
    """Episode returns of the order-up-to heuristic and of random actions, one shop.

    The order-up-to level is searched on seeds ``search_seed, search_seed + 1, ...``
    (kept apart from the evaluation seeds); both policies are then evaluated on
    ``num_episodes`` episodes with seeds ``seed .. seed + num_episodes - 1``.

    Returns:
        ``level``, ``heuristic_mean``/``heuristic_std``, ``random_mean``/``random_std``
        and the settings used.
    """
    import copy

    from phantomzoo.envs.supply_chain import (
        OrderUpToPolicy,
        best_order_up_to,
        evaluate_policy_returns,
    )
    from phantomzoo.policy import RandomPolicy

    if num_episodes < 1 or search_episodes < 1:
        raise ConfigError(
            f"episode counts must be >= 1, got num_episodes={num_episodes}, "
            f"search_episodes={search_episodes}"
        )
    env = make("supply_chain_v0", num_shops=1)
    agent = env.possible_agents[0]
    obs_space = env.observation_space(agent)
    act_space = copy.deepcopy(env.action_space(agent))  # RandomPolicy seeds its space
    max_stock = int(env.config["shop_max_stock"])

    level, _, _ = best_order_up_to(env, num_episodes=search_episodes, seed=search_seed)
    heuristic = OrderUpToPolicy(obs_space, act_space, level=level, max_stock=max_stock)
    random = RandomPolicy(obs_space, act_space, seed=seed)
    heuristic_returns = evaluate_policy_returns(env, heuristic, num_episodes, seed)
    random_returns = evaluate_policy_returns(env, random, num_episodes, seed)
    return {
        "env": "supply_chain_v0",
        "num_shops": 1,
        "level": int(level),
        "heuristic_mean": float(heuristic_returns.mean()),
        "heuristic_std": float(heuristic_returns.std()),
        "random_mean": float(random_returns.mean()),
        "random_std": float(random_returns.std()),
        "num_episodes": num_episodes,
        "seed": seed,
        "search_episodes": search_episodes,
        "search_seed": search_seed,
    }


def baseline_rows(baselines: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows (policy, mean, std, % of heuristic) for printing :func:`baseline_returns`."""
    reference = baselines["heuristic_mean"]
    rows = []
    for key, label in (
        ("heuristic", f"order-up-to S={baselines['level']}"),
        ("random", "uniform random"),
    ):
        mean = baselines[f"{key}_mean"]
        rows.append(
            {
                "policy": label,
                "mean_return": f"{mean:.1f} ± {baselines[f'{key}_std']:.1f}",
                "pct_of_heuristic": 100.0 * mean / reference if reference else None,
            }
        )
    return rows


BASELINE_COLUMNS: list[tuple[str, str, str]] = [
    ("policy", "policy", ""),
    ("mean_return", "mean return ± std", ""),
    ("pct_of_heuristic", "% of heuristic", ".1f"),
]
"""Columns of the baseline table for :func:`format_table`: (key, header, format)."""


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


def supply_chain_goal(
    label: str,
    result: Any,
    wall: float,
    episodes: int,
    goal_fraction: float,
    goal_seconds: float,
    wall_note: str = "",
) -> dict[str, Any]:
    """Compare trained supply-chain policies with the order-up-to heuristic and random.

    Evaluates ``result.policies`` (policy ``"shop"``) and both baselines on
    ``episodes`` episodes from seed 0, prints the table and a PASS/MISS line for the goal
    ">= goal_fraction of the heuristic within goal_seconds of wall time", and returns the
    rows and verdict (the training benchmark scripts share this).
    """
    from ..experiments.evaluation import evaluate

    base = baseline_returns(num_episodes=episodes, seed=0)
    mean, std = evaluate(make("supply_chain_v0"), result.policies, episodes, seed=0)["policies"][
        "shop"
    ]
    heuristic = base["heuristic_mean"]
    steps = result.history[-1]["timesteps"] if result.history else 0
    rows = [
        {"policy": label, "wall": wall, "steps": steps, "mean": mean, "std": std},
        {"policy": f"order-up-to {base['level']}", "mean": heuristic, "std": base["heuristic_std"]},
        {"policy": "random", "mean": base["random_mean"], "std": base["random_std"]},
    ]
    for row in rows:
        row["return"] = f"{row['mean']:.1f} ± {row['std']:.1f}"
        row["pct"] = 100.0 * row["mean"] / heuristic
    fraction = mean / heuristic
    verdict = "PASS" if fraction >= goal_fraction and wall <= goal_seconds else "MISS"
    print(f"supply_chain_v0, 1 shop: {episodes} evaluation episodes from seed 0")
    columns = [
        ("policy", "backend/policy"),
        ("wall", "wall time (s)", ".1f"),
        ("steps", "agent-steps", ",d"),
        ("return", "mean ± std return"),
        ("pct", "% of heuristic", ".1f"),
    ]
    print(format_table(rows, columns))
    print(
        f"{verdict}: >= {goal_fraction:.0%} of the heuristic within {goal_seconds:.0f} s "
        f"(got {fraction:.1%} after {wall:.0f} s of training{wall_note})"
    )
    return {
        "rows": rows,
        "heuristic_level": base["level"],
        "fraction_of_heuristic": fraction,
        "wall_seconds": wall,
        "agent_steps": steps,
        "goal": f">= {goal_fraction:.0%} of heuristic within {goal_seconds:.0f} s",
        "verdict": verdict,
        "history": result.history,
    }
