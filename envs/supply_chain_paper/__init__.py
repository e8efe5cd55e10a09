"""The paper's supply chain (Phantom paper, section 3.3): typed shops in two stages.

==================  ==============================================================
Agents              ``SHOP1..SHOPn`` (strategic; ``shop_0..`` with
                    ``agent_ids="pettingzoo"``), ``FACTORY``, ``CUST1..CUSTm``
                    (``m = num_shops * customers_per_shop`` customers)
Network             every shop -- factory; every customer -- its own shop plus
                    ``shops_per_customer - 1`` others drawn at construction from
                    ``network_seed`` (``None``: every shop); shops never see each other
Types               ``ShopSupertype(cost_of_carry)``: uniform on ``cost_of_carry``
                    (default ``(0.1, 1.0)``), redrawn per shop every reset; a number
                    fixes it
Observation         ``Box(3 + 1)``: orders received, sales made (each / the most the
                    shop's customers can order), leftover stock / ``shop_max_stock``,
                    all of the last sale, then the cost of carry (appended by the env)
Action              ``Box(0, shop_max_stock, (1,))``: units to restock (rounded;
                    capped so stock never exceeds ``shop_max_stock``)
Stages              ``"restock"`` (acting: every shop; rewarded: none; the factory
                    delivers at once) --> ``"sale"`` (acting: none, played by the env;
                    rewarded: every shop) --> ``"restock"`` ...
Reward              ``price * sales - cost_of_carry * leftover stock``, at each sale
Episode             ``num_cycles`` restock + sale cycles (default 100), i.e.
                    ``num_steps = 2 * num_cycles`` stages; one ``acting_step`` or one
                    round of AEC turns plays one cycle
Global state        ``env.state()`` (critics only): per shop stock, last restock,
                    orders, sales, leftover (scaled to [0, 1]) and cost of carry,
                    then the fraction of the episode played (``state_space``)
Randomness          customers order ``integers(0, max_order)`` units per sale and buy
                    from their cheapest connected shop (price from its ``ShopView``),
                    ties broken at random; all draws come from the episode generator
==================  ==============================================================

::

    env = ph.make("supply_chain_paper_v0", num_shops=10)
    from phantomzoo.envs import supply_chain_paper_v0
    aec = supply_chain_paper_v0.env(num_shops=10, prices=[1.0] * 9 + [0.9])

The env is a PettingZoo ``AECEnv`` (a :class:`~phantomzoo.FiniteStateMachineEnv`);
trainers can also drive it through the acting-agents protocol (``acting_reset`` /
``acting_step``). :func:`best_order_up_to_by_cost` gives the best order-up-to level per
cost of carry, the yardstick for trained policies.
"""

from __future__ import annotations

from typing import Any

import phantomzoo as ph

from .heuristics import (
    CostTablePolicy,
    OrderUpToPolicy,
    best_order_up_to,
    best_order_up_to_by_cost,
    cost_table_policy,
    episode_returns,
)
from .model import (
    CustomerAgent,
    FactoryAgent,
    OrderRequest,
    OrderResponse,
    PaperSupplyChainEnv,
    ShopAgent,
    ShopSupertype,
    ShopView,
    StockRequest,
    StockResponse,
)

raw_env = PaperSupplyChainEnv


def env(**kwargs: Any) -> PaperSupplyChainEnv:
    """The paper's supply chain as a PettingZoo ``AECEnv`` (see the module table)."""
    return PaperSupplyChainEnv(**kwargs)


def parallel_env(**kwargs: Any) -> ph.StagedParallelEnv:
    """The model as a PettingZoo ``ParallelEnv``: its staged env's parallel view.

    Every live agent appears every step; ``infos[agent]["acting"]`` says whose action is
    used; rewards arrive as they accrue (see :mod:`phantomzoo.parallel`).
    """
    return ph.StagedParallelEnv(PaperSupplyChainEnv(**kwargs))


__all__ = [
    "CostTablePolicy",
    "CustomerAgent",
    "FactoryAgent",
    "OrderRequest",
    "OrderResponse",
    "OrderUpToPolicy",
    "PaperSupplyChainEnv",
    "ShopAgent",
    "ShopSupertype",
    "ShopView",
    "StockRequest",
    "StockResponse",
    "best_order_up_to",
    "best_order_up_to_by_cost",
    "cost_table_policy",
    "env",
    "parallel_env",
    "episode_returns",
    "raw_env",
]
