"""Bench hooks of the digital-ads market (used by ``phantomzoo bench``).

The plots reproduce the paper's figures 4 and 5: the probability that travel and tech
advertisers win the auction for each user as the travel advertisers' budget grows, and
the distribution of cost per click of each family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phantomzoo.training.trained import TrainedPolicies

from .agents import THEMES, AdvertiserAgent
from .baselines import RandomBidPolicy, ValueBidPolicy
from .model import DigitalAdsEnv


def policies(env: DigitalAdsEnv) -> dict[str, Any]:
    """One shared policy per advertiser family."""
    return {
        theme: [i for i in env.possible_agents if env.family_of(i) == theme] for theme in THEMES
    }


def baselines(env: DigitalAdsEnv, seed: int = 0) -> dict[str, TrainedPolicies]:
    """The value-based heuristic (the yardstick) and random bidding, one policy per
    family (the families' observation spaces differ: budgets are in the observation)."""
    families = policies(env)
    mapping = {agent: theme for theme, agents in families.items() for agent in agents}

    def spaces(theme: str) -> tuple[Any, Any]:
        first = families[theme][0]
        return env.observation_space(first), env.action_space(first)

    value = {theme: ValueBidPolicy(*spaces(theme)) for theme in families}
    random = {
        theme: RandomBidPolicy(*spaces(theme), seed=seed + k) for k, theme in enumerate(families)
    }
    return {
        "value heuristic": TrainedPolicies(value, mapping),
        "random bids": TrainedPolicies(random, mapping),
    }


def auction_statistics(
    policies: TrainedPolicies, env_config: dict[str, Any], episodes: int, seed: int
) -> dict[str, Any]:
    """Win counts per (family, user), impressions per user and each advertiser's cost per click."""
    env = DigitalAdsEnv(**env_config)
    wins = {(t, u): 0 for t in THEMES for u in (1, 2)}
    impressions = {1: 0, 2: 0}
    cost_per_click: dict[str, list[float]] = {t: [] for t in THEMES}
    advertisers = [a for a in env.network.agents.values() if isinstance(a, AdvertiserAgent)]
    for episode in range(episodes):
        observations, _ = env.acting_reset(seed=seed + episode)
        while env.acting_agents:
            # The user of the auction about to be played (acting_step also plays the next
            # impression's publisher stage, after which the publisher shows the next user).
            user = env.network["PUBLISHER"].user_id
            actions = policies.compute_actions({i: observations[i] for i in env.acting_agents})
            observations, *_ = env.acting_step(actions)
            if user in impressions:
                impressions[user] += 1
                for agent in advertisers:
                    if agent.won and agent.id in actions:  # ended advertisers keep stale flags
                        wins[(agent.theme, user)] += 1
        for agent in advertisers:
            if agent.total_clicks:
                cost_per_click[agent.theme].append(agent.total_spent / agent.total_clicks)
    return {"wins": wins, "impressions": impressions, "cost_per_click": cost_per_click}


def plots(
    policies: TrainedPolicies, out_dir: Path, seed: int = 0, env_config: dict | None = None
) -> list[Path]:
    """Paper figure 4 (win probability vs travel budget) and figure 5 (cost per click)."""
    from phantomzoo.cli import plots as pz_plots

    config = dict(env_config or {})
    budgets = np.linspace(5.0, 20.0, 4)
    series: dict[str, tuple[list[float], list[float]]] = {}
    for budget in budgets:
        stats = auction_statistics(policies, {**config, "travel_budget": (budget, budget)}, 5, seed)
        for theme in ("travel", "tech"):
            for user in (1, 2):
                label = f"{theme} wins, user {user}"
                share = stats["wins"][(theme, user)] / max(1, stats["impressions"][user])
                xs, ys = series.setdefault(label, ([], []))
                xs.append(float(budget))
                ys.append(share)
    out_dir = Path(out_dir)
    figure4 = pz_plots.lines(
        series,
        out_dir / "ads_win_probability.png",
        "travel advertisers' budget",
        "probability of winning the auction",
        "Auction wins per user vs travel budget",
    )
    stats = auction_statistics(policies, config, 10, seed)
    figure5 = pz_plots.distributions(
        stats["cost_per_click"],
        out_dir / "ads_cost_per_click.png",
        "cost per click",
        "Cost per click by advertiser family",
    )
    return [figure4, figure5]
