"""The order-up-to yardstick for the tutorial supply chain.

An order-up-to policy orders ``max(0, S - stock)`` each step. :func:`best_order_up_to`
searches the level ``S`` that maximises mean episode return on fixed seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from phantomzoo.errors import ConfigError
from phantomzoo.experiments.evaluation import pooled_returns
from phantomzoo.policy import Policy
from phantomzoo.validate import check_number


class OrderUpToPolicy(Policy):
    """Order ``max(0, level - stock)`` units every step.

    Config:
        level: The order-up-to level ``S``.
        max_stock: The shop's maximum stock (observations scale stock by it; default 100).
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        self.level, self.max_stock = order_up_to_config("OrderUpToPolicy", config)

    def compute_action(self, observation: Any) -> np.ndarray:
        stock = float(observation[0]) * self.max_stock
        return np.array([max(0.0, self.level - stock)], dtype=np.float32)

    def compute_actions(
        self, observations: Sequence[Any], rng: np.random.Generator | None = None
    ) -> list[Any]:
        """One order per observation, in one NumPy pass (deterministic: ``rng`` is unused)."""
        stock = np.asarray(observations, dtype=np.float64)[:, 0] * self.max_stock
        orders = np.maximum(0.0, self.level - stock).astype(np.float32)
        return list(orders.reshape(-1, 1))


def order_up_to_config(owner: str, config: dict[str, Any]) -> tuple[float, float]:
    """``(level, max_stock)`` from an order-up-to policy's config, checked.

    Raises:
        ConfigError: ``level`` missing or not a finite number >= 0, ``max_stock`` not a
            finite number > 0, or an unknown key.
    """
    unknown = sorted(set(config) - {"level", "max_stock"})
    if unknown:
        raise ConfigError(f"{owner}: unknown config keys {unknown}; it takes level, max_stock")
    if "level" not in config:
        raise ConfigError(f"{owner}: config needs level=<units to order up to>, e.g. level=20")
    level = check_number(owner, "level", config["level"], low=0.0)
    max_stock = check_number(owner, "max_stock", config.get("max_stock", 100), 0.0, low_open=True)
    return level, max_stock


def evaluate_policy_returns(
    env: Any, policy: Policy, num_episodes: int, seed: int = 0
) -> np.ndarray:
    """Episode returns of every shop under one shared policy, shape (episodes * shops,).

    The episodes are played by phantomzoo's one episode loop
    (:func:`phantomzoo.experiments.evaluation.pooled_returns`).
    """
    return pooled_returns(env, policy, num_episodes, seed)


def best_order_up_to(
    env: Any, num_episodes: int = 20, seed: int = 0, coarse_step: int = 5
) -> tuple[int, float, dict[int, float]]:
    """Search the best order-up-to level for ``env`` (coarse grid, then every level nearby).

    Returns:
        ``(best_level, its mean episode return, {level: mean return})`` for the levels tried.
    """
    max_stock = int(env.config["shop_max_stock"])
    obs_space = env.observation_space(env.possible_agents[0])
    act_space = env.action_space(env.possible_agents[0])
    tried: dict[int, float] = {}

    def score(level: int) -> float:
        if level not in tried:
            policy = OrderUpToPolicy(obs_space, act_space, level=level, max_stock=max_stock)
            tried[level] = float(evaluate_policy_returns(env, policy, num_episodes, seed).mean())
        return tried[level]

    coarse = max(range(0, max_stock + 1, coarse_step), key=score)
    fine = range(max(0, coarse - coarse_step + 1), min(max_stock, coarse + coarse_step - 1) + 1)
    best = max(fine, key=score)
    return best, tried[best], dict(sorted(tried.items()))
