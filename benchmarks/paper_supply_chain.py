"""Throughput and order-up-to baselines of the paper's supply chain (``supply_chain_paper_v0``).

(a) Throughput through the acting-agents protocol, as a trainer drives a staged env:
``env.acting_reset(seed)``, then ``env.acting_step({shop: action})`` with uniform random
actions (one ``Generator.uniform`` batch per step for all shops) until
``env.acting_agents`` is empty; whole episodes, resets included. One env-step is one
``acting_step``: a restock stage played by the shops plus the sale stage the env plays
alone. Reported: the median of ``--repeats`` runs of at least ``--min-seconds`` each.

(b) Baselines: for each fixed cost of carry, the best order-up-to level ``S`` (searched
on seeds from ``--search-seed``) and its mean return per shop and episode on held-out
seeds (from ``--seed``), next to uniform random restocking; then the cost-table policy
(the level of the nearest tabulated cost, read from each shop's observed type) on the
env whose costs are drawn every episode::

    python benchmarks/paper_supply_chain.py
    python benchmarks/paper_supply_chain.py --shops 1,10 --min-seconds 1 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from phantomzoo.cli import bench as bm
from phantomzoo.envs.supply_chain_paper import (
    OrderUpToPolicy,
    PaperSupplyChainEnv,
    best_order_up_to_by_cost,
    cost_table_policy,
    episode_returns,
)
from phantomzoo.envs.supply_chain_paper.heuristics import DEFAULT_COSTS
from phantomzoo.errors import PhantomZooError
from phantomzoo.policy import RandomPolicy

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "paper_supply_chain.json"

THROUGHPUT_COLUMNS = [
    ("shops", "shops", ""),
    ("agents", "agents", ""),
    ("env_steps_per_s", "env-steps/s", ",.0f"),
    ("agent_steps_per_s", "shop-steps/s", ",.0f"),
    ("us_per_agent_step", "µs/shop-step", ".2f"),
]
BASELINE_COLUMNS = [
    ("cost_of_carry", "cost of carry", ".2f"),
    ("level", "best S", ""),
    ("search_return", "return (search)", ".1f"),
    ("mean_return", "return (eval)", ".1f"),
    ("random_return", "random (eval)", ".1f"),
]


def parse_list(text: str, kind: type) -> tuple[Any, ...]:
    """``"1,10,100"`` -> ``(1, 10, 100)`` (positive numbers of ``kind``)."""
    try:
        values = tuple(kind(p) for p in text.split(",") if p.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers >= 0, got {text!r}")
    return values


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--shops", type=lambda t: parse_list(t, int), default=(1, 10, 100), help="default 1,10,100")
    add("--min-seconds", type=float, default=2.0, help="least seconds per run (default: 2)")
    add("--repeats", type=int, default=3, help="runs per size; median reported (default: 3)")
    add("--costs", type=lambda t: parse_list(t, float), default=DEFAULT_COSTS, help="costs")
    add("--episodes", type=int, default=50, help="evaluation episodes per policy (default: 50)")
    add("--seed", type=int, default=0, help="first evaluation / throughput seed (default: 0)")
    add("--search-episodes", type=int, default=10, help="episodes per level (default: 10)")
    add("--search-seed", type=int, default=10_000, help="first search seed (default: 10000)")
    add("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.min_seconds <= 0 or args.repeats < 1 or args.episodes < 1:
        parser.error("--min-seconds must be > 0, --repeats and --episodes >= 1")
    return args


# --------------------------------------------------------------------------- throughput
def measure_once(num_shops: int, min_seconds: float, seed: int) -> dict[str, float]:
    """One throughput run of whole episodes through the acting-agents protocol (the
    generic harness, :func:`phantomzoo.cli.bench.measure_env_throughput`)."""
    rates = bm.measure_env_throughput(
        lambda: PaperSupplyChainEnv(num_shops=num_shops),
        num_shops,
        min_seconds,
        seed,
        protocol="acting",
    )
    agents = len(PaperSupplyChainEnv(num_shops=num_shops).network)
    return {"shops": num_shops, "agents": agents, **rates}


def throughput_rows(args: argparse.Namespace) -> list[dict[str, float]]:
    """The median run (by env-steps/s) of each size."""
    rows = []
    for shops in args.shops:
        runs = [measure_once(shops, args.min_seconds, args.seed) for _ in range(args.repeats)]
        median = statistics.median_low(r["env_steps_per_s"] for r in runs)
        rows.append(next(r for r in runs if r["env_steps_per_s"] == median))
    return rows


# ---------------------------------------------------------------------------- baselines
def mean_return(env: PaperSupplyChainEnv, policy: Any, episodes: int, seed: int) -> float:
    """Mean return per shop and episode when every shop follows ``policy``."""
    returns = episode_returns(env, policy, episodes, seed)
    return float(np.mean([returns[i] for i in env.possible_agents]))


def baseline_rows(args: argparse.Namespace) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Per-cost rows, and the cost-table policy against random on sampled costs."""
    rows = best_order_up_to_by_cost(
        costs=args.costs, num_episodes=args.search_episodes, seed=args.search_seed
    )
    for row in rows:
        env = PaperSupplyChainEnv(cost_of_carry=row["cost_of_carry"])
        obs_space, act_space = env.observation_space("SHOP1"), env.action_space("SHOP1")
        row["search_return"] = row.pop("mean_return")
        policy = OrderUpToPolicy(
            obs_space, act_space, level=row["level"], max_stock=env.config["shop_max_stock"]
        )
        row["mean_return"] = mean_return(env, policy, args.episodes, args.seed)
        random = RandomPolicy(obs_space, act_space, seed=args.seed)
        row["random_return"] = mean_return(env, random, args.episodes, args.seed)
    env = PaperSupplyChainEnv()  # costs drawn from the default range every episode
    space = (env.observation_space("SHOP1"), env.action_space("SHOP1"))
    sampled = {
        "cost_range": list(env.config["cost_of_carry"]),
        "cost_table_return": mean_return(
            env, cost_table_policy(rows, env), args.episodes, args.seed
        ),
        "random_return": mean_return(
            env, RandomPolicy(*space, seed=args.seed), args.episodes, args.seed
        ),
    }
    return rows, sampled


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = bm.machine_info()
    started = time.perf_counter()
    print(f"{machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs")
    print(
        "supply_chain_paper_v0 (defaults: 5 customers per shop, 2 shops per customer, "
        "100 cycles), random actions through acting_step;\n"
        f"env-step = one restock + sale cycle; median of {args.repeats} runs of "
        f">= {args.min_seconds:g} s each\n"
    )
    throughput = throughput_rows(args)
    print(bm.format_table(throughput, THROUGHPUT_COLUMNS))

    print(
        f"\nBest order-up-to level per cost of carry (4 shops, 100 cycles): searched on "
        f"{args.search_episodes} episodes from seed {args.search_seed}, evaluated on "
        f"{args.episodes} from seed {args.seed}; mean return per shop and episode\n"
    )
    rows, sampled = baseline_rows(args)
    print(bm.format_table(rows, BASELINE_COLUMNS))
    low, high = sampled["cost_range"]
    print(
        f"\nCosts drawn from U({low:g}, {high:g}) every episode: cost-table policy "
        f"{sampled['cost_table_return']:.1f}, random {sampled['random_return']:.1f}"
    )

    payload = {
        "benchmark": "supply_chain_paper_v0 throughput and baselines",
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine,
        "throughput": throughput,
        "baselines": {"by_cost": rows, "sampled_costs": sampled},
        "wall_seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except PhantomZooError as exc:
        raise SystemExit(f"{Path(__file__).name}: error: {exc}") from None
