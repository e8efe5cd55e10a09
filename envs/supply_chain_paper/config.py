"""Configuration of the paper's supply chain: prices, cost of carry and the network draw.

Each function reads one constructor argument of
:class:`~phantomzoo.envs.supply_chain_paper.model.PaperSupplyChainEnv` and refuses a bad
value with a :class:`~phantomzoo.errors.ConfigError` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from phantomzoo.errors import ConfigError
from phantomzoo.samplers import Sampler, UniformFloatSampler
from phantomzoo.supertype import Supertype

from .._supertypes import field_overrides, widen


def as_number(name: str, value: Any) -> float:
    """``value`` as a finite float (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"supply_chain_paper: {name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"supply_chain_paper: {name} must be finite, got {value!r}")
    return number


def parse_prices(prices: Any, shop_ids: Sequence[str]) -> list[float]:
    """One price per shop of ``shop_ids`` from ``None`` (1.0 each), a number or a sequence."""
    num_shops = len(shop_ids)
    if prices is None:
        values = [1.0] * num_shops
    elif isinstance(prices, (str, bytes)) or not isinstance(prices, (Sequence, np.ndarray)):
        values = [as_number("prices", prices)] * num_shops
    else:
        values = [as_number(f"prices[{i}]", p) for i, p in enumerate(prices)]
        if len(values) != num_shops:
            raise ConfigError(
                f"supply_chain_paper: prices has {len(values)} entries but there are "
                f"{num_shops} shops; give one price per shop or a single number"
            )
    for i, price in enumerate(values):
        if price <= 0:
            raise ConfigError(
                f"supply_chain_paper: prices must be > 0, got {price!r} for {shop_ids[i]}"
            )
    return values


def parse_cost(cost: Any, name: str = "cost_of_carry") -> Sampler:
    """The sampler of the cost of carry: a range, a fixed number or a sampler.

    A fixed cost becomes ``UniformFloatSampler(c, c)``: it keeps the appended type
    bounded in the observation space and draws from the generator like a range does,
    so one seed gives the same demand whatever the cost. ``name`` is the argument's
    name in messages.
    """
    if isinstance(cost, Sampler):
        return cost
    if isinstance(cost, (tuple, list)):
        if len(cost) != 2:
            raise ConfigError(f"supply_chain_paper: {name} range must be (low, high), got {cost!r}")
        low = as_number(f"{name} low", cost[0])
        high = as_number(f"{name} high", cost[1])
    else:
        low = high = as_number(name, cost)
    if not 0 <= low <= high:
        raise ConfigError(f"supply_chain_paper: {name} must satisfy 0 <= low <= high, got {cost!r}")
    return UniformFloatSampler(low, high)


def shop_costs(
    agent_supertypes: Any, shop_ids: Sequence[str], default: Sampler, cls: type[Supertype]
) -> dict[str, Sampler]:
    """Every shop's cost-of-carry sampler: ``default`` (from ``cost_of_carry``) unless
    ``agent_supertypes`` sets the shop's (``{"SHOP1": {"cost_of_carry": 0.1}}`` or
    ``{"SHOP1": ShopSupertype(0.1)}``; a value as ``cost_of_carry`` accepts it). All
    samplers declare the union of their ranges, so the shops keep one observation space
    (one shared policy) however different their costs are.
    """
    own = field_overrides(
        "supply_chain_paper", agent_supertypes, shop_ids, cls, "cost_of_carry", parse_cost, default
    )
    return widen({shop_id: own.get(shop_id, default) for shop_id in shop_ids})


def customer_links(
    num_shops: int, customers_per_shop: int, shops_per_customer: int | None, seed: int
) -> list[list[int]]:
    """The sorted shop indices of each customer: its own shop plus ``k - 1`` random others."""
    k = num_shops if shops_per_customer is None else min(shops_per_customer, num_shops)
    if k == num_shops:
        return [list(range(num_shops))] * (num_shops * customers_per_shop)
    rng = np.random.default_rng(seed)
    links = []
    for home in range(num_shops):
        others = [s for s in range(num_shops) if s != home]
        for _ in range(customers_per_shop):
            extra = rng.choice(others, size=k - 1, replace=False).tolist()
            links.append(sorted([home, *extra]))
    return links
