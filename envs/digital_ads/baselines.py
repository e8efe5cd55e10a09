"""Baseline bidders for the digital-ads market and a click-count evaluation.

* :class:`RandomBidPolicy` bids uniformly in ``[0, max_bid]`` whatever the user.
* :class:`ValueBidPolicy` bids in proportion to the click probability of the current
  user for the advertiser's theme (paper Table 1), paced by budget: the bid is scaled
  down while the remaining budget fraction is below the remaining time fraction.

Both read only the observation (user and theme one-hots, budget and elapsed fractions),
so they serve any advertiser of any family, in batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from phantomzoo.errors import ConfigError
from phantomzoo.policy import Policy
from phantomzoo.validate import check_int, check_number

from .agents import (
    CLICK_PROBABILITIES,
    OBS_BUDGET_LEFT,
    OBS_ELAPSED,
    OBS_THEME,
    OBS_USER,
    THEMES,
)


def _max_bid(owner: str, action_space: gym.Space[Any], config: Mapping[str, Any]) -> float:
    high = getattr(action_space, "high", None)
    default = float(np.asarray(high).reshape(-1)[0]) if high is not None else 1.0
    return check_number(owner, "max_bid", config.get("max_bid", default), 0.0, low_open=True)


def _refuse_unknown(owner: str, config: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(config) - known)
    if unknown:
        raise ConfigError(f"{owner}: unknown config keys {unknown}; it takes {sorted(known)}")


def _click_table(owner: str, table: Any) -> np.ndarray:
    """``values[u, t]``, the probability that user ``u`` clicks an ad of theme ``t``."""
    if not isinstance(table, Mapping) or not table:
        raise ConfigError(f"{owner}: click_probabilities must be {{user: {{theme: p}}}}")
    rows = []
    for user, row in table.items():
        if not isinstance(row, Mapping) or set(row) != set(THEMES):
            raise ConfigError(
                f"{owner}: click_probabilities[{user!r}] must map each of {list(THEMES)} "
                f"to a probability, got {row!r}"
            )
        rows.append(
            [
                check_number(owner, f"click_probabilities[{user!r}][{t!r}]", row[t], 0, 1)
                for t in THEMES
            ]
        )
    return np.array(rows, dtype=np.float64)


class RandomBidPolicy(Policy):
    """Bid uniformly in ``[0, max_bid]`` (config ``seed``, default 0; ``max_bid``)."""

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        _refuse_unknown("RandomBidPolicy", config, {"seed", "max_bid"})
        self.max_bid = _max_bid("RandomBidPolicy", action_space, config)
        self.rng = np.random.default_rng(
            check_int("RandomBidPolicy", "seed", config.get("seed", 0), low=0)
        )

    def compute_action(self, observation: Any) -> np.ndarray:
        return self.compute_actions([observation])[0]

    def compute_actions(self, observations: list[Any]) -> list[Any]:
        bids = self.rng.uniform(0.0, self.max_bid, size=(len(observations), 1))
        return list(bids.astype(np.float32))


class ValueBidPolicy(Policy):
    """Bid ``scale * max_bid * p(click | user, theme) * pace``.

    ``pace = min(1, budget_left_fraction / time_left_fraction)``: a bidder that has spent
    faster than time passes bids less until it is back on schedule.

    Config:
        max_bid: Largest bid (default: the action space's upper bound).
        scale: Fraction of ``max_bid`` bid on a certain click (default 1.0).
        click_probabilities: ``{user_id: {theme: p}}`` (default: paper Table 1), users
            in the order of the observation's user one-hot.
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        owner = "ValueBidPolicy"
        _refuse_unknown(owner, config, {"max_bid", "scale", "click_probabilities"})
        self.max_bid = _max_bid(owner, action_space, config)
        self.scale = check_number(owner, "scale", config.get("scale", 1.0), low=0.0)
        # values[u, t]: probability that user u clicks an ad of theme t.
        self.values = _click_table(owner, config.get("click_probabilities", CLICK_PROBABILITIES))

    def compute_action(self, observation: Any) -> np.ndarray:
        return self.compute_actions([observation])[0]

    def compute_actions(self, observations: list[Any]) -> list[Any]:
        obs = np.asarray(observations, dtype=np.float64)
        users, themes = obs[:, OBS_USER], obs[:, OBS_THEME]
        click_probability = np.einsum("nu,ut,nt->n", users, self.values, themes)
        time_left = np.maximum(1.0 - obs[:, OBS_ELAPSED], 1e-9)
        pace = np.minimum(1.0, obs[:, OBS_BUDGET_LEFT] / time_left)
        bids = self.scale * self.max_bid * click_probability * pace
        return list(bids.reshape(-1, 1).astype(np.float32))


def evaluate_clicks(
    env: Any,
    policy: Policy | Mapping[str, Policy],
    num_episodes: int = 10,
    seed: int = 0,
) -> dict[str, float]:
    """Mean clicks per episode of each family and overall, under the given policy.

    Episodes use seeds ``seed .. seed + num_episodes - 1``; every advertiser of a family
    acts through the same policy, evaluated in one batch per step.

    Args:
        env: A digital-ads env (driven through the acting-agents protocol).
        policy: One policy for all advertisers, or ``{theme: policy}``.
        num_episodes: Episodes to play.
        seed: Seed of the first episode.

    Returns:
        ``{"travel": ..., "tech": ..., "sport": ..., "overall": ...}``: clicks per
        episode summed over the family's advertisers (over all of them for
        ``"overall"``), averaged over episodes.
    """
    if not isinstance(num_episodes, int) or num_episodes < 1:
        raise ConfigError(f"num_episodes must be an int >= 1, got {num_episodes!r}")
    policies = {t: policy for t in THEMES} if isinstance(policy, Policy) else dict(policy)
    missing = [t for t in THEMES if t not in policies]
    if missing:
        raise ConfigError(f"no policy given for famil(ies) {missing}; give one per theme")
    family = {i: env.family_of(i) for i in env.possible_agents}
    totals = {t: 0.0 for t in THEMES}
    for episode in range(num_episodes):
        observations, _ = env.acting_reset(seed=seed + episode)
        while env.acting_agents:
            acting = env.acting_agents
            actions: dict[Any, Any] = {}
            for theme in THEMES:
                ids = [i for i in acting if family[i] == theme]
                if ids:
                    batch = policies[theme].compute_actions([observations[i] for i in ids])
                    actions.update(zip(ids, batch))
            observations, rewards, *_ = env.acting_step(actions)
            for agent_id, reward in rewards.items():
                totals[family[agent_id]] += reward
    means = {t: totals[t] / num_episodes for t in THEMES}
    means["overall"] = sum(means.values())
    return means
