"""An opt-in global state for centralised critics (PettingZoo's state() / state_space)."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from models import PingEnv
from pettingzoo.test import state_test

import phantomzoo as ph
from phantomzoo.envs import digital_ads_v0, supply_chain_paper_v0, supply_chain_v0
from phantomzoo.envs.digital_ads import USER_INFO
from phantomzoo.envs.digital_ads.model import STATE_FIELDS as ADS_STATE_FIELDS
from phantomzoo.envs.digital_ads.model import STATE_TAIL
from phantomzoo.envs.supply_chain_paper.model import STATE_FIELDS
from phantomzoo.errors import ConfigError, NotResetError


@pytest.mark.parametrize("num_shops", [1, 3])
def test_supply_chain_passes_pettingzoo_state_test(num_shops: int) -> None:
    state_test(
        supply_chain_v0.env(num_shops=num_shops), supply_chain_v0.parallel_env(num_shops=num_shops)
    )


def test_state_follows_the_shops_and_the_clock() -> None:
    env = ph.make("supply_chain_v0", num_shops=2)
    env.reset(seed=1)
    assert env.state().shape == env.state_space.shape == (7,)
    for _ in range(5):
        env.step({a: np.array([20.0], np.float32) for a in env.agents})
        state = env.state()
        assert env.state_space.contains(state)
        for n, shop in enumerate(env.shop_ids):  # each shop's block is its own view
            assert np.array_equal(
                state[3 * n : 3 * n + 3], env.network[shop].encode_observation(None)
            )
    assert state[-1] == pytest.approx(5 / env.num_steps)


def test_state_is_opt_in() -> None:
    env = PingEnv()
    env.reset(seed=0)
    with pytest.raises(NotImplementedError, match="defines no global state: override global_state"):
        env.state()
    assert not hasattr(env, "state_space")


class _NoSpace(PingEnv):
    def global_state(self):
        return np.zeros(2)


def test_a_global_state_needs_a_state_space() -> None:
    env = _NoSpace()
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="no state_space: set self.state_space"):
        env.state()


# ----------------------------------------------------------------- staged models
#: Small configurations of the staged models, with the variants their states depend on.
STAGED: dict[str, tuple[Any, dict[str, Any]]] = {
    "paper 1 shop": (supply_chain_paper_v0, {"num_shops": 1, "customers_per_shop": 2}),
    "paper 3 shops": (supply_chain_paper_v0, {"num_shops": 3, "customers_per_shop": 2}),
    "paper all linked": (
        supply_chain_paper_v0,
        {"num_shops": 3, "customers_per_shop": 1, "shops_per_customer": None},
    ),
    "ads first price": (digital_ads_v0, {"advertisers_per_family": 1}),
    "ads second price": (digital_ads_v0, {"advertisers_per_family": 2, "auction": "second"}),
    "ads stochastic edges": (
        digital_ads_v0,
        {"advertisers_per_family": 2, "stochastic_edges": True, "connection_rate": 0.5},
    ),
}
#: Tight budgets, so advertisers run out and terminate within the episode.
BROKE = {"travel_budget": (0.2, 0.4), "tech_budget": (0.2, 0.4), "sport_budget": (0.2, 0.4)}


def staged(label: str, **kwargs: Any) -> Any:
    module, config = STAGED[label]
    return module.env(**{**config, "max_cycles": 8, **kwargs})


def aec_states(env: Any, seed: int, read_state: bool = True) -> tuple[list, list]:
    """One AEC episode with seeded random actions: the states after every step (if
    ``read_state``) and what the agents saw (observation, reward, ended) at each turn."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    states, seen = [], []
    for agent in env.agent_iter():
        observation, reward, terminated, truncated, _ = env.last()
        seen.append((agent, observation.tolist(), reward, terminated, truncated))
        if terminated or truncated:
            action = None
        else:
            space = env.action_space(agent)
            action = rng.uniform(space.low, space.high).astype(np.float32)
        env.step(action)
        if read_state:
            states.append(env.state())
    return states, seen


@pytest.mark.parametrize("label", STAGED)
def test_staged_models_pass_pettingzoo_state_test(label: str) -> None:
    module, config = STAGED[label]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PettingZoo's state warnings (NaN, inf, shape) fail
        state_test(module.env(**config, max_cycles=6), module.parallel_env(**config, max_cycles=6))


@pytest.mark.parametrize("label", STAGED)
def test_staged_state_lies_in_its_space_at_every_step(label: str) -> None:
    env = staged(label)
    space = env.state_space
    assert isinstance(space, gym.spaces.Box) and space.dtype == np.float32
    assert np.isfinite(space.low).all() and np.isfinite(space.high).all()
    states, _ = aec_states(env, seed=2)
    assert len(states) >= 8
    for state in states:
        assert state.dtype == np.float32 and state.shape == space.shape
        assert space.contains(state) and np.isfinite(state).all()
    assert not all(np.array_equal(states[0], s) for s in states)  # it follows the episode


def test_ads_state_stays_in_its_space_when_advertisers_run_out_of_budget() -> None:
    env = staged("ads second price", **BROKE, max_bid=0.3)
    states, seen = aec_states(env, seed=0)
    assert any(terminated for *_, terminated, _ in seen)  # some advertisers ended
    assert all(env.state_space.contains(s) for s in states)


@pytest.mark.parametrize("label", STAGED)
def test_staged_state_is_deterministic_under_a_seed(label: str) -> None:
    first, _ = aec_states(staged(label), seed=5)
    again, _ = aec_states(staged(label), seed=5)
    other, _ = aec_states(staged(label), seed=6)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("label", STAGED)
def test_reading_the_state_changes_nothing_agents_see(label: str) -> None:
    _, with_state = aec_states(staged(label), seed=3, read_state=True)
    _, without = aec_states(staged(label), seed=3, read_state=False)
    assert with_state == without


@pytest.mark.parametrize("label", ["paper 3 shops", "ads second price"])
def test_the_parallel_view_serves_the_same_state(label: str) -> None:
    module, config = STAGED[label]
    parallel = module.parallel_env(**config, max_cycles=4)
    aec = module.env(**config, max_cycles=4)
    parallel.reset(seed=1)
    aec.reset(seed=1)
    assert parallel.state_space == aec.state_space
    assert np.array_equal(parallel.state(), aec.state())
    rng = np.random.default_rng(0)
    while parallel.agents:
        actions = {
            i: rng.uniform(0.0, parallel.action_space(i).high).astype(np.float32)
            for i in parallel.agents
        }
        parallel.step(actions)
        assert parallel.state_space.contains(parallel.state())


@pytest.mark.parametrize("label", ["paper 3 shops", "ads stochastic edges"])
def test_the_state_is_the_same_under_either_agent_id_scheme(label: str) -> None:
    phantom, _ = aec_states(staged(label), seed=4)
    pettingzoo, _ = aec_states(staged(label, agent_ids="pettingzoo"), seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(phantom, pettingzoo, strict=True))


@pytest.mark.parametrize("label", ["paper 1 shop", "ads first price"])
def test_staged_state_needs_a_reset(label: str) -> None:
    module, config = STAGED[label]
    for env in (module.env(**config), module.parallel_env(**config)):
        with pytest.raises(NotResetError, match=r"state\(\) called before reset\(\); call env"):
            env.state()


def test_paper_state_holds_every_shop_and_the_clock_agents_only_themselves() -> None:
    env = staged("paper 3 shops")
    env.reset(seed=0)
    n = len(STATE_FIELDS)
    assert env.state_space.shape == (n * 3 + 1,)
    assert env.observation_space("SHOP1").shape == (4,)  # partial: a shop sees itself
    for _ in range(3 * 3):  # three cycles of the three shops' turns
        env.step(np.array([float(env.np_random.integers(0, 40))], np.float32))
    state = env.state()
    for k, shop_id in enumerate(env.shop_ids):
        shop = env.network[shop_id]
        block = state[n * k : n * (k + 1)]
        expected = [
            shop.stock / 100,
            shop.restocked / 100,
            shop.orders / shop.order_scale,
            shop.sales / shop.order_scale,
            shop.leftover / 100,
            shop.type.cost_of_carry,
        ]
        np.testing.assert_allclose(block, expected, rtol=1e-6)
        own = env.observe(shop_id)  # its observation: its own orders, sales, leftover, cost
        np.testing.assert_allclose(own, block[[2, 3, 4, 5]], rtol=1e-6)
    assert state[-1] == pytest.approx(env.current_step / env.num_steps)
    assert state[:-1].reshape(3, n)[:, 3].any()  # some sales happened


def test_paper_state_space_bounds_the_cost_by_its_range() -> None:
    space = staged("paper 1 shop", cost_of_carry=(0.2, 0.7)).state_space
    assert space.low[len(STATE_FIELDS) - 1] == pytest.approx(0.2)
    assert space.high[len(STATE_FIELDS) - 1] == pytest.approx(0.7)
    fixed = staged("paper 1 shop", cost_of_carry=0.5)
    fixed.reset(seed=0)
    assert fixed.state()[len(STATE_FIELDS) - 1] == pytest.approx(0.5)
    assert fixed.state_space.contains(fixed.state())


def test_ads_state_holds_every_advertiser_the_user_and_the_clock() -> None:
    env = staged("ads first price")
    env.reset(seed=0)
    n = len(ADS_STATE_FIELDS)
    assert env.state_space.shape == (3 * n + len(STATE_TAIL),)
    assert env.observation_space("TRAVEL1").shape == (13,)
    for _ in range(3 * 4):
        env.step(np.array([0.6], np.float32))
    state = env.state()
    for k, agent_id in enumerate(env.advertiser_ids):
        agent = env.network[agent_id]
        low, high = env.config[f"{agent.theme}_budget"]
        expected = [
            agent.budget_left / agent.budget,
            agent.budget / high,
            agent.bid / 1.0,
            agent.won,
            agent.clicks,
            agent.total_clicks / env.num_impressions,
        ]
        np.testing.assert_allclose(state[n * k : n * (k + 1)], expected, rtol=1e-6)
    user = env.network["PUBLISHER"].user_id
    tail = state[-len(STATE_TAIL) :]
    assert tail[:2].tolist() == [user == 1, user == 2]
    info = USER_INFO[user]
    np.testing.assert_allclose(tail[2:4], [info.age / 100, info.zipcode / 99_999], rtol=1e-6)
    assert tail[-1] == pytest.approx((env.current_step // 2) / env.num_impressions)
    assert state[: 3 * n].reshape(3, n)[:, 2].max() == pytest.approx(0.6)  # the bids
    # The advertisers' own observations are unchanged: a budget fraction of their own.
    for agent_id in env.agents:
        assert env.observe(agent_id)[0] == pytest.approx(
            state[n * env.advertiser_ids.index(agent_id)]
        )
