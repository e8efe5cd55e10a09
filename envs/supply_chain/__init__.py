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

**Batched path** (``ph.make("supply_chain_v0", num_shops=1000, batched=True)``). Every
agent class also has batched twins (:mod:`.batched`): one NumPy call per class and hook
(shops' restock orders, observations and rewards; customers' orders; the factory's
replies; the shops' sales) instead of one Python call per agent and message. The
episode is the same, message for message (``ph.testing.check_batched`` plays both
and compares, in CI). Use it for large populations: from about 100 shops it is several
times faster than the per-agent path (over 10x at 1000 shops), while below about 10
shops its fixed cost per NumPy call makes it slower (about 7x slower at 1 shop); training
code and policies are unchanged. What it costs a modeller: about 150 lines of twins next
to the per-agent methods, which stay the definition and must be kept in step with them.
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
