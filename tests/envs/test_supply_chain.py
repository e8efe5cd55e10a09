from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs import supply_chain_v0
from phantomzoo.envs.supply_chain import (
    OrderUpToPolicy,
    best_order_up_to,
    evaluate_policy_returns,
)
from phantomzoo.envs.supply_chain.floor import PlainSupplyChain
from phantomzoo.errors import ConfigError, RegistryError
from phantomzoo.policy import RandomPolicy


def test_reachable_by_name_and_module():
    env = ph.make("supply_chain_v0", num_shops=3)
    assert env.possible_agents == ["SHOP1", "SHOP2", "SHOP3"]
    assert len(env.network) == 1 + 3 * 6
    assert supply_chain_v0.parallel_env().possible_agents == ["SHOP"]
    aec = supply_chain_v0.env(num_shops=2)
    aec.reset(seed=0)
    assert aec.agent_selection == "SHOP1"


def test_registry_errors():
    with pytest.raises(RegistryError, match="Did you mean 'supply_chain_v0'"):
        ph.make("supply_chian_v0")
    with pytest.raises(
        ConfigError, match="does not accept 'num_shop' \\(did you mean 'num_shops'\\?\\)"
    ):
        ph.make("supply_chain_v0", num_shop=2)
    with pytest.raises(ConfigError, match="num_shops must be an int >= 1"):
        ph.make("supply_chain_v0", num_shops=0)


def test_tutorial_defaults_and_dynamics():
    env = ph.make("supply_chain_v0")
    assert env.config == dict(
        num_shops=1,
        num_customers=5,
        max_order_size=5,
        shop_max_stock=100,
        num_steps=100,
        cost_of_carry=0.1,
        agent_ids="phantom",
    )
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs["SHOP"], [0, 0, 0])
    shop = env.network["SHOP"]
    # Step 1: nothing on hand, so every order is missed; 30 units arrive after the sales.
    obs, rewards, *_ = env.step({"SHOP": np.array([30.0], dtype=np.float32)})
    assert shop.sales == 0 and shop.stock == 30
    assert rewards["SHOP"] == pytest.approx(-3.0)
    demand = shop.missed_sales
    assert 0 <= demand <= 20
    customers_received = sum(env.network[f"CUST{i}"].received for i in range(1, 6))
    assert customers_received == 0
    # Step 2: sales come out of the 30 units.
    obs, rewards, *_ = env.step({"SHOP": np.array([0.0], dtype=np.float32)})
    assert shop.sales + shop.stock == 30 and rewards["SHOP"] == pytest.approx(
        shop.sales - 0.1 * shop.stock
    )
    assert sum(env.network[f"CUST{i}"].received for i in range(1, 6)) == shop.sales


def test_restock_is_capped_at_max_stock():
    env = ph.make("supply_chain_v0")
    env.reset(seed=0)
    env.step({"SHOP": np.array([100.0], dtype=np.float32)})
    env.step({"SHOP": np.array([100.0], dtype=np.float32)})
    assert env.network["SHOP"].stock <= 100


def test_customer_orders_follow_the_seed():
    def orders(seed):
        env = ph.make("supply_chain_v0", num_shops=2)
        env.reset(seed=seed)
        out = []
        for _ in range(5):
            obs, *_ = env.step({s: np.array([20.0], dtype=np.float32) for s in env.agents})
            out.append(np.concatenate([obs[s] for s in sorted(obs)]).tolist())
        return out

    assert orders(1) == orders(1)
    assert orders(1) != orders(2)


def test_order_up_to_beats_random_and_is_near_the_reference():
    env = ph.make("supply_chain_v0")
    level, mean, tried = best_order_up_to(env, num_episodes=10, seed=100)
    assert 15 <= level <= 40
    assert tried[level] == max(tried.values())
    obs_space, act_space = env.observation_space("SHOP"), env.action_space("SHOP")
    heuristic = evaluate_policy_returns(
        env, OrderUpToPolicy(obs_space, act_space, level=level), num_episodes=30, seed=0
    ).mean()
    random = evaluate_policy_returns(env, RandomPolicy(obs_space, act_space, seed=0), 30, 0).mean()
    # Reference (issue 4): best order-up-to about 812 per episode, random about 100.
    assert 770 < heuristic < 860
    assert 0 < random < 250
    assert heuristic > 3 * random


def test_floor_has_the_same_dynamics_as_the_model():
    """The benchmark floor must do the same work: equal mean returns for the same policy."""
    level, episodes = 25, 60
    env = ph.make("supply_chain_v0", num_shops=2)
    policy = OrderUpToPolicy(env.observation_space("SHOP1"), env.action_space("SHOP1"), level=level)
    model_returns = evaluate_policy_returns(env, policy, episodes, seed=0)

    floor = PlainSupplyChain(num_shops=2)
    floor_returns = []
    for episode in range(episodes):
        obs = floor.reset(seed=10_000 + episode)
        totals = np.zeros(2)
        done = False
        while not done:
            actions = np.maximum(0.0, level - obs[:, 0] * 100)
            obs, rewards, done = floor.step(actions)
            totals += rewards
        floor_returns.extend(totals)
    standard_error = np.std(model_returns) / np.sqrt(len(model_returns))
    assert abs(np.mean(model_returns) - np.mean(floor_returns)) < 4 * standard_error + 1.0


def test_scales_to_a_thousand_shops():
    env = ph.make("supply_chain_v0", num_shops=1000)
    obs, _ = env.reset(seed=0)
    assert len(obs) == 1000 and len(env.network) == 6001
    actions = {s: np.array([10.0], dtype=np.float32) for s in env.agents}
    obs, rewards, *_ = env.step(actions)
    assert len(rewards) == 1000
