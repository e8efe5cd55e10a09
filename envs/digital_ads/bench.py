"""Bench hooks of the digital-ads market (used by ``phantomzoo bench``).

The plots reproduce the paper's figures 4 and 5: the probability that travel and tech
advertisers win the auction for each user as the travel advertisers' budget grows, and
the distribution of cost per click of each family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from phantomzoo.errors import ConfigError
from phantomzoo.training.trained import TrainedPolicies

from .agents import THEMES, AdvertiserAgent
from .baselines import RandomBidPolicy, ValueBidPolicy
from .model import DigitalAdsEnv

#: Evaluation episodes the bench table's summary columns are computed on (the first ones).
SUMMARY_EPISODES = 10


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


def market_summary(
    policies: TrainedPolicies, env: DigitalAdsEnv, episodes: int, seed: int = 0
) -> dict[str, Any]:
    """What the market's policies achieve on seeds ``seed .. seed + episodes - 1``.

    Clicks alone saturate once there are more advertisers than impressions (someone
    always wins, and the user always clicks), so the summary also says what the clicks
    cost and how much budget is left.

    Returns:
        ``clicks_per_advertiser`` (per episode, overall and ``_by_family``),
        ``cost_per_click`` (spend / clicks, overall and ``_by_family``; None without
        clicks), ``budget_left`` (mean fraction of its budget an advertiser has left at
        the end, overall and ``_by_family``), ``click_rate`` (clicked impressions /
        impressions), ``saturated`` (every impression of every episode was clicked),
        ``mean_bid`` (``{family: {user: mean bid of the advertisers bidding}}``) and
        ``episodes``.

    Raises:
        ConfigError: ``episodes`` is not an int >= 1.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"market_summary: episodes must be an int >= 1, got {episodes!r}")
    advertisers = [env.network[i] for i in env.possible_agents]
    publisher = env.network[env.publisher_id]
    clicks, spent, left, count = (dict.fromkeys(THEMES, 0.0) for _ in range(4))
    bids: dict[tuple[str, int], list[float]] = {}
    clicked = shown = 0
    saturated = True
    for episode in range(episodes):
        observations, _ = env.acting_reset(seed=seed + episode)
        while env.acting_agents:
            user = publisher.user_id  # the user of the auction about to be played
            acting = {i: observations[i] for i in env.acting_agents}
            actions = policies.compute_actions(acting)
            for agent_id, action in actions.items():
                key = (env.family_of(agent_id), user)
                bids.setdefault(key, []).append(float(np.asarray(action).reshape(-1)[0]))
            observations, *_ = env.acting_step(actions)
        for agent in advertisers:
            clicks[agent.theme] += agent.total_clicks
            spent[agent.theme] += agent.total_spent
            left[agent.theme] += agent.budget_left / agent.budget
            count[agent.theme] += 1
        clicked, shown = clicked + publisher.clicks, shown + publisher.impressions
        saturated = saturated and publisher.clicks == publisher.impressions
    total = sum(count.values())
    return {
        "episodes": episodes,
        "clicks_per_advertiser": sum(clicks.values()) / total,
        "clicks_per_advertiser_by_family": {t: clicks[t] / count[t] for t in THEMES},
        "cost_per_click": _ratio(sum(spent.values()), sum(clicks.values())),
        "cost_per_click_by_family": {t: _ratio(spent[t], clicks[t]) for t in THEMES},
        "budget_left": sum(left.values()) / total,
        "budget_left_by_family": {t: left[t] / count[t] for t in THEMES},
        "click_rate": clicked / shown if shown else 0.0,
        "saturated": bool(saturated and shown),
        "mean_bid": {
            t: {u: float(np.mean(bids[(t, u)])) for u in (1, 2) if (t, u) in bids} for t in THEMES
        },
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def summary(policies: TrainedPolicies, env: DigitalAdsEnv, episodes: int, seed: int) -> dict:
    """The extra columns of the ``phantomzoo bench`` table for one policy set.

    ``clicks/adv`` (clicks per advertiser per episode), ``cost/click`` (spend / clicks:
    lower is better, and the figure that still tells policies apart once clicks
    saturate), ``budget left`` (mean fraction) and ``saturated`` (every impression
    clicked, in every evaluation episode: the %-of-heuristic column then says so
    instead of showing ~100%). At most :data:`SUMMARY_EPISODES` of the evaluation
    episodes are played (an episode of 1200 advertisers takes seconds).
    """
    stats = market_summary(policies, env, min(episodes, SUMMARY_EPISODES), seed)
    return {
        "clicks/adv": stats["clicks_per_advertiser"],
        "cost/click": stats["cost_per_click"],
        "budget left": stats["budget_left"],
        "saturated": stats["saturated"],
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
