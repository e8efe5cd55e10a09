"""The tutorial supply chain: a factory, customers and learning shops.

=================  ==========================================================
Agents             ``SHOP`` (strategic; ``SHOP1..SHOPn`` when ``num_shops > 1``;
                   ``shop_0..`` with ``agent_ids="pettingzoo"``),
                   ``WAREHOUSE`` (factory), ``CUST1..5`` per shop (customers,
                   ``SHOPi_CUSTj`` when ``num_shops > 1``)
Observation        ``Box(0, 1, (3,))``: stock / max stock, sales / max sales,
                   missed sales / max sales (of the step just taken)
Action             ``Box(0, shop_max_stock, (1,))``: units to order from the factory
                   (rounded; capped so stock never exceeds ``shop_max_stock``)
Reward             sales − ``cost_of_carry`` × stock held at the end of the step
Stages             none (parallel env); ``num_steps`` steps per episode (100)
Randomness         each customer orders ``integers(0, max_order_size)`` units per step,
                   drawn from the episode generator (``ctx.rng``)
=================  ==========================================================

Within a step, customers' orders are served from the stock on hand; the shop's restock
request goes to the factory in the same round and the delivery arrives in the next
round, after the step's sales (a one-step lead time).
"""

from __future__ import annotations

from typing import Any

from .heuristics import OrderUpToPolicy, best_order_up_to, evaluate_policy_returns
from .model import (
    CustomerAgent,
    FactoryAgent,
    OrderRequest,
    OrderResponse,
    ShopAgent,
    ShopSupertype,
    StockRequest,
    StockResponse,
    SupplyChainEnv,
)


def parallel_env(**kwargs: Any) -> SupplyChainEnv:
    """The supply chain as a PettingZoo ``ParallelEnv``."""
    return SupplyChainEnv(**kwargs)


def env(**kwargs: Any):
    """The supply chain as a PettingZoo ``AECEnv`` (agents act one after another)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(SupplyChainEnv(**kwargs))


__all__ = [
    "CustomerAgent",
    "FactoryAgent",
    "OrderRequest",
    "OrderResponse",
    "OrderUpToPolicy",
    "ShopAgent",
    "ShopSupertype",
    "StockRequest",
    "StockResponse",
    "SupplyChainEnv",
    "best_order_up_to",
    "env",
    "evaluate_policy_returns",
    "parallel_env",
]
