"""Batched twins of the supply chain's agents (``SupplyChainEnv(batched=True)``).

Each mixin holds the class methods that do, for every agent of its class at once, what
the per-agent methods in :mod:`.model` do one agent at a time (those stay the
definition; ``ph.testing.check_batched`` plays the same seeded episode both ways).
Agents' attributes (``stock``, ``sales``, ``missed_sales``, ``delivered_stock``,
``received``) stay the model's state: each twin reads the ones it needs and writes back
the ones it changes. ``group.scratch`` only caches what is fixed for an episode (limits,
index arrays) and the customers' pre-drawn orders.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import phantomzoo as ph
from phantomzoo.engine.batched_columns import MessageColumns, Outbox
from phantomzoo.engine.batched_groups import AgentGroup
from phantomzoo.errors import ActionError

from .payloads import OrderRequest, OrderResponse, StockRequest, StockResponse


def _ints(values: list[Any]) -> np.ndarray:
    return np.fromiter(values, np.int64, len(values))


class FactoryTwins:
    """The factory fills every stock request in full: one reply column."""

    @ph.agents.batch_handler(StockRequest)
    def handle_stock_requests(cls, agents: list[Any], group: AgentGroup, batch: MessageColumns):
        return batch.reply(StockResponse, size=batch.size)


class CustomerTwins:
    """Customers' orders (drawn a block of steps at a time, as each customer does) and
    the deliveries they count."""

    @classmethod
    def generate_batched_messages(cls, agents: list[Any], group: AgentGroup) -> Outbox:
        scratch = group.scratch
        first = agents[0]
        uniform = scratch.get("uniform")
        if uniform is None:
            uniform = scratch["uniform"] = all(
                a.max_order_size == first.max_order_size and a.block == first.block for a in agents
            )
        if not uniform:  # customers that differ: the per-agent draws, in order
            sizes = [a.generate_messages(c)[0][1].size for a, c in zip(agents, group)]
            return Outbox(OrderRequest, to=_shops(group), size=np.array(sizes, np.int64))
        orders, t = scratch.get("orders"), scratch.get("t", 0)
        if orders is None or t >= orders.shape[1]:
            # customer i's block is row i: the same draws as one call per customer
            orders = group.rng.integers(0, first.max_order_size, size=(len(agents), first.block))
            scratch["orders"], t = orders, 0
        scratch["t"] = t + 1
        return Outbox(OrderRequest, to=_shops(group), size=orders[:, t])

    @ph.agents.batch_handler(OrderResponse)
    def handle_order_responses(cls, agents: list[Any], group: AgentGroup, batch: MessageColumns):
        # the customers' counts as an array, read once per episode: only this handler
        # changes them (every change is written back to the attributes)
        received = group.scratch.get("received")
        if received is None:
            received = _ints([a.received for a in agents])
        received = received + np.bincount(
            batch.rows, weights=batch.size, minlength=len(agents)
        ).astype(np.int64)
        group.scratch["received"] = received
        for agent, value in zip(agents, received.tolist()):
            agent.received = value


def _shops(group: AgentGroup) -> np.ndarray:
    """Each customer's shop, as network indices (cached for the episode)."""
    shops = group.scratch.get("shops")
    if shops is None:
        shops = group.scratch["shops"] = group.index([a.shop_id for a in group.agents])
    return shops


class ShopTwins:
    """Shops: restock orders from actions, sales from stock, observations and rewards.

    Within a step the shops' state is also kept as arrays (``_state``): read from the
    attributes once, in ``pre_message_resolutions``, and written back on every change.
    """

    @classmethod
    def pre_message_resolutions(cls, agents: list[Any], group: AgentGroup) -> None:
        for agent in agents:
            agent.sales = 0
            agent.missed_sales = 0
        n = len(agents)
        group.scratch["state"] = {
            "step": group.current_step,
            "stock": _ints([a.stock for a in agents]),
            "sales": np.zeros(n, np.int64),
            "missed": np.zeros(n, np.int64),
        }

    @classmethod
    def decode_actions(cls, agents: list[Any], group: AgentGroup, actions: np.ndarray) -> Outbox:
        n = len(agents)
        if actions.size != n or actions.dtype.kind not in "iuf":
            raise ActionError(
                f"shops' actions must hold one number each, got an array of shape "
                f"{actions.shape} and dtype {actions.dtype} for {n} shops"
            )
        wanted = np.rint(actions.reshape(n).astype(np.float64))
        if not np.isfinite(wanted).all():
            bad = int(np.flatnonzero(~np.isfinite(wanted))[0])
            raise ActionError(
                f"action of agent {group.ids[bad]!r} is {actions.reshape(n)[bad]!r}; shops "
                "order a finite number of units"
            )
        limits = _limits(group)
        room = limits["max_stock"] - _state(group)["stock"]
        size = np.clip(wanted, 0, room).astype(np.int64)
        return Outbox(StockRequest, to=limits["factory"], size=size)

    @ph.agents.batch_handler(OrderRequest)
    def handle_order_requests(cls, agents: list[Any], group: AgentGroup, batch: MessageColumns):
        state = _state(group)
        stock, rows = state["stock"], batch.rows
        requested = batch.size.astype(np.int64)
        if requested.size and requested.min() < 0:  # a negative order restocks: sequential
            sold = _sell_in_order(rows.tolist(), requested.tolist(), stock)
        else:
            sold = _sell_grouped(rows, requested, stock, len(agents))
        n = len(agents)
        total = np.bincount(rows, weights=sold, minlength=n).astype(np.int64)
        asked = np.bincount(rows, weights=requested, minlength=n).astype(np.int64)
        state["stock"] = stock = stock - total
        state["sales"] = sales = state["sales"] + total
        state["missed"] = missed = state["missed"] + (asked - total)
        for agent, a, b, c in zip(agents, stock.tolist(), sales.tolist(), missed.tolist()):
            agent.stock = a
            agent.sales = b
            agent.missed_sales = c
        return batch.reply(OrderResponse, size=sold)

    @ph.agents.batch_handler(StockResponse)
    def handle_stock_responses(cls, agents: list[Any], group: AgentGroup, batch: MessageColumns):
        state = _state(group)
        rows, sizes = batch.rows, batch.size.astype(np.int64)
        max_stock = _limits(group)["max_stock"]
        stock = state["stock"].copy()
        repeated = len(rows) > 1 and bool((rows[1:] == rows[:-1]).any())  # rows are grouped
        if repeated or (sizes.size and sizes.min() < 0):
            for row, size in zip(rows.tolist(), sizes.tolist()):  # several per shop: in order
                stock[row] = min(stock[row] + size, max_stock[row])
        else:
            stock[rows] = np.minimum(stock[rows] + sizes, max_stock[rows])
        state["stock"] = stock
        for row, size, value in zip(rows.tolist(), sizes.tolist(), stock[rows].tolist()):
            agent = agents[row]
            agent.delivered_stock = size  # the last delivery of the step, as per message
            agent.stock = value

    @classmethod
    def encode_observations(cls, agents: list[Any], group: AgentGroup) -> np.ndarray:
        limits, state = _limits(group), _state(group)
        scale = limits["scale"]
        columns = (
            state["stock"] / limits["max_stock"],
            state["sales"] / scale,
            state["missed"] / scale,
        )
        return np.stack(columns, axis=1).astype(np.float32)

    @classmethod
    def compute_rewards(cls, agents: list[Any], group: AgentGroup) -> np.ndarray:
        state = _state(group)
        return state["sales"] - _limits(group)["cost"] * state["stock"]


def _state(group: AgentGroup) -> dict[str, Any]:
    """The shops' stock, sales and missed sales as arrays: this step's, else read from
    the attributes (at reset, before any step)."""
    state = group.scratch.get("state")
    if state is None or state["step"] != group.current_step:
        agents = group.agents
        state = group.scratch["state"] = {
            "step": group.current_step,
            "stock": _ints([a.stock for a in agents]),
            "sales": _ints([a.sales for a in agents]),
            "missed": _ints([a.missed_sales for a in agents]),
        }
    return state


def _limits(group: AgentGroup) -> dict[str, np.ndarray]:
    """Per-episode constants of the shops (set at reset): max stock, sales scale, cost of
    carry (a typed shop draws its own each reset), factory indices."""
    limits = group.scratch.get("limits")
    if limits is None:
        agents = group.agents
        limits = group.scratch["limits"] = {
            "max_stock": _ints([a.max_stock for a in agents]),
            "scale": _ints([a.max_sales_per_step for a in agents]),
            "cost": np.array([a.cost_of_carry for a in agents], np.float64),
            "factory": group.index([a.factory_id for a in agents]),
        }
    return limits


def _sell_grouped(rows: np.ndarray, requested: np.ndarray, stock: np.ndarray, n: int) -> np.ndarray:
    """Units sold per order when each shop serves its orders in turn from its stock:
    an order gets what is left after the orders before it (rows grouped, sizes >= 0)."""
    before = np.cumsum(requested) - requested  # all orders before this one
    counts = np.bincount(rows, minlength=n)
    starts = (np.cumsum(counts) - counts)[rows]  # the first order of each order's shop
    earlier = before - before[starts]  # this shop's orders before this one
    left = np.maximum(stock[rows] - earlier, 0)
    return np.minimum(requested, left)


def _sell_in_order(rows: list[int], sizes: list[int], stock: np.ndarray) -> np.ndarray:
    """The per-message rule, one order at a time (any sizes)."""
    left = stock.tolist()
    sold = []
    for row, requested in zip(rows, sizes):
        if requested > left[row]:
            sold.append(left[row])
            left[row] = 0
        else:
            sold.append(requested)
            left[row] -= requested
    return np.array(sold, np.int64)
