"""The paper's supply chain: registry, conformance, stages, prices, types, rewards, baselines."""

from __future__ import annotations

import numpy as np
import pytest
from pettingzoo import AECEnv

import phantomzoo as ph
from phantomzoo.envs import supply_chain_paper_v0
from phantomzoo.envs.supply_chain_paper import (
    CostTablePolicy,
    OrderUpToPolicy,
    PaperSupplyChainEnv,
    ShopView,
    StockRequest,
    best_order_up_to_by_cost,
    cost_table_policy,
    episode_returns,
)
from phantomzoo.errors import ConfigError, NetworkError
from phantomzoo.policy import RandomPolicy
from phantomzoo.samplers import UniformFloatSampler
from phantomzoo.testing import check_env

NAME = "supply_chain_paper_v0"


def act_all(env, units):
    """One action of ``units`` for every acting shop."""
    return {i: np.array([units], dtype=np.float32) for i in env.acting_agents}


def shop_demand(env, shop_id):
    """Units ordered from ``shop_id`` in the last sale, read off its customers."""
    customers = [env.network[c] for c in env.customer_ids]
    return sum(c.last_size for c in customers if c.last_shop == shop_id)


@pytest.mark.parametrize("num_shops", [1, 3, 10, 100])
def test_builds_at_several_sizes(num_shops):
    env = ph.make(NAME, num_shops=num_shops, customers_per_shop=2)
    assert isinstance(env, AECEnv)
    assert env.possible_agents == [f"SHOP{i + 1}" for i in range(num_shops)]
    assert len(env.network) == 1 + num_shops + 2 * num_shops
    assert env.observation_space("SHOP1").shape == (4,)
    assert env.action_space("SHOP1") == ph.make(NAME).action_space("SHOP1")
    observations, _ = env.acting_reset(seed=0)
    assert set(observations) == set(env.possible_agents)
    env.acting_step(act_all(env, 10.0))


def test_module_surface():
    aec = supply_chain_paper_v0.env(num_shops=2)
    assert (
        isinstance(aec, PaperSupplyChainEnv)
        and supply_chain_paper_v0.raw_env is PaperSupplyChainEnv
    )
    assert aec.metadata["name"] == NAME
    aec.reset(seed=0)
    assert aec.agent_selection == "SHOP1"
    aec.step(np.array([5.0], dtype=np.float32))
    assert aec.agent_selection == "SHOP2"


def test_conforms():
    check_env(lambda: ph.make(NAME, num_shops=3))
    check_env(lambda: ph.make(NAME, num_shops=4, shops_per_customer=None, num_cycles=20))
    checked = ph.make(NAME, num_shops=2, num_cycles=30, check_observations=True)
    episode_returns(checked, lambda obs: act_all(checked, 100.0), 2)  # raises if outside


def test_shops_are_not_connected_to_each_other():
    env = ph.make(NAME, num_shops=3, shops_per_customer=None)
    for shop_id in env.possible_agents:
        neighbours = env.network.neighbours(shop_id)
        assert "FACTORY" in neighbours and not set(neighbours) & set(env.possible_agents)
    with pytest.raises(NetworkError, match="'SHOP1' cannot send a message to agent 'SHOP2'"):
        env.network.send("SHOP1", [("SHOP2", StockRequest(1))], {})


def test_stage_order_is_restock_then_sale():
    env = ph.make(NAME, num_shops=2, num_cycles=3)
    stages = env.stages
    assert env.initial_stage == "restock"
    assert stages["restock"].acting_agents == ["SHOP1", "SHOP2"]
    assert stages["restock"].rewarded_agents == [] and stages["restock"].next_stages == ["sale"]
    assert stages["sale"].acting_agents == [] and stages["sale"].next_stages == ["restock"]
    assert stages["sale"].rewarded_agents == ["SHOP1", "SHOP2"]
    assert env.num_steps == 6
    env.acting_reset(seed=0)
    assert env.current_stage == "restock" and env.current_step == 0
    # Restock is delivered before the sale of the same cycle: sales come out of it.
    _, rewards, *_ = env.acting_step(act_all(env, 30.0))
    assert env.current_stage == "restock" and env.current_step == 2
    assert set(rewards) == {"SHOP1", "SHOP2"}
    shop = env.network["SHOP1"]
    assert shop.sales == min(shop_demand(env, "SHOP1"), 30) and shop.restocked == 30
    cycles = 1
    while env.acting_agents:
        env.acting_step(act_all(env, 0.0))
        cycles += 1
    assert cycles == 3 and env.current_step == 6


def test_customers_buy_from_the_cheapest_connected_shop():
    env = ph.make(NAME, num_shops=3, shops_per_customer=None, prices=[2.0, 1.0, 3.0])
    env.acting_reset(seed=0)
    assert env.network["SHOP3"].view("CUST1") == ShopView(price=3.0)
    env.acting_step(act_all(env, 50.0))
    orders = {i: env.network[i].orders for i in env.possible_agents}
    assert orders["SHOP1"] == orders["SHOP3"] == 0 and orders["SHOP2"] > 0

    env = ph.make(NAME, num_shops=5, shops_per_customer=2, prices=[5.0, 4.0, 3.0, 2.0, 1.0])
    env.acting_reset(seed=0)
    env.acting_step(act_all(env, 50.0))
    prices = env.config["prices"]
    for customer_id in env.customer_ids:
        customer = env.network[customer_id]
        assert len(customer.shop_ids) == 2
        if customer.last_size:
            cheapest = min(customer.shop_ids, key=lambda s: prices[int(s[4:]) - 1])
            assert customer.last_shop == cheapest


def test_equal_prices_are_split_at_random_and_follow_the_seed():
    def orders(seed):
        env = ph.make(NAME, num_shops=3, shops_per_customer=None, num_cycles=20)
        env.acting_reset(seed=seed)
        totals = dict.fromkeys(env.possible_agents, 0)
        while env.acting_agents:
            env.acting_step(act_all(env, 20.0))
            for i in totals:
                totals[i] += env.network[i].orders
        return totals

    assert all(v > 0 for v in orders(0).values())
    assert orders(0) == orders(0) and orders(0) != orders(1)


def test_cost_of_carry_type_is_redrawn_each_reset_and_observed_last():
    env = ph.make(NAME, num_shops=2, cost_of_carry=(0.2, 0.6))
    space = env.observation_space("SHOP1")
    assert space.low[-1] == pytest.approx(0.2) and space.high[-1] == pytest.approx(0.6)

    def costs(seed):
        observations, _ = env.acting_reset(seed=seed)
        for i in env.possible_agents:
            assert observations[i][-1] == pytest.approx(env.network[i].type.cost_of_carry)
        return [float(observations[i][-1]) for i in env.possible_agents]

    first = costs(1)
    assert all(0.2 <= c <= 0.6 for c in first) and first[0] != first[1]
    assert costs(2) != first and costs(1) == first
    observations, *_ = env.acting_step(act_all(env, 5.0))
    assert [float(observations[i][-1]) for i in env.possible_agents] == first

    fixed = ph.make(NAME, num_shops=2, cost_of_carry=0.3)
    observations, _ = fixed.acting_reset(seed=5)
    assert all(o[-1] == pytest.approx(0.3) for o in observations.values())
    sampled = ph.make(NAME, num_shops=1, cost_of_carry=UniformFloatSampler(0.0, 2.0))
    assert sampled.observation_space("SHOP1").high[-1] == 2.0


def test_reward_and_observation_on_hand_computed_cycles():
    env = ph.make(
        NAME, num_shops=1, customers_per_shop=4, max_order=10, prices=2.0, cost_of_carry=0.5
    )
    shop = env.network["SHOP1"]
    env.acting_reset(seed=3)
    observations, rewards, *_ = env.acting_step(act_all(env, 20.4))  # rounds to 20 units
    demand = shop_demand(env, "SHOP1")
    sold = min(demand, 20)
    assert (shop.orders, shop.sales, shop.leftover) == (demand, sold, 20 - sold)
    assert rewards["SHOP1"] == pytest.approx(2.0 * sold - 0.5 * (20 - sold))
    np.testing.assert_allclose(
        observations["SHOP1"], [demand / 36, sold / 36, (20 - sold) / 100, 0.5], rtol=1e-6
    )
    # Nothing restocked: the leftover is all there is to sell.
    left = 20 - sold
    _, rewards, *_ = env.acting_step(act_all(env, 0.0))
    sold = min(shop_demand(env, "SHOP1"), left)
    assert rewards["SHOP1"] == pytest.approx(2.0 * sold - 0.5 * (left - sold))
    assert sum(env.network[c].received for c in env.customer_ids) == 20 - left + sold
    # Restocking never takes stock past shop_max_stock.
    env.acting_step(act_all(env, 1e9))
    assert shop.restocked + (left - sold) == 100


def test_randomness_comes_only_from_the_seed():
    def rewards(seed):
        env = ph.make(NAME, num_shops=3, num_cycles=10)
        returns = episode_returns(env, lambda obs: act_all(env, 12.0), 1, seed=seed)
        return [float(r[0]) for r in returns.values()]

    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    first = rewards(7)
    np.random.seed(123)
    assert rewards(7) == first and rewards(8) != first
    np.random.seed(0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_best_level_falls_as_cost_of_carry_rises():
    rows = best_order_up_to_by_cost(
        dict(num_shops=1, num_cycles=25), costs=(0.05, 0.5, 1.0, 3.0), num_episodes=3
    )
    levels = [r["level"] for r in rows]
    assert levels == sorted(levels, reverse=True) and levels[0] > levels[-1]
    returns = [r["mean_return"] for r in rows]
    assert returns == sorted(returns, reverse=True)

    env = ph.make(NAME, num_shops=2, num_cycles=25, cost_of_carry=(0.0, 3.0))
    table = cost_table_policy(rows, env)
    assert isinstance(table, CostTablePolicy)
    np.testing.assert_array_equal(
        table.level_for(np.array([0.0, 0.7, 2.9])), [levels[0], levels[1], levels[3]]
    )
    space, action_space = env.observation_space("SHOP1"), env.action_space("SHOP1")
    random = RandomPolicy(space, action_space, seed=0)
    table_return = np.mean(list(episode_returns(env, table, 3, seed=50).values()))
    random_return = np.mean(list(episode_returns(env, random, 3, seed=50).values()))
    assert table_return > random_return
    up_to = OrderUpToPolicy(space, action_space, level=12)
    action = up_to.compute_action(np.array([0.0, 0.0, 0.05, 0.3], dtype=np.float32))
    np.testing.assert_allclose(action, [7.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_shops": 0}, "num_shops must be an int >= 1 and <= 100000, got 0"),
        ({"num_shops": 2.0}, "num_shops must be an int >= 1"),
        ({"num_shops": True}, "num_shops must be an int >= 1"),
        ({"customers_per_shop": 0}, "customers_per_shop must be an int >= 1"),
        ({"shops_per_customer": 0}, "shops_per_customer must be an int >= 1"),
        ({"max_order": 0}, "max_order must be an int >= 1"),
        ({"shop_max_stock": -5}, "shop_max_stock must be an int >= 1"),
        ({"num_cycles": "10"}, "num_cycles must be an int >= 1"),
        ({"network_seed": -1}, "network_seed must be an int >= 0"),
        ({"check_observations": "yes"}, "check_observations must be a bool"),
        ({"prices": [1.0, 2.0]}, "prices has 2 entries but there are 4 shops"),
        ({"prices": 0.0}, r"prices must be > 0, got 0.0 for SHOP1"),
        ({"prices": [1.0, 1.0, -1.0, 1.0]}, "prices must be > 0, got -1.0 for SHOP3"),
        ({"prices": "cheap"}, "prices must be a number, got 'cheap'"),
        ({"prices": [1.0, None, 1.0, 1.0]}, r"prices\[1\] must be a number"),
        ({"prices": float("nan")}, "prices must be finite"),
        ({"cost_of_carry": -0.1}, "cost_of_carry must satisfy 0 <= low <= high"),
        ({"cost_of_carry": (0.5, 0.1)}, "cost_of_carry must satisfy 0 <= low <= high"),
        ({"cost_of_carry": (0.1, 0.2, 0.3)}, r"cost_of_carry range must be \(low, high\)"),
        ({"cost_of_carry": (0.1, float("inf"))}, "cost_of_carry high must be finite"),
        ({"cost_of_carry": "high"}, "cost_of_carry must be a number"),
        ({"num_shop": 2}, "does not accept 'num_shop' \\(did you mean 'num_shops'\\?\\)"),
    ],
)
def test_bad_config_is_a_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.make(NAME, **kwargs)


def test_bad_baseline_arguments_are_config_errors():
    env = ph.make(NAME, num_shops=1, num_cycles=2)
    with pytest.raises(ConfigError, match="costs must hold at least one cost"):
        best_order_up_to_by_cost({"num_shops": 1}, costs=())
    with pytest.raises(ConfigError, match="num_episodes must be an int >= 1, got 0"):
        episode_returns(env, lambda obs: act_all(env, 1.0), 0)
    with pytest.raises(ConfigError, match="coarse_step must be an int >= 1"):
        best_order_up_to_by_cost({"num_shops": 1}, costs=(0.1,), coarse_step=0)
    with pytest.raises(ConfigError, match="table must hold at least one"):
        cost_table_policy([], env)
