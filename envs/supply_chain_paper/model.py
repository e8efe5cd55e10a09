"""Agents, payloads and environment of the paper's supply chain (Phantom paper, section 3.3).

Shops restock from a factory in the ``"restock"`` stage and sell to customers in the
``"sale"`` stage. Each shop's cost of carry is its *type*, drawn every episode from a
:class:`ShopSupertype`; each shop publishes its selling price through its view
(:class:`ShopView`), and every customer buys from the cheapest shop it is connected to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.engine.checks import check_level
from phantomzoo.errors import ConfigError, NotResetError
from phantomzoo.samplers import Sampler
from phantomzoo.validate import check_int, check_total_agents

from .._ids import PHANTOM, check_agent_ids, learner_ids
from .._pz import episode_length, one_number
from .config import customer_links, parse_cost, parse_prices, shop_costs

OWNER = "supply_chain_paper"
RESTOCK = "restock"
SALE = "sale"
FACTORY_ID = "FACTORY"

#: Index of each quantity in a shop's observation (before its appended type).
ORDERS, SALES, LEFTOVER = 0, 1, 2

#: What :meth:`PaperSupplyChainEnv.global_state` holds for each shop, in order.
STATE_FIELDS = ("stock", "restocked", "orders", "sales", "leftover", "cost_of_carry")

#: Largest accepted counts (a network past ``MAX_AGENTS`` takes minutes to build).
MAX_SHOPS = 100_000
MAX_CUSTOMERS_PER_SHOP = 10_000
MAX_QUANTITY = 10**9
MAX_CYCLES = 10**9
MAX_AGENTS = 1_000_000


class OrderRequest(ph.MsgPayload):
    """Customer --> Shop: units wanted."""

    size: int


class OrderResponse(ph.MsgPayload):
    """Shop --> Customer: units delivered."""

    size: int


class StockRequest(ph.MsgPayload):
    """Shop --> Factory: units to restock."""

    size: int


class StockResponse(ph.MsgPayload):
    """Factory --> Shop: units delivered."""

    size: int


@dataclass(frozen=True)
class ShopView(ph.AgentView):
    """What a shop publishes to its neighbours: its selling price per unit."""

    price: float


@dataclass
class ShopSupertype(ph.Supertype):
    """The family of shop types: the cost of carrying one unit of leftover stock."""

    cost_of_carry: float | Sampler


class FactoryAgent(ph.Agent):
    """Holds unlimited stock and fills every stock request in full, at once."""

    @ph.agents.msg_handler(StockRequest)
    def handle_stock_request(self, ctx: ph.Context, message: ph.Message):
        return [(message.sender_id, StockResponse(message.payload.size))]


class CustomerAgent(ph.Agent):
    """Buys ``integers(0, max_order)`` units in every sale stage from its cheapest shop.

    Prices are read from the connected shops' views; ties are broken uniformly at
    random. Order sizes and tie-breaking draws come from the episode generator
    ``ctx.rng``, ``block`` sale stages at a time (two NumPy calls per block). A customer
    ordering 0 units sends nothing.

    Args:
        agent_id: Id of the customer.
        shop_ids: The shops it is connected to (at least one).
        max_order: Orders are drawn from ``integers(0, max_order)``.
        block: Sale stages drawn per refill of the customer's random draws.
    """

    def __init__(
        self, agent_id: ph.AgentID, shop_ids: Sequence[ph.AgentID], max_order: int, block: int
    ) -> None:
        super().__init__(agent_id)
        self.shop_ids = list(shop_ids)
        self.max_order = max_order
        self.block = block
        self.received = 0
        self.last_size = 0
        self.last_shop: ph.AgentID | None = None
        self._sizes: list[int] = []
        self._ties: list[float] = []

    def reset(self) -> None:
        self.received = 0
        self.last_size = 0
        self.last_shop = None
        self._sizes = []
        self._ties = []

    def generate_messages(self, ctx: ph.Context):
        if ctx.env_view.current_stage != SALE:
            return None
        if not self._sizes:
            self._sizes = ctx.rng.integers(0, self.max_order, size=self.block).tolist()
            self._ties = ctx.rng.random(self.block).tolist()
        size, tie = self._sizes.pop(), self._ties.pop()
        self.last_size = size
        if size == 0:
            self.last_shop = None
            return None
        self.last_shop = self.choose_shop(ctx, tie)
        return [(self.last_shop, OrderRequest(size))]

    def choose_shop(self, ctx: ph.Context, tie: float) -> ph.AgentID:
        """The cheapest connected shop; ``tie`` in [0, 1) picks one among equal prices."""
        shop_ids = self.shop_ids
        if len(shop_ids) == 1:
            return shop_ids[0]
        best = math.inf
        cheapest: list[ph.AgentID] = []
        for shop_id in shop_ids:
            price = ctx.view(shop_id).price
            if price < best:
                best, cheapest = price, [shop_id]
            elif price == best:
                cheapest.append(shop_id)
        return cheapest[int(tie * len(cheapest))]

    @ph.agents.msg_handler(OrderResponse)
    def handle_order_response(self, ctx: ph.Context, message: ph.Message):
        self.received += message.payload.size


class ShopAgent(ph.StrategicAgent):
    """Restocks from the factory (its action) and sells from stock to its customers.

    Observation: orders received, sales made (each divided by the most its connected
    customers can order in one sale) and leftover stock (divided by ``max_stock``), all
    from the last sale stage; the environment appends the cost of carry. Reward, when
    the sale stage resolves: ``price * sales - cost_of_carry * leftover``.

    Args:
        agent_id: Id of the shop.
        price: Selling price per unit, published through :meth:`view`.
        max_stock: Most stock the shop can hold; also the largest restock action.
        max_orders: Most units its customers can order in one sale stage (for scaling).
        supertype: The :class:`ShopSupertype` its cost of carry is drawn from.
    """

    def __init__(
        self,
        agent_id: ph.AgentID,
        price: float,
        max_stock: int,
        max_orders: int,
        supertype: ShopSupertype,
    ) -> None:
        super().__init__(agent_id, supertype=supertype)
        self.price = price
        self._view: ShopView | None = None
        self.max_stock = max_stock
        self.order_scale = max(1, max_orders)
        self.stock = self.orders = self.sales = self.leftover = self.restocked = 0
        self.observation_space = gym.spaces.Box(low=0.0, high=1.0, shape=(3,))
        self.action_space = gym.spaces.Box(low=0.0, high=float(max_stock), shape=(1,))

    def reset(self) -> None:
        self.stock = self.orders = self.sales = self.leftover = self.restocked = 0

    def view(self, neighbour_id: ph.AgentID | None = None) -> ShopView:
        view = self._view
        if view is None or view.price != self.price:  # built once per price
            view = self._view = ShopView(self.price)
        return view

    def decode_action(self, ctx: ph.Context, action: Any):
        wanted = one_number(self.id, action)
        room = self.max_stock - self.stock
        units = int(min(wanted, room) + 0.5) if wanted > 0 else 0  # NaN orders nothing
        self.restocked = 0
        return [(FACTORY_ID, StockRequest(units))] if units > 0 else None

    @ph.agents.msg_handler(StockResponse)
    def handle_stock_response(self, ctx: ph.Context, message: ph.Message):
        delivered = min(message.payload.size, self.max_stock - self.stock)
        self.restocked = delivered
        self.stock += delivered

    def pre_message_resolution(self, ctx: ph.Context) -> None:
        if ctx.env_view.current_stage == SALE:
            self.orders = self.sales = 0

    @ph.agents.msg_handler(OrderRequest)
    def handle_order_request(self, ctx: ph.Context, message: ph.Message):
        wanted = message.payload.size
        sold = wanted if wanted <= self.stock else self.stock
        self.orders += wanted
        self.sales += sold
        self.stock -= sold
        return [(message.sender_id, OrderResponse(sold))]

    def post_message_resolution(self, ctx: ph.Context) -> None:
        if ctx.env_view.current_stage == SALE:
            self.leftover = self.stock

    def encode_observation(self, ctx: ph.Context) -> np.ndarray:
        scale = self.order_scale
        return np.array(
            [self.orders / scale, self.sales / scale, self.leftover / self.max_stock],
            dtype=np.float32,
        )

    def compute_reward(self, ctx: ph.Context) -> float:
        return self.price * self.sales - self.type.cost_of_carry * self.leftover

    def render_state(self) -> str:
        """The shop's line in ``env.render()``: stock, restock and the last sale."""
        return (
            f"stock {self.stock}/{self.max_stock}  restocked {self.restocked}  "
            f"orders {self.orders}  sold {self.sales}  price {self.price:g}"
        )


class PaperSupplyChainEnv(ph.FiniteStateMachineEnv):
    """The paper's supply chain: typed shops, restock and sale stages, prices in views.

    Every cycle is two stages: ``"restock"`` (every shop acts: its restock quantity
    goes to the factory, which delivers at once) then ``"sale"`` (played by the env:
    customers order, shops fill orders from stock and are rewarded). An episode is
    ``num_cycles`` cycles, i.e. ``num_steps = 2 * num_cycles`` stages.

    Args:
        num_shops: Number of learning shops, ``SHOP1..SHOPn`` (1 or more).
        customers_per_shop: Customers per shop; customer ``CUSTj`` of shop ``i``'s block
            is always connected to shop ``i``.
        shops_per_customer: Shops each customer is connected to: its own plus others
            drawn without replacement at construction, capped at ``num_shops``.
            ``None`` connects every customer to every shop.
        max_order: Each customer orders ``integers(0, max_order)`` units per sale.
        shop_max_stock: Most stock a shop holds; restock actions lie in ``[0, this]``.
        num_cycles: Restock + sale cycles per episode.
        prices: Selling price per unit: one number for every shop or one per shop.
            Default 1.0 everywhere.
        cost_of_carry: Cost per unit of leftover stock per cycle: a ``(low, high)``
            range drawn uniformly per shop every reset, a number (every shop, every
            episode), or any :class:`~phantomzoo.samplers.Sampler`.
        agent_supertypes: Per-shop costs, Phantom's way: ``{"SHOP1": {"cost_of_carry":
            0.1}, ...}`` or ``{"SHOP1": ShopSupertype(0.1), ...}`` (values as for
            ``cost_of_carry``; unnamed shops keep it). See ``config.shop_costs``.
        network_seed: Seeds the construction-time draw of customer--shop connections
            (episode randomness comes from ``reset(seed=...)``).
        check_observations: Older debug switch: ``True`` means ``checks="full"``.
        checks: Runtime checks, ``"first"`` (default), ``"full"`` or ``"off"`` (see
            :class:`~phantomzoo.engine.checks.RuntimeChecks`).
        max_cycles: PettingZoo's name for ``num_cycles`` (giving both, different, is
            refused).
        render_mode: ``None``, ``"ansi"`` or ``"human"``: each shop's stock and orders.
        agent_ids: ``"phantom"`` (``SHOP1..SHOPn``, default) or ``"pettingzoo"``
            (``shop_0..shop_{n-1}``, PettingZoo's ``name_N`` convention); names only,
            the same seed plays the same episode.

    The global state (``env.state()``, for centralised critics only; shops observe
    only themselves) is :meth:`global_state`.

    Counts are ints >= 1 (``num_shops`` at most 100,000, ``customers_per_shop``
    10,000, ``max_order``, ``shop_max_stock`` and ``num_cycles`` 10**9; at most
    1,000,000 agents in all), ``network_seed`` an int >= 0, prices finite numbers > 0
    and costs finite numbers >= 0 (a sampler's draws are not bounded here: a draw that
    is NaN is caught by the runtime checks of the first observation and reward).
    Anything else raises :class:`~phantomzoo.errors.ConfigError`.
    """

    metadata = {**ph.FiniteStateMachineEnv.metadata, "name": "supply_chain_paper_v0"}

    def __init__(
        self,
        num_shops: int = 4,
        customers_per_shop: int = 5,
        shops_per_customer: int | None = 2,
        max_order: int = 5,
        shop_max_stock: int = 100,
        num_cycles: int = 100,
        prices: float | Sequence[float] | None = None,
        cost_of_carry: float | tuple[float, float] | Sampler = (0.1, 1.0),
        network_seed: int = 0,
        check_observations: bool | None = None,
        checks: str | None = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
        agent_ids: str = PHANTOM,
        agent_supertypes: Mapping[str, Any] | None = None,
    ) -> None:
        num_cycles = episode_length(OWNER, "num_cycles", num_cycles, 100, max_cycles, MAX_CYCLES)
        for name, value, high in (
            ("num_shops", num_shops, MAX_SHOPS),
            ("customers_per_shop", customers_per_shop, MAX_CUSTOMERS_PER_SHOP),
            ("max_order", max_order, MAX_QUANTITY),
            ("shop_max_stock", shop_max_stock, MAX_QUANTITY),
            ("num_cycles", num_cycles, MAX_CYCLES),
        ):
            check_int(OWNER, name, value, low=1, high=high)
        if shops_per_customer is not None:
            check_int(OWNER, "shops_per_customer", shops_per_customer, low=1)
        check_int(OWNER, "network_seed", network_seed, low=0)
        if check_observations is not None and not isinstance(check_observations, bool):
            raise ConfigError(
                f"{OWNER}: check_observations must be a bool, got {check_observations!r}"
            )
        level = check_level(check_observations, checks)
        check_total_agents(OWNER, 1 + num_shops * (1 + customers_per_shop), MAX_AGENTS)
        agent_ids = check_agent_ids(OWNER, agent_ids)
        self.shop_ids = learner_ids(agent_ids, "shop", num_shops)
        shop_prices = parse_prices(prices, self.shop_ids)
        costs = shop_costs(
            agent_supertypes, self.shop_ids, parse_cost(cost_of_carry), ShopSupertype
        )
        self.config: dict[str, Any] = dict(
            num_shops=num_shops,
            customers_per_shop=customers_per_shop,
            shops_per_customer=shops_per_customer,
            max_order=max_order,
            shop_max_stock=shop_max_stock,
            num_cycles=num_cycles,
            prices=shop_prices,
            cost_of_carry=cost_of_carry,
            network_seed=network_seed,
            agent_ids=agent_ids,
        )
        if agent_supertypes is not None:  # recorded only when given
            self.config["agent_supertypes"] = agent_supertypes
        links = customer_links(num_shops, customers_per_shop, shops_per_customer, network_seed)
        block = min(num_cycles, 100)
        customers = [
            CustomerAgent(f"CUST{c + 1}", [self.shop_ids[s] for s in shops], max_order, block)
            for c, shops in enumerate(links)
        ]
        self.customer_ids = [c.id for c in customers]
        network = self._build_network(customers, shop_prices, costs)
        self.num_cycles = num_cycles
        super().__init__(
            num_steps=2 * num_cycles,
            network=network,
            initial_stage=RESTOCK,
            stages=[
                ph.FSMStage(RESTOCK, self.shop_ids, rewarded_agents=[], next_stages=[SALE]),
                ph.FSMStage(SALE, [], rewarded_agents=self.shop_ids, next_stages=[RESTOCK]),
            ],
            checks=level,
            render_mode=render_mode,
        )
        self.state_space = self._state_space(costs[self.shop_ids[0]])  # one range: widened

    # ---------------------------------------------------------------- global state
    def _state_space(self, cost: Sampler) -> gym.spaces.Box:
        """``Box`` of :meth:`global_state`: [0, 1] but the cost of carry (its sampler's
        bounds; infinite only for a sampler that declares none)."""
        low, high = cost.bounds()
        block_low = np.array([0.0] * (len(STATE_FIELDS) - 1) + [float(np.min(low))])
        block_high = np.array([1.0] * (len(STATE_FIELDS) - 1) + [float(np.max(high))])
        n = len(self.shop_ids)
        return gym.spaces.Box(
            np.concatenate([np.tile(block_low, n), [0.0]]).astype(np.float32),
            np.concatenate([np.tile(block_high, n), [1.0]]).astype(np.float32),
            dtype=np.float32,
        )

    def global_state(self) -> np.ndarray:
        """The modeller's state for centralised critics (``env.state()``).

        For each shop in ``shop_ids`` order, :data:`STATE_FIELDS`: stock, units
        restocked in the last restock and leftover stock (each / ``shop_max_stock``),
        orders and sales of the last sale (each / the most its customers can order),
        then its cost of carry (its type); after the shops, the fraction of the episode's
        stages played. (Every turn is in the restock stage: the env plays each sale
        stage at once.) Read from the agents, never written: shops still observe only
        themselves.

        Raises:
            NotResetError: before the first ``reset``.
        """
        if not self.engine.ever_reset:
            raise NotResetError("state() called before reset(); call env.reset(seed=...) first")
        rows = []
        for shop_id in self.shop_ids:
            shop: ShopAgent = self.network[shop_id]  # type: ignore[assignment]
            stock_scale, order_scale = shop.max_stock, shop.order_scale
            rows.extend(
                (
                    shop.stock / stock_scale,
                    shop.restocked / stock_scale,
                    shop.orders / order_scale,
                    shop.sales / order_scale,
                    shop.leftover / stock_scale,
                    shop.type.cost_of_carry,
                )
            )
        rows.append(self.current_step / self.num_steps)
        return np.array(rows, dtype=np.float32)

    def _build_network(
        self, customers: list[CustomerAgent], prices: list[float], costs: dict[str, Sampler]
    ) -> ph.Network:
        max_order = self.config["max_order"]
        reach = {shop_id: 0 for shop_id in self.shop_ids}
        for customer in customers:
            for shop_id in customer.shop_ids:
                reach[shop_id] += 1
        shops = [
            ShopAgent(
                shop_id,
                price=price,
                max_stock=self.config["shop_max_stock"],
                max_orders=reach[shop_id] * (max_order - 1),
                supertype=ShopSupertype(cost_of_carry=costs[shop_id]),
            )
            for shop_id, price in zip(self.shop_ids, prices)
        ]
        network = ph.Network([FactoryAgent(FACTORY_ID), *shops, *customers])
        network.add_connections_from((shop_id, FACTORY_ID) for shop_id in self.shop_ids)
        network.add_connections_from((c.id, shop_id) for c in customers for shop_id in c.shop_ids)
        return network
