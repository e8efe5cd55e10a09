"""Workflow hooks of the tutorial supply chain (used by ``phantomzoo bench``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import phantomzoo as ph
from phantomzoo.metrics import SimpleAgentMetric
from phantomzoo.policy import RandomPolicy
from phantomzoo.training.trained import TrainedPolicies

from .heuristics import OrderUpToPolicy, best_order_up_to
from .model import ShopAgent

SEARCH_SEED = 10_000  # the level is searched on other seeds than the evaluation's


def default_policies(env: Any) -> dict[str, Any]:
    """All shops share one learnt policy."""
    return {"shop": ShopAgent}


def baselines(env: Any, seed: int = 0) -> dict[str, TrainedPolicies]:
    """The best order-up-to rule (the yardstick) and uniform random restocking."""
    level, _, _ = best_order_up_to(env, num_episodes=20, seed=SEARCH_SEED + seed)
    first = env.possible_agents[0]
    obs_space, act_space = env.observation_space(first), env.action_space(first)
    max_stock = env.config["shop_max_stock"]
    heuristic = OrderUpToPolicy(obs_space, act_space, level=level, max_stock=max_stock)
    random = RandomPolicy(obs_space, act_space, seed=seed)
    every = dict.fromkeys(env.possible_agents, "policy")
    return {
        f"order-up-to S={level}": TrainedPolicies({"policy": heuristic}, every),
        "random": TrainedPolicies({"policy": random}, every),
    }


def plots(
    policies: TrainedPolicies, out_dir: Path, seed: int = 0, env_config: dict | None = None
) -> list[Path]:
    """The tutorial's four histograms from 20 rollouts of ``policies``."""
    from phantomzoo.cli import plots as pz_plots

    shop = "SHOP"
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
