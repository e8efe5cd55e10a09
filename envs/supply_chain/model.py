"""Agents, payloads and environment of the tutorial supply chain, written with the public API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.samplers import Sampler, UniformFloatSampler
from phantomzoo.validate import check_bool, check_int, check_number, check_total_agents

from .._ids import PETTINGZOO, PHANTOM, check_agent_ids
from .._pz import episode_length, one_number
from .._supertypes import field_overrides, widen
from .batched import CustomerTwins, FactoryTwins, ShopTwins
from .payloads import OrderRequest, OrderResponse, StockRequest, StockResponse

#: Largest accepted values of the count arguments (far above the benchmarked 1000 shops;
#: a network past :data:`MAX_AGENTS` would take minutes and gigabytes to build).
MAX_SHOPS = 100_000
MAX_CUSTOMERS = 10_000
MAX_QUANTITY = 10**9
MAX_STEPS = 10**9
MAX_AGENTS = 1_000_000


#: Sizes whose payloads are built once: payloads are immutable, so one object per size
#: serves every message of that size (indexing a table costs about 20 ns, building a
#: payload about 200 ns, and the supply chain sends 12 payloads per shop-step).
PAYLOAD_TABLE_SIZE = 1024
_ORDER_REQUESTS = tuple(OrderRequest(k) for k in range(PAYLOAD_TABLE_SIZE))
_ORDER_RESPONSES = tuple(OrderResponse(k) for k in range(PAYLOAD_TABLE_SIZE))
_STOCK_REQUESTS = tuple(StockRequest(k) for k in range(PAYLOAD_TABLE_SIZE))
_STOCK_RESPONSES = tuple(StockResponse(k) for k in range(PAYLOAD_TABLE_SIZE))


@dataclass
class ShopSupertype(ph.Supertype):
    """A shop's type when ``agent_supertypes`` is given: its cost of carry."""

    cost_of_carry: float | Sampler


class FactoryAgent(FactoryTwins, ph.Agent):
    """Holds unlimited stock and fills every stock request in full."""

    @ph.agents.msg_handler(StockRequest)
    def handle_stock_request(self, ctx: ph.Context, message: ph.Message):
        size = message.payload.size
        if 0 <= size < PAYLOAD_TABLE_SIZE:
            return [(message.sender_id, _STOCK_RESPONSES[size])]
        return [(message.sender_id, StockResponse(size))]


class CustomerAgent(CustomerTwins, ph.Agent):
    """Orders ``integers(0, max_order_size)`` units from its shop every step.

    Order sizes come from the episode generator ``ctx.rng``, drawn ``block`` steps at a
    time (one NumPy call per block instead of one per step).
    """

    def __init__(
        self, agent_id: ph.AgentID, shop_id: ph.AgentID, max_order_size: int = 5, block: int = 100
    ) -> None:
        super().__init__(agent_id)
        self.shop_id = shop_id
        self.max_order_size = max_order_size
        self.block = block
        self.received = 0
        self._orders: list[int] = []

    def reset(self) -> None:
        self.received = 0
        self._orders = []

    def generate_messages(self, ctx: ph.Context):
        if not self._orders:
            self._orders = ctx.rng.integers(0, self.max_order_size, size=self.block).tolist()
            self._orders.reverse()
        size = self._orders.pop()
        if size < PAYLOAD_TABLE_SIZE:  # sizes are drawn >= 0
            return [(self.shop_id, _ORDER_REQUESTS[size])]
        return [(self.shop_id, OrderRequest(size))]

    @ph.agents.msg_handler(OrderResponse)
    def handle_order_response(self, ctx: ph.Context, message: ph.Message):
        self.received += message.payload.size


class ShopAgent(ShopTwins, ph.StrategicAgent):
    """Sells to its customers from stock and restocks from the factory (learns)."""

    def __init__(
        self,
        agent_id: ph.AgentID,
        factory_id: ph.AgentID,
        num_customers: int = 5,
        max_order_size: int = 5,
        max_stock: int = 100,
        cost_of_carry: float = 0.1,
        supertype: ShopSupertype | None = None,
    ) -> None:
        super().__init__(agent_id, supertype=supertype)
        self.factory_id = factory_id
        self.max_stock = max_stock
        self.cost_of_carry = cost_of_carry
        self.max_sales_per_step = num_customers * max_order_size
        self.stock = 0
        self.sales = 0
        self.missed_sales = 0
        self.delivered_stock = 0
        # [stock, sales, missed sales], each scaled to [0, 1]
        self.observation_space = gym.spaces.Box(low=0.0, high=1.0, shape=(3,))
        # [restock quantity]
        self.action_space = gym.spaces.Box(low=0.0, high=float(max_stock), shape=(1,))

    def reset(self) -> None:
        if self.type is not None:  # a typed shop: this episode's cost of carry
            self.cost_of_carry = float(self.type.cost_of_carry)
        self.stock = 0
        self.sales = 0
        self.missed_sales = 0
        self.delivered_stock = 0

    def pre_message_resolution(self, ctx: ph.Context) -> None:
        self.sales = 0
        self.missed_sales = 0

    @ph.agents.msg_handler(StockResponse)
    def handle_stock_response(self, ctx: ph.Context, message: ph.Message):
        self.delivered_stock = message.payload.size
        self.stock = min(self.stock + self.delivered_stock, self.max_stock)

    @ph.agents.msg_handler(OrderRequest)
    def handle_order_request(self, ctx: ph.Context, message: ph.Message):
        requested = message.payload.size
        if requested > self.stock:
            self.missed_sales += requested - self.stock
            sold = self.stock
            self.stock = 0
        else:
            sold = requested
            self.stock -= requested
        self.sales += sold
        if 0 <= sold < PAYLOAD_TABLE_SIZE:
            return [(message.sender_id, _ORDER_RESPONSES[sold])]
        return [(message.sender_id, OrderResponse(sold))]

    def encode_observation(self, ctx: ph.Context) -> np.ndarray:
        scale = self.max_sales_per_step
        return np.array(
            [self.stock / self.max_stock, self.sales / scale, self.missed_sales / scale],
            dtype=np.float32,
        )

    def decode_action(self, ctx: ph.Context, action: Any):
        requested = min(int(round(one_number(self.id, action))), self.max_stock - self.stock)
        requested = max(requested, 0)
        if requested < PAYLOAD_TABLE_SIZE:
            return [(self.factory_id, _STOCK_REQUESTS[requested])]
        return [(self.factory_id, StockRequest(requested))]

    def compute_reward(self, ctx: ph.Context) -> float:
        return self.sales - self.cost_of_carry * self.stock

    def render_state(self) -> str:
        """The shop's line in ``env.render()``: stock and the last step's orders."""
        orders = self.sales + self.missed_sales
        return (
            f"stock {self.stock}/{self.max_stock}  orders {orders}  sold {self.sales}  "
            f"missed {self.missed_sales}  delivered {self.delivered_stock}"
        )


class SupplyChainEnv(ph.PhantomEnv):
    """The tutorial supply chain, with ``num_shops`` shops sharing one factory.

    Args:
        num_shops: Number of shops, each with its own ``num_customers`` customers.
        num_customers: Customers per shop (tutorial: 5).
        max_order_size: Customers order ``integers(0, max_order_size)`` units (tutorial: 5).
        shop_max_stock: Most stock a shop can hold (tutorial: 100).
        num_steps: Steps per episode (tutorial: 100).
        cost_of_carry: Reward penalty per unit of stock held (tutorial: 0.1); a finite
            number >= 0.
        agent_supertypes: Phantom's per-shop types, ``{"SHOP1": {"cost_of_carry": 0.2}}``
            or ``{"SHOP1": ShopSupertype(UniformFloatSampler(0.1, 0.3))}`` (a number, a
            ``(low, high)`` range or a sampler). Given (even ``{}``), every shop becomes
            typed: its cost of carry is drawn each reset (a number: always that one) and
            appended to its observation, within one range common to all shops.
        check_observations: Older debug switch of :class:`~phantomzoo.PhantomEnv`:
            ``True`` means ``checks="full"``.
        checks: Runtime checks, ``"first"`` (default), ``"full"`` or ``"off"`` (see
            :class:`~phantomzoo.PhantomEnv`).
        max_cycles: PettingZoo's name for ``num_steps`` (giving both, different, is
            refused).
        render_mode: ``None``, ``"ansi"`` or ``"human"``: each shop's stock and orders.
        agent_ids: ``"phantom"`` (``SHOP``, or ``SHOP1..SHOPn`` for several shops;
            default) or ``"pettingzoo"`` (``shop_0..shop_{n-1}``, PettingZoo's
            ``name_N`` convention, even for one shop). Customers keep their ids; the
            same seed plays the same episode under either scheme.
        batched: ``True`` steps every shop, customer and the factory with their batched
            twins (:mod:`.batched`, :mod:`phantomzoo.engine.batched`): one NumPy call per
            class and hook instead of one Python call per agent and message. The episode
            is the same (same seed, same observations, rewards and messages; checked by
            ``ph.testing.check_batched``); use it for large populations (about 100 shops
            and more), where it is many times faster; below about 10 shops it is slower.
            Off by default.

    Counts are ints >= 1 (``num_shops`` at most 100,000, ``num_customers`` 10,000,
    ``max_order_size``, ``shop_max_stock`` and ``num_steps`` 10**9, and at most
    1,000,000 agents in all); anything else raises :class:`~phantomzoo.errors.ConfigError`
    naming the argument and the accepted range.
    """

    metadata: dict[str, Any] = {**ph.PhantomEnv.metadata, "name": "supply_chain_v0"}

    def __init__(
        self,
        num_shops: int = 1,
        num_customers: int = 5,
        max_order_size: int = 5,
        shop_max_stock: int = 100,
        num_steps: int = 100,
        cost_of_carry: float = 0.1,
        check_observations: bool | None = None,
        checks: str | None = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
        agent_ids: str = PHANTOM,
        agent_supertypes: Mapping[str, Any] | None = None,
        batched: bool = False,
    ) -> None:
        owner = "supply_chain"
        num_steps = episode_length(owner, "num_steps", num_steps, 100, max_cycles, MAX_STEPS)
        num_shops = check_int(owner, "num_shops", num_shops, 1, MAX_SHOPS)
        num_customers = check_int(owner, "num_customers", num_customers, 1, MAX_CUSTOMERS)
        max_order_size = check_int(owner, "max_order_size", max_order_size, 1, MAX_QUANTITY)
        shop_max_stock = check_int(owner, "shop_max_stock", shop_max_stock, 1, MAX_QUANTITY)
        num_steps = check_int(owner, "num_steps", num_steps, 1, MAX_STEPS)
        cost_of_carry = check_number(owner, "cost_of_carry", cost_of_carry, low=0.0)
        if check_observations is not None:
            check_bool(owner, "check_observations", check_observations)
        check_total_agents(owner, 1 + num_shops * (1 + num_customers), MAX_AGENTS)
        agent_ids = check_agent_ids(owner, agent_ids)
        self.config = dict(
            num_shops=num_shops,
            num_customers=num_customers,
            max_order_size=max_order_size,
            shop_max_stock=shop_max_stock,
            num_steps=num_steps,
            cost_of_carry=cost_of_carry,
            agent_ids=agent_ids,
        )
        if agent_supertypes is not None:  # recorded only when given
            self.config["agent_supertypes"] = agent_supertypes
        check_bool(owner, "batched", batched)
        if batched:  # recorded only when on
            self.config["batched"] = True
        factory_id = "WAREHOUSE"
        agents: list[ph.Agent] = [FactoryAgent(factory_id)]
        network_pairs = []
        self.shop_ids: list[str] = []
        for s in range(num_shops):
            phantom_id = "SHOP" if num_shops == 1 else f"SHOP{s + 1}"
            shop_id = f"shop_{s}" if agent_ids == PETTINGZOO else phantom_id
            prefix = "" if num_shops == 1 else f"{phantom_id}_"
            customer_ids = [f"{prefix}CUST{c + 1}" for c in range(num_customers)]
            agents.append(
                ShopAgent(
                    shop_id,
                    factory_id,
                    num_customers=num_customers,
                    max_order_size=max_order_size,
                    max_stock=shop_max_stock,
                    cost_of_carry=cost_of_carry,
                )
            )
            agents.extend(
                CustomerAgent(c, shop_id, max_order_size, block=min(num_steps, 100))
                for c in customer_ids
            )
            network_pairs.append((shop_id, factory_id))
            network_pairs.extend((shop_id, c) for c in customer_ids)
            self.shop_ids.append(shop_id)
        network = ph.Network(agents)
        network.add_connections_from(network_pairs)
        for shop_id, cost in shop_costs(agent_supertypes, self.shop_ids, cost_of_carry).items():
            network[shop_id].supertype = ShopSupertype(cost_of_carry=cost)
        super().__init__(
            num_steps=num_steps,
            network=network,
            check_observations=check_observations,
            checks=checks,
            render_mode=render_mode,
        )
        self.engine.batched = bool(batched)
        # The global state for centralised critics (PettingZoo's state()): every shop's
        # stock, sales and missed sales (as each shop observes its own) and the time.
        self.state_space = gym.spaces.Box(0.0, 1.0, (3 * num_shops + 1,), np.float32)

    def global_state(self) -> np.ndarray:
        """Each shop's (stock, sales, missed sales), scaled to [0, 1], then the fraction of
        the episode elapsed; for critics only (shops observe only themselves)."""
        parts = [self.network[i].encode_observation(None) for i in self.shop_ids]
        parts.append(np.array([self.current_step / self.num_steps], np.float32))
        return np.concatenate(parts)


def shop_costs(agent_supertypes: Any, shop_ids: list[str], default: float) -> dict[str, Sampler]:
    """Each shop's cost-of-carry sampler when ``agent_supertypes`` is given (else none):
    its own value from it, else ``default``; one common range for all shops."""
    if agent_supertypes is None:
        return {}
    own = field_overrides(
        "supply_chain", agent_supertypes, shop_ids, ShopSupertype, "cost_of_carry", _cost, default
    )
    return widen(
        {shop_id: own.get(shop_id, _cost(default, "cost_of_carry")) for shop_id in shop_ids}
    )


def _cost(value: Any, name: str) -> Sampler:
    """A cost of carry as a sampler: a number ``c`` (``UniformFloatSampler(c, c)``, so the
    type stays bounded), a ``(low, high)`` range or a sampler drawing values >= 0."""
    owner = "supply_chain"
    if isinstance(value, Sampler):
        low = float(np.min(value.bounds()[0]))
        if not low >= 0.0:
            raise ConfigError(
                f"{owner}: {name} = {value!r} may draw {low:g}; costs of carry are >= 0, so "
                "bound (or clip) the sampler at 0"
            )
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        low = check_number(owner, f"{name} low", value[0], low=0.0)
        high = check_number(owner, f"{name} high", value[1], low=low)
        return UniformFloatSampler(low, high)
    number = check_number(owner, name, value, low=0.0)
    return UniformFloatSampler(number, number)
