"""Order-up-to baselines for the paper's supply chain.

An order-up-to policy restocks ``max(0, S - leftover stock)`` every cycle.
:func:`best_order_up_to_by_cost` fixes the cost of carry at each of several values and
searches the level ``S`` that maximises a shop's mean episode return; a higher cost of
carry makes leftover stock dearer, so the best level falls. :class:`CostTablePolicy`
turns that table into one baseline policy for shops whose cost is drawn every episode:
it reads the cost from the end of the observation (the appended type) and uses the
level of the nearest tabulated cost.

Episodes are played through the acting-agents protocol (``acting_reset`` /
``acting_step``); every level is scored on the same seeds, hence the same demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from phantomzoo.errors import ConfigError
from phantomzoo.experiments import evaluation
from phantomzoo.experiments.episodes import ActFn
from phantomzoo.policy import Policy
from phantomzoo.types import AgentID
from phantomzoo.validate import check_number

from ..supply_chain.heuristics import order_up_to_config
from .model import LEFTOVER, PaperSupplyChainEnv

#: Costs of carry tabulated by default (they span the default range 0.1-1.0).
DEFAULT_COSTS: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 1.0)


class OrderUpToPolicy(Policy):
    """Restock ``max(0, level - leftover stock)`` units every cycle.

    Config:
        level: The order-up-to level ``S``.
        max_stock: The shop's ``shop_max_stock`` (observations scale stock by it;
            default 100).
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        self.level, self.max_stock = order_up_to_config("OrderUpToPolicy", config)

    def compute_action(self, observation: Any) -> np.ndarray:
        return self.compute_actions([observation])[0]

    def compute_actions(
        self, observations: Sequence[Any], rng: np.random.Generator | None = None
    ) -> list[Any]:
        """One order per observation, in one NumPy pass (deterministic: ``rng`` is unused)."""
        stock = np.asarray(observations, dtype=np.float64)[:, LEFTOVER] * self.max_stock
        orders = np.maximum(0.0, self.level - stock).astype(np.float32)
        return list(orders.reshape(-1, 1))


class CostTablePolicy(Policy):
    """Order-up-to with the level of the tabulated cost nearest the shop's own.

    The cost of carry is read from the last entry of the observation (the type the
    environment appends).

    Config:
        table: ``{cost_of_carry: level}`` (at least one entry).
        max_stock: The shop's ``shop_max_stock`` (default 100).
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        owner = "CostTablePolicy"
        unknown = sorted(set(config) - {"table", "max_stock"})
        if unknown:
            raise ConfigError(f"{owner}: unknown config keys {unknown}; it takes table, max_stock")
        table = config.get("table")
        if not isinstance(table, Mapping) or not table:
            raise ConfigError(
                f"{owner}: table must hold at least one cost -> level entry, got {table!r}"
            )
        pairs = sorted(
            (
                check_number(owner, "table cost", _key_number(cost), low=0.0),
                check_number(owner, f"table level for cost {cost!r}", level, low=0.0),
            )
            for cost, level in table.items()
        )
        self.costs = np.array([c for c, _ in pairs], dtype=np.float64)
        self.levels = np.array([lv for _, lv in pairs], dtype=np.float64)
        self.max_stock = check_number(
            owner, "max_stock", config.get("max_stock", 100), 0.0, low_open=True
        )

    def level_for(self, costs: np.ndarray) -> np.ndarray:
        """The level of the nearest tabulated cost, for each cost (ties: the lower cost)."""
        nearest = np.abs(np.asarray(costs, dtype=np.float64)[:, None] - self.costs).argmin(axis=1)
        return self.levels[nearest]

    def compute_action(self, observation: Any) -> np.ndarray:
        return self.compute_actions([observation])[0]

    def compute_actions(
        self, observations: Sequence[Any], rng: np.random.Generator | None = None
    ) -> list[Any]:
        """One order per observation, in one NumPy pass (deterministic: ``rng`` is unused)."""
        batch = np.asarray(observations, dtype=np.float64)
        stock = batch[:, LEFTOVER] * self.max_stock
        orders = np.maximum(0.0, self.level_for(batch[:, -1]) - stock).astype(np.float32)
        return list(orders.reshape(-1, 1))


def _key_number(key: Any) -> Any:
    """A table key as a number: JSON object keys are strings (``"0.5"``)."""
    if isinstance(key, str):
        try:
            return float(key)
        except ValueError:
            return key
    return key


def episode_returns(
    env: Any, act: ActFn | Policy, num_episodes: int, seed: int = 0
) -> dict[AgentID, np.ndarray]:
    """Play ``num_episodes`` episodes (seeds ``seed``, ``seed + 1``, ...) of the env.

    :func:`phantomzoo.experiments.evaluation.episode_returns` (phantomzoo's one episode
    loop over the acting-agents protocol), which also accepts one policy shared by every
    agent.

    Args:
        env: Any phantomzoo env.
        act: ``act(observations) -> actions`` or one policy shared by every agent.
        num_episodes: Episodes to play (an int >= 1).
        seed: Seed of the first episode.

    Returns:
        The undiscounted return of each strategic agent in each episode, as
        ``{agent_id: array of shape (num_episodes,)}``.
    """
    return evaluation.episode_returns(env, act, num_episodes, seed)


def mean_return(env: Any, policy: Policy, num_episodes: int, seed: int = 0) -> float:
    """Mean episode return of a shop when every shop follows ``policy``."""
    returns = episode_returns(env, policy, num_episodes, seed)
    return float(np.mean([returns[i] for i in env.possible_agents]))


def best_order_up_to(
    env: PaperSupplyChainEnv, num_episodes: int = 10, seed: int = 0, coarse_step: int = 5
) -> tuple[int, float, dict[int, float]]:
    """Search the best order-up-to level for ``env``: a coarse grid, then every level near.

    Every level is scored with :func:`mean_return` on the same seeds; among equal
    scores the lowest level wins.

    Returns:
        ``(best_level, its mean return, {level: mean return})`` for the levels tried.
    """
    if not isinstance(coarse_step, int) or coarse_step < 1:
        raise ConfigError(f"coarse_step must be an int >= 1, got {coarse_step!r}")
    max_stock = int(env.config["shop_max_stock"])
    agent = env.possible_agents[0]
    spaces = (env.observation_space(agent), env.action_space(agent))
    tried: dict[int, float] = {}

    def score(level: int) -> float:
        if level not in tried:
            policy = OrderUpToPolicy(*spaces, level=level, max_stock=max_stock)
            tried[level] = mean_return(env, policy, num_episodes, seed)
        return tried[level]

    coarse = max(range(0, max_stock + 1, coarse_step), key=score)
    fine = range(max(0, coarse - coarse_step + 1), min(max_stock, coarse + coarse_step - 1) + 1)
    best = max(fine, key=lambda level: (score(level), -level))
    return best, tried[best], dict(sorted(tried.items()))


def best_order_up_to_by_cost(
    env_kwargs: Mapping[str, Any] | None = None,
    costs: Iterable[float] = DEFAULT_COSTS,
    num_episodes: int = 10,
    seed: int = 0,
    coarse_step: int = 5,
) -> list[dict[str, float]]:
    """The best order-up-to level and its mean return for each fixed cost of carry.

    Args:
        env_kwargs: Keyword arguments of :class:`PaperSupplyChainEnv`; its
            ``cost_of_carry`` is replaced by each cost in turn.
        costs: The costs of carry to tabulate (numbers >= 0).
        num_episodes: Episodes (seeds ``seed``...) each candidate level is scored on.
        seed: First seed; every cost and level sees the same demand.
        coarse_step: Spacing of the coarse grid of levels.

    Returns:
        One ``{"cost_of_carry", "level", "mean_return"}`` row per cost, in the given
        order; ``mean_return`` is per shop and episode.
    """
    costs = list(costs)
    if not costs:
        raise ConfigError("best_order_up_to_by_cost: costs must hold at least one cost")
    kwargs = dict(env_kwargs or {})
    rows = []
    for cost in costs:
        env = PaperSupplyChainEnv(**{**kwargs, "cost_of_carry": cost})
        level, value, _ = best_order_up_to(env, num_episodes, seed, coarse_step)
        rows.append({"cost_of_carry": float(cost), "level": level, "mean_return": value})
    return rows


def cost_table_policy(rows: Iterable[Mapping[str, float]], env: Any) -> CostTablePolicy:
    """A :class:`CostTablePolicy` for ``env`` from :func:`best_order_up_to_by_cost` rows."""
    agent = env.possible_agents[0]
    return CostTablePolicy(
        env.observation_space(agent),
        env.action_space(agent),
        table={float(r["cost_of_carry"]): float(r["level"]) for r in rows},
        max_stock=int(env.config["shop_max_stock"]),
    )
