"""Every bundled environment (and baseline policy) refuses bad constructor arguments."""

from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.cli.workflow import parse_config
from phantomzoo.envs.digital_ads import RandomBidPolicy, ValueBidPolicy
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.envs.supply_chain_paper import CostTablePolicy
from phantomzoo.errors import ConfigError
from phantomzoo.samplers import NormalSampler, UniformFloatSampler
from phantomzoo.validate import check_int, check_number, check_pair

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_shops": 0}, r"supply_chain: num_shops must be an int >= 1 and <= 100000, got 0"),
        ({"num_shops": "3"}, r"num_shops must be an int .*got '3' \(str\)"),
        ({"num_shops": 2.0}, r"num_shops must be an int .*got 2.0 \(float\)"),
        ({"num_shops": True}, r"num_shops must be an int .*got True \(bool\)"),
        ({"num_shops": None}, r"num_shops must be an int .*got None"),
        ({"num_shops": 10**6}, r"num_shops must be an int >= 1 and <= 100000, got 1000000"),
        ({"num_customers": -1}, r"num_customers must be an int >= 1"),
        ({"max_order_size": 0}, r"max_order_size must be an int >= 1"),
        ({"max_order_size": 10**12}, r"max_order_size must be an int >= 1 and <= 1e\+09"),
        ({"shop_max_stock": "abc"}, r"shop_max_stock must be an int"),
        ({"num_steps": 0}, r"num_steps must be an int >= 1"),
        ({"num_steps": False}, r"num_steps must be an int"),
        (
            {"cost_of_carry": NAN},
            r"cost_of_carry must be finite, got nan; give a finite number >= 0",
        ),
        ({"cost_of_carry": INF}, r"cost_of_carry must be finite, got inf"),
        ({"cost_of_carry": -0.1}, r"cost_of_carry must be a finite number >= 0, got -0.1"),
        ({"cost_of_carry": "abc"}, r"cost_of_carry must be a finite number >= 0, got 'abc'"),
        ({"cost_of_carry": None}, r"cost_of_carry must be a finite number"),
        ({"cost_of_carry": True}, r"cost_of_carry must be a finite number .*\(bool\)"),
        (
            {"cost_of_carry": UniformFloatSampler(0.1, 0.2)},
            r"cost_of_carry must be a finite number >= 0, got UniformFloatSampler",
        ),
        ({"check_observations": "yes"}, r"check_observations must be True or False"),
        ({"checks": "sometimes"}, r"checks must be one of \['off', 'first', 'full'\]"),
        (
            {"num_shops": 100_000, "num_customers": 100},
            r"builds 10,100,001 agents, more than the 1,000,000",
        ),
        ({"num_shop": 2}, r"does not accept 'num_shop' \(did you mean 'num_shops'\?\)"),
    ],
)
def test_supply_chain_refuses_bad_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.make("supply_chain_v0", **kwargs)


def test_supply_chain_accepts_numpy_ints_and_int_costs():
    env = ph.make("supply_chain_v0", num_shops=np.int64(2), cost_of_carry=0)
    assert env.possible_agents == ["SHOP1", "SHOP2"] and env.config["cost_of_carry"] == 0.0
    assert ph.make("supply_chain_v0", checks="off").checks == "off"


@pytest.mark.parametrize("text", ["cost_of_carry=NaN", "cost_of_carry=abc", "num_shops=1.5"])
def test_command_line_values_are_refused_at_construction(text):
    with pytest.raises(ConfigError, match=r"supply_chain: (cost_of_carry|num_shops) must be"):
        ph.make("supply_chain_v0", **parse_config([text]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_cycles": 0}, r"supply_chain_paper: num_cycles must be an int >= 1"),
        ({"num_cycles": 1.0}, r"num_cycles must be an int"),
        ({"num_shops": 200_000}, r"num_shops must be an int >= 1 and <= 100000"),
        ({"customers_per_shop": 20_000}, r"customers_per_shop must be an int >= 1 and <= 10000"),
        (
            {"num_shops": 1000, "customers_per_shop": 5000},
            r"builds 5,001,001 agents, more than the 1,000,000",
        ),
        ({"cost_of_carry": NAN}, r"cost_of_carry must be finite"),
        ({"cost_of_carry": (NAN, 1.0)}, r"cost_of_carry low must be finite"),
        ({"cost_of_carry": "abc"}, r"cost_of_carry must be a number"),
        ({"cost_of_carry": INF}, r"cost_of_carry must be finite"),
        ({"cost_of_carry": None}, r"cost_of_carry must be a number"),
        ({"prices": INF}, r"prices must be finite"),
        ({"prices": True}, r"prices must be a number"),
        ({"network_seed": 1.5}, r"network_seed must be an int >= 0"),
        ({"check_observations": 1}, r"check_observations must be a bool"),
        ({"checks": "all"}, r"checks must be one of"),
    ],
)
def test_paper_supply_chain_refuses_bad_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.make("supply_chain_paper_v0", **kwargs)


@pytest.mark.parametrize("sampler", [UniformFloatSampler(0.2, 0.4), NormalSampler(0.5, 0.1)])
def test_paper_supply_chain_keeps_accepting_samplers(sampler):
    env = ph.make("supply_chain_paper_v0", num_shops=2, num_cycles=3, cost_of_carry=sampler)
    env.acting_reset(seed=0)
    assert env.checks == "first"
    full = ph.make("supply_chain_paper_v0", num_shops=1, num_cycles=3, checks="full")
    assert full.checks == "full"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"advertisers_per_family": 10**6}, r"digital_ads: advertisers_per_family must be an int"),
        ({"advertisers_per_family": "2"}, r"advertisers_per_family must be an int .*\(str\)"),
        ({"num_steps": True}, r"num_steps must be an int .*\(bool\)"),
        ({"num_steps": 10**10}, r"num_steps must be an int >= 1 and <= 1e\+09"),
        ({"max_bid": NAN}, r"max_bid must be finite"),
        ({"min_bid": "abc"}, r"min_bid must be a number"),
        ({"connection_rate": NAN}, r"connection_rate must be finite"),
        ({"auction": 1}, r"auction must be 'first' or 'second'"),
        ({"travel_budget": "abc"}, r"travel_budget must be a \(low, high\) pair"),
        ({"tech_budget": (10.0, INF)}, r"tech_budget high must be finite"),
        ({"check_observations": "no"}, r"check_observations must be True or False"),
        ({"checks": None, "check_observations": True}, None),
        ({"checks": "never"}, r"checks must be one of"),
    ],
)
def test_digital_ads_refuses_bad_config(kwargs, match):
    if match is None:  # a valid combination, for contrast
        assert ph.make("digital_ads_v0", **kwargs).checks == "full"
        return
    with pytest.raises(ConfigError, match=match):
        ph.make("digital_ads_v0", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_agents": 0}, r"type_toy: num_agents must be an int >= 1"),
        ({"num_agents": 10**7}, r"num_agents must be an int >= 1 and <= 100000"),
        ({"num_steps": "4"}, r"num_steps must be an int .*\(str\)"),
        ({"num_steps": 4.0}, r"num_steps must be an int"),
        ({"checks": "loud"}, r"checks must be one of"),
    ],
)
def test_type_toy_refuses_bad_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.make("type_toy_v0", **kwargs)


def test_type_toy_accepts_numpy_ints():
    assert len(ph.make("type_toy_v0", num_agents=np.int32(3)).possible_agents) == 3


# --------------------------------------------------------------------- baselines
@pytest.fixture
def shop_spaces():
    env = ph.make("supply_chain_v0")
    return env.observation_space("SHOP"), env.action_space("SHOP")


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({}, r"OrderUpToPolicy: config needs level="),
        ({"level": NAN}, r"OrderUpToPolicy: level must be finite"),
        ({"level": "20"}, r"level must be a finite number >= 0, got '20'"),
        ({"level": -5}, r"level must be a finite number >= 0, got -5"),
        ({"level": 20, "max_stock": 0}, r"max_stock must be a finite number > 0"),
        ({"level": 20, "lvl": 3}, r"unknown config keys \['lvl'\]"),
    ],
)
def test_order_up_to_policy_refuses_bad_config(shop_spaces, config, match):
    with pytest.raises(ConfigError, match=match):
        OrderUpToPolicy(*shop_spaces, **config)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"table": {}}, r"table must hold at least one cost -> level entry"),
        ({"table": [1, 2]}, r"table must hold at least one cost"),
        ({"table": {0.5: NAN}}, r"table level for cost 0.5 must be finite"),
        ({"table": {"cheap": 10}}, r"table cost must be a finite number >= 0, got 'cheap'"),
        ({"table": {0.5: 10}, "extra": 1}, r"unknown config keys \['extra'\]"),
    ],
)
def test_cost_table_policy_refuses_bad_config(shop_spaces, config, match):
    with pytest.raises(ConfigError, match=match):
        CostTablePolicy(*shop_spaces, **config)


def test_cost_table_policy_reads_json_keys():
    policy = CostTablePolicy(*ph_spaces_paper(), table={"0.5": 10, "0.1": 30})
    np.testing.assert_array_equal(policy.costs, [0.1, 0.5])


def ph_spaces_paper():
    env = ph.make("supply_chain_paper_v0", num_shops=1)
    return env.observation_space("SHOP1"), env.action_space("SHOP1")


@pytest.mark.parametrize(
    ("cls", "config", "match"),
    [
        (RandomBidPolicy, {"seed": -1}, r"RandomBidPolicy: seed must be an int >= 0"),
        (RandomBidPolicy, {"max_bid": 0.0}, r"max_bid must be a finite number > 0"),
        (RandomBidPolicy, {"bid": 1}, r"unknown config keys \['bid'\]"),
        (ValueBidPolicy, {"scale": NAN}, r"ValueBidPolicy: scale must be finite"),
        (ValueBidPolicy, {"click_probabilities": {}}, r"click_probabilities must be"),
        (
            ValueBidPolicy,
            {"click_probabilities": {"u": {"travel": 0.5}}},
            r"click_probabilities\['u'\] must map each of",
        ),
        (
            ValueBidPolicy,
            {"click_probabilities": {"u": {"travel": 2.0, "tech": 0.1, "sport": 0.1}}},
            r"click_probabilities\['u'\]\['travel'\] must be a finite number >= 0 and <= 1",
        ),
    ],
)
def test_ads_baselines_refuse_bad_config(cls, config, match):
    env = ph.make("digital_ads_v0")
    spaces = env.observation_space("TRAVEL1"), env.action_space("TRAVEL1")
    with pytest.raises(ConfigError, match=match):
        cls(*spaces, **config)


# ------------------------------------------------------------------- validate unit
def test_validate_helpers():
    assert check_int("m", "n", np.int16(3), 1, 5) == 3
    assert check_number("m", "x", 1, 0, 1) == 1.0
    with pytest.raises(ConfigError, match=r"m: x must be a finite number > 0 and < 1, got 1"):
        check_number("m", "x", 1, 0, 1, low_open=True, high_open=True)
    with pytest.raises(ConfigError, match=r"m: p must have low <= high, got \(2, 1\); swap them"):
        check_pair("m", "p", (2, 1))
    with pytest.raises(ConfigError, match=r"m: p must be a \(low, high\) pair, got 3 entries"):
        check_pair("m", "p", (1, 2, 3))
