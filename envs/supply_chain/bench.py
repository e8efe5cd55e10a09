"""Bench helpers of the tutorial supply chain (found by ``phantomzoo bench`` through the
registry's ``<package>.bench`` convention).

``policies``, ``baselines``, ``plots`` and ``throughput`` are the hooks; the baselines
(the best order-up-to rule and uniform random restocking) are built in one place,
:func:`order_up_to_baselines`, which :func:`baseline_returns` reuses.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.metrics import SimpleAgentMetric
from phantomzoo.policy import RandomPolicy
from phantomzoo.training.trained import TrainedPolicies

from .heuristics import OrderUpToPolicy, best_order_up_to, evaluate_policy_returns
from .model import ShopAgent, SupplyChainEnv
from .throughput import throughput

SEARCH_SEED = 10_000  # the level is searched on other seeds than the evaluation's

__all__ = [
    "BASELINE_COLUMNS",
    "baseline_returns",
    "baseline_rows",
    "baselines",
    "order_up_to_baselines",
    "plots",
    "policies",
    "throughput",
]


def policies(env: Any) -> dict[str, Any]:
    """All shops share one learnt policy."""
    return {"shop": ShopAgent}


def order_up_to_baselines(
    env: Any, seed: int = 0, search_episodes: int = 20, search_seed: int = SEARCH_SEED
) -> tuple[int, OrderUpToPolicy, RandomPolicy]:
    """The best order-up-to level (searched on seeds from ``search_seed``), its policy,
    and a uniform random policy seeded with ``seed``."""
    level, _, _ = best_order_up_to(env, num_episodes=search_episodes, seed=search_seed)
    first = env.possible_agents[0]
    obs_space = env.observation_space(first)
    act_space = copy.deepcopy(env.action_space(first))  # RandomPolicy seeds its space
    max_stock = int(env.config["shop_max_stock"])
    heuristic = OrderUpToPolicy(obs_space, act_space, level=level, max_stock=max_stock)
    return int(level), heuristic, RandomPolicy(obs_space, act_space, seed=seed)


def baselines(env: Any, seed: int = 0) -> dict[str, TrainedPolicies]:
    """The best order-up-to rule (the yardstick) and uniform random restocking."""
    level, heuristic, random = order_up_to_baselines(env, seed, search_seed=SEARCH_SEED + seed)
    every = dict.fromkeys(env.possible_agents, "policy")
    return {
        f"order-up-to S={level}": TrainedPolicies({"policy": heuristic}, every),
        "random": TrainedPolicies({"policy": random}, every),
    }


def baseline_returns(
    num_episodes: int = 100,
    seed: int = 0,
    search_episodes: int = 20,
    search_seed: int = SEARCH_SEED,
) -> dict[str, Any]:
    """Episode returns of the order-up-to heuristic and of random actions, one shop.

    The level is searched on seeds ``search_seed, search_seed + 1, ...`` (kept apart
    from the evaluation seeds); both policies are then evaluated on ``num_episodes``
    episodes with seeds ``seed .. seed + num_episodes - 1``.

    Returns:
        ``level``, ``heuristic_mean``/``heuristic_std``, ``random_mean``/``random_std``
        and the settings used.
    """
    if num_episodes < 1 or search_episodes < 1:
        raise ConfigError(
            f"episode counts must be >= 1, got num_episodes={num_episodes}, "
            f"search_episodes={search_episodes}"
        )
    env = ph.make("supply_chain_v0", num_shops=1)
    level, heuristic, random = order_up_to_baselines(env, seed, search_episodes, search_seed)
    heuristic_returns = evaluate_policy_returns(env, heuristic, num_episodes, seed)
    random_returns = evaluate_policy_returns(env, random, num_episodes, seed)
    return {
        "env": "supply_chain_v0",
        "num_shops": 1,
        "level": level,
        "heuristic_mean": float(heuristic_returns.mean()),
        "heuristic_std": float(heuristic_returns.std()),
        "random_mean": float(random_returns.mean()),
        "random_std": float(random_returns.std()),
        "num_episodes": num_episodes,
        "seed": seed,
        "search_episodes": search_episodes,
        "search_seed": search_seed,
    }


def baseline_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows (policy, mean ± std, % of heuristic) for printing :func:`baseline_returns`."""
    reference = result["heuristic_mean"]
    rows = []
    for key, label in (
        ("heuristic", f"order-up-to S={result['level']}"),
        ("random", "uniform random"),
    ):
        mean = result[f"{key}_mean"]
        rows.append(
            {
                "policy": label,
                "mean_return": f"{mean:.1f} ± {result[f'{key}_std']:.1f}",
                "pct_of_heuristic": 100.0 * mean / reference if reference else None,
            }
        )
    return rows


BASELINE_COLUMNS: list[tuple[str, str, str]] = [
    ("policy", "policy", ""),
    ("mean_return", "mean return ± std", ""),
    ("pct_of_heuristic", "% of heuristic", ".1f"),
]
"""Columns of :func:`baseline_rows` for ``format_table``: (key, header, format)."""


def plots(
    policies: TrainedPolicies, out_dir: Path, seed: int = 0, env_config: dict | None = None
) -> list[Path]:
    """The tutorial's four histograms (of the first shop) from 20 rollouts of ``policies``."""
    from phantomzoo.cli import plots as pz_plots

    shop = SupplyChainEnv(**dict(env_config or {})).shop_ids[0]  # "SHOP", "shop_0", ...
    metrics = {
        f"{shop}/stock": SimpleAgentMetric(shop, "stock", "mean"),
        f"{shop}/sales": SimpleAgentMetric(shop, "sales", "mean"),
        f"{shop}/missed_sales": SimpleAgentMetric(shop, "missed_sales", "mean"),
    }
    rollouts = ph.rollout(
        "supply_chain_v0",
        policies,
        env_config=dict(env_config or {}),
        num_repeats=20,
        metrics=metrics,
        seed=seed,
        show_progress_bar=False,
    )
    return [
        pz_plots.supply_chain_histograms(
            rollouts, Path(out_dir) / "supply_chain_histograms.png", shop
        )
    ]
