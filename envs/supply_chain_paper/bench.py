"""Bench hooks of the paper's supply chain (used by ``phantomzoo bench``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phantomzoo.policy import RandomPolicy
from phantomzoo.training.trained import TrainedPolicies

from .heuristics import best_order_up_to_by_cost, cost_table_policy
from .model import PaperSupplyChainEnv, ShopAgent

COSTS = (0.1, 0.25, 0.5, 0.75, 1.0)


def policies(env: PaperSupplyChainEnv) -> dict[str, Any]:
    """All shops share one learnt policy (their cost of carry is in the observation)."""
    return {"shops": ShopAgent}


def baselines(env: PaperSupplyChainEnv, seed: int = 0) -> dict[str, TrainedPolicies]:
    """Best order-up-to level per cost of carry (the yardstick) and random restocking."""
    settings = {k: v for k, v in env.config.items() if k != "cost_of_carry"}
    rows = best_order_up_to_by_cost(settings, costs=COSTS, seed=10_000 + seed)
    first = env.possible_agents[0]
    every = dict.fromkeys(env.possible_agents, "policy")
    random = RandomPolicy(env.observation_space(first), env.action_space(first), seed=seed)
    return {
        "order-up-to per cost": TrainedPolicies({"policy": cost_table_policy(rows, env)}, every),
        "random": TrainedPolicies({"policy": random}, every),
    }


def plots(
    policies: TrainedPolicies, out_dir: Path, seed: int = 0, env_config: dict | None = None
) -> list[Path]:
    """Mean restock quantity against the cost of carry (paper figure 7)."""
    from phantomzoo.cli import plots as pz_plots

    costs, restocks = [], []
    for cost in np.linspace(0.1, 1.0, 7):
        env = PaperSupplyChainEnv(**{**dict(env_config or {}), "cost_of_carry": float(cost)})
        for episode in range(3):
            observations, _ = env.acting_reset(seed=seed + episode)
            while env.acting_agents:
                actions = policies.compute_actions({i: observations[i] for i in env.acting_agents})
                for action in actions.values():
                    costs.append(round(float(cost), 3))
                    restocks.append(float(np.asarray(action).reshape(-1)[0]))
                observations, *_ = env.acting_step(actions)
    path = Path(out_dir) / "restock_vs_cost_of_carry.png"
    return [
        pz_plots.scatter_with_trend(
            costs, restocks, path, "cost of carry", "restock quantity", "Restock vs cost of carry"
        )
    ]
