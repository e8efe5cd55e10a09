"""Supertypes written the Phantom way: ``agent_supertypes={"a1": {"field": sampler}}`` and
``env_supertype={"field": value}`` in PhantomEnv, FiniteStateMachineEnv, env_config records
and the bundled models (the paper supply chain's per-shop costs of fig. 8 among them)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs.digital_ads import AdvertiserSupertype
from phantomzoo.envs.supply_chain.model import ShopSupertype as TutorialShopType
from phantomzoo.envs.supply_chain_paper import ShopSupertype
from phantomzoo.errors import ConfigError, NetworkError, SupertypeError
from phantomzoo.samplers import NormalSampler, UniformFloatSampler, UniformIntSampler
from phantomzoo.training import records


class Trader(ph.StrategicAgent):
    """Declares its supertype class as a nested ``Supertype`` (Phantom's convention)."""

    @dataclass
    class Supertype(ph.Supertype):
        skill: float = 0.0
        risk: float = 1.0

    def __init__(self, agent_id, supertype=None):
        super().__init__(agent_id, supertype=supertype)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,))
        self.action_space = gym.spaces.Discrete(2)

    def decode_action(self, ctx, action):
        return []

    def encode_observation(self, ctx):
        return np.array([ctx.env_view.proportion_time_elapsed], dtype=np.float32)

    def compute_reward(self, ctx):
        return float(self.type.skill) if self.type is not None else 0.0


@dataclass
class Required(ph.Supertype):
    level: float


class Plain(ph.StrategicAgent):
    """No nested Supertype: a mapping builds into the class of its current supertype."""

    def __init__(self, agent_id, supertype=None):
        super().__init__(agent_id, supertype=supertype)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,))
        self.action_space = gym.spaces.Discrete(2)

    def decode_action(self, ctx, action):
        return []

    def encode_observation(self, ctx):
        return np.zeros(1, dtype=np.float32)

    def compute_reward(self, ctx):
        return 0.0


class Market(ph.PhantomEnv):
    @dataclass
    class Supertype(ph.Supertype):
        demand: float
        season: int = 0

    def __init__(self, **kwargs):
        super().__init__(3, ph.Network([Trader("a1"), Trader("a2"), Plain("p")]), **kwargs)


def network() -> ph.Network:
    return ph.Network([Trader("a1"), Trader("a2"), Plain("p", Required(2.0))])


# ------------------------------------------------------------------ PhantomEnv
def test_mapping_builds_the_agent_class_supertype_and_is_sampled():
    skill = UniformFloatSampler(0.0, 1.0)
    env = ph.PhantomEnv(2, network(), agent_supertypes={"a1": {"skill": skill}, "a2": {}})
    a1, a2 = env.network["a1"], env.network["a2"]
    assert a1.supertype == Trader.Supertype(skill=skill, risk=1.0)
    assert a2.supertype == Trader.Supertype()
    env.reset(seed=0)
    first = a1.type.skill
    assert 0.0 <= first < 1.0 and a1.type.risk == 1.0 and a2.type == Trader.Supertype()
    env.reset(seed=1)
    assert a1.type.skill != first
    env.reset(seed=0)
    assert a1.type.skill == first


def test_mapping_and_instance_styles_play_the_same_episode():
    def run(style):
        skill = UniformFloatSampler(0.2, 0.9)
        supertypes = {
            "mapping": {"a1": {"skill": skill, "risk": 0.5}},
            "instance": {"a1": Trader.Supertype(skill=skill, risk=0.5)},
        }[style]
        env = ph.PhantomEnv(2, network(), agent_supertypes=supertypes)
        obs, _ = env.reset(seed=7)
        _, rewards, *_ = env.step({"a1": 0, "a2": 1, "p": 0})
        return env.observation_space("a1"), obs["a1"].tolist(), rewards

    assert run("mapping") == run("instance")


def test_mapping_overrides_only_the_fields_it_names():
    env = ph.PhantomEnv(2, network(), agent_supertypes={"p": {}})
    assert env.network["p"].supertype == Required(2.0)
    env = ph.PhantomEnv(2, network(), agent_supertypes={"p": {"level": 5.0}})
    assert env.network["p"].supertype == Required(5.0)


def test_env_supertype_mapping_builds_the_env_class_supertype():
    season = UniformIntSampler(0, 4)
    env = Market(env_supertype={"demand": 3.0, "season": season})
    assert env.env_supertype == Market.Supertype(demand=3.0, season=season)
    assert env.env_type is None
    env.reset(seed=2)
    assert env.env_type.demand == 3.0 and env.env_type.season in range(4)


def test_fsm_and_stackelberg_envs_take_mappings():
    stage = ph.FSMStage("s", ["a1", "a2"], next_stages=["s"])
    env = ph.FiniteStateMachineEnv(
        2, network(), "s", agent_supertypes={"a2": {"risk": 0.25}}, stages=[stage]
    )
    env.reset(seed=0)
    assert env.network["a2"].type.risk == 0.25
    env = ph.StackelbergEnv(2, network(), ["a1"], ["a2"], agent_supertypes={"a1": {"skill": 0.5}})
    env.reset(seed=0)
    assert env.network["a1"].type.skill == 0.5


# ------------------------------------------------------------------ bad input
def test_unknown_field_is_named_with_the_supertype_fields():
    with pytest.raises(
        SupertypeError,
        match=r"agent_supertypes\['a1'\]: Supertype has no field 'wrong'; its fields are "
        r"\['skill', 'risk'\]",
    ):
        ph.PhantomEnv(2, network(), agent_supertypes={"a1": {"wrong": 1.0}, "a2": {}})
    with pytest.raises(SupertypeError, match=r"env_supertype: Supertype has no field 'xxx'"):
        Market(env_supertype={"xxx": 0.0})


def test_missing_required_field_is_named():
    with pytest.raises(
        SupertypeError, match=r"env_supertype: Supertype needs a value for 'demand' \(no default\)"
    ):
        Market(env_supertype={"season": 1})


def test_mapping_without_a_class_to_build_into_is_refused():
    net = ph.Network([Trader("a1"), Plain("bare")])
    with pytest.raises(SupertypeError, match=r"agent 'bare' \(Plain\) has no supertype class"):
        ph.PhantomEnv(2, net, agent_supertypes={"bare": {"level": 1.0}})
    with pytest.raises(
        SupertypeError, match=r"must be ph.Supertype instances .*PhantomEnv defines no Supertype"
    ):
        ph.PhantomEnv(2, network(), env_supertype={"demand": 1.0})


def test_other_values_are_refused():
    with pytest.raises(SupertypeError, match=r"agent_supertypes\['a1'\] = 0.5: supertypes must"):
        ph.PhantomEnv(2, network(), agent_supertypes={"a1": 0.5})
    with pytest.raises(SupertypeError, match=r"agent_supertypes must be a mapping"):
        ph.PhantomEnv(2, network(), agent_supertypes=[("a1", {})])
    with pytest.raises(SupertypeError, match="env_supertype = 3: supertypes must be"):
        Market(env_supertype=3)
    with pytest.raises(NetworkError, match="unknown agent id 'zz'"):
        ph.PhantomEnv(2, network(), agent_supertypes={"zz": {"skill": 1.0}})


# ------------------------------------------------------------ paper supply chain
FIG8 = {"SHOP1": 0.1, "SHOP2": 0.3, "SHOP3": 0.6, "SHOP4": 1.0}


def test_paper_supply_chain_takes_per_shop_costs_the_phantom_way():
    mapping = {shop: {"cost_of_carry": cost} for shop, cost in FIG8.items()}
    env = ph.make("supply_chain_paper_v0", agent_supertypes=mapping)
    env.reset(seed=0)
    costs = {s: env.network[s].type.cost_of_carry for s in env.shop_ids}
    assert costs == FIG8
    spaces = {s: env.observation_space(s) for s in env.shop_ids}
    assert all(space == spaces["SHOP1"] for space in spaces.values())  # one shared policy
    assert spaces["SHOP1"].low[-1] == np.float32(0.1) and spaces["SHOP1"].high[-1] == 1.0
    assert env.state_space.contains(env.state())
    assert env.config["agent_supertypes"] == mapping

    instances = {shop: ShopSupertype(cost) for shop, cost in FIG8.items()}
    twin = ph.make("supply_chain_paper_v0", agent_supertypes=instances)
    twin.reset(seed=0)
    assert {s: twin.network[s].type.cost_of_carry for s in twin.shop_ids} == FIG8
    assert twin.observation_space("SHOP2") == spaces["SHOP2"]


def test_paper_supply_chain_unnamed_shops_keep_cost_of_carry():
    env = ph.make(
        "supply_chain_paper_v0",
        cost_of_carry=(0.2, 0.4),
        agent_supertypes={"SHOP2": {"cost_of_carry": UniformFloatSampler(0.8, 0.9)}},
    )
    for seed in range(3):
        env.reset(seed=seed)
        assert 0.8 <= env.network["SHOP2"].type.cost_of_carry < 0.9
        assert all(0.2 <= env.network[s].type.cost_of_carry < 0.4 for s in ("SHOP1", "SHOP3"))
    space = env.observation_space("SHOP1")
    assert space == env.observation_space("SHOP2")
    assert (space.low[-1], space.high[-1]) == (np.float32(0.2), np.float32(0.9))


def test_paper_supply_chain_without_overrides_is_unchanged():
    plain, empty = (
        ph.make("supply_chain_paper_v0"),
        ph.make("supply_chain_paper_v0", agent_supertypes={}),
    )
    assert plain.observation_space("SHOP1") == empty.observation_space("SHOP1")
    assert plain.state_space == empty.state_space
    for env in (plain, empty):
        env.reset(seed=4)
    assert plain.state().tolist() == empty.state().tolist()


@pytest.mark.parametrize(
    "value, error, match",
    [
        (
            {"SHOP1": {"cost": 0.1}},
            SupertypeError,
            r"has no field 'cost'; its fields are \['cost_of_carry'\]",
        ),
        (
            {"CUST1": {"cost_of_carry": 0.1}},
            ConfigError,
            r"names 'CUST1', which has no ShopSupertype",
        ),
        (
            {"SHOP1": {"cost_of_carry": -1}},
            ConfigError,
            r"agent_supertypes\['SHOP1'\].cost_of_carry must",
        ),
        ({"SHOP1": 0.3}, SupertypeError, r"supertypes must be ph.Supertype instances or mappings"),
        ([("SHOP1", 0.1)], ConfigError, r"agent_supertypes must be a mapping"),
    ],
)
def test_paper_supply_chain_refuses_bad_supertypes(value, error, match):
    with pytest.raises(error, match=match):
        ph.make("supply_chain_paper_v0", agent_supertypes=value)


def test_recorded_env_config_rebuilds_the_same_model():
    config = {
        "num_shops": 2,
        "agent_supertypes": {
            "SHOP1": {"cost_of_carry": UniformFloatSampler(0.1, 0.2)},
            "SHOP2": ShopSupertype(cost_of_carry=0.7),
        },
    }
    back = records.decode(json.loads(json.dumps(records.encode(config))))
    assert back["agent_supertypes"]["SHOP1"]["cost_of_carry"].high == 0.2
    original, rebuilt = (
        ph.make("supply_chain_paper_v0", **config),
        ph.make("supply_chain_paper_v0", **back),
    )
    for env in (original, rebuilt):
        env.reset(seed=9)
    assert [original.network[s].type for s in original.shop_ids] == [
        rebuilt.network[s].type for s in rebuilt.shop_ids
    ]
    assert original.observation_space("SHOP1") == rebuilt.observation_space("SHOP1")


# ------------------------------------------------------------------ other models
def test_digital_ads_takes_per_advertiser_budgets():
    env = ph.make(
        "digital_ads_v0",
        agent_supertypes={"TRAVEL1": {"budget": 8.0}, "TECH2": AdvertiserSupertype((5.0, 6.0))},
    )
    env.reset(seed=0)
    assert env.network["TRAVEL1"].type.budget == 8.0
    assert 5.0 <= env.network["TECH2"].type.budget <= 6.0
    assert env.observation_space("TRAVEL1") == env.observation_space("TRAVEL2")
    assert env.observation_space("TECH1") == env.observation_space("TECH2")
    with pytest.raises(SupertypeError, match=r"AdvertiserSupertype has no field 'budgett'"):
        ph.make("digital_ads_v0", agent_supertypes={"TRAVEL1": {"budgett": 1.0}})
    with pytest.raises(ConfigError, match=r"names 'PUBLISHER', which has no AdvertiserSupertype"):
        ph.make("digital_ads_v0", agent_supertypes={"PUBLISHER": {"budget": 1.0}})
    with pytest.raises(ConfigError, match=r"may draw -inf, below min_bid"):
        ph.make("digital_ads_v0", agent_supertypes={"TECH1": {"budget": NormalSampler(5, 1)}})


def test_tutorial_supply_chain_shops_become_typed():
    env = ph.make(
        "supply_chain_v0",
        num_shops=2,
        agent_supertypes={"SHOP1": TutorialShopType(UniformFloatSampler(0.2, 0.3))},
    )
    obs, _ = env.reset(seed=0)
    assert 0.2 <= env.network["SHOP1"].cost_of_carry < 0.3
    assert env.network["SHOP2"].cost_of_carry == 0.1 and obs["SHOP2"][-1] == np.float32(0.1)
    assert env.observation_space("SHOP1") == env.observation_space("SHOP2")
    assert env.observation_space("SHOP1").shape == (4,)
    assert ph.make("supply_chain_v0").observation_space("SHOP").shape == (3,)  # untyped
    with pytest.raises(ConfigError, match=r"names 'SHOP3', which has no ShopSupertype"):
        ph.make("supply_chain_v0", num_shops=2, agent_supertypes={"SHOP3": {}})
    with pytest.raises(ConfigError, match=r"costs of carry are >= 0"):
        ph.make("supply_chain_v0", agent_supertypes={"SHOP": {"cost_of_carry": NormalSampler()}})


def test_type_toy_takes_phantom_style_agent_supertypes():
    from phantomzoo.envs.type_toy import GuessType

    env = ph.make("type_toy_v0", agent_supertypes={"GUESSER1": {"target": 0.5}})
    plain = ph.make("type_toy_v0")
    observations, _ = env.reset(seed=0)
    assert env.network["GUESSER1"].type == GuessType(target=0.5)
    assert observations["GUESSER1"][-1] == pytest.approx(0.5)
    # the others keep their draws and every guesser keeps one shared observation space
    plain_obs, _ = plain.reset(seed=0)
    assert observations["GUESSER2"] == pytest.approx(plain_obs["GUESSER2"])
    assert env.observation_space("GUESSER1") == env.observation_space("GUESSER2")
    with pytest.raises(SupertypeError, match="target"):
        ph.make("type_toy_v0", agent_supertypes={"GUESSER1": {"goal": 0.5}})
    with pytest.raises(ConfigError, match="target"):
        ph.make("type_toy_v0", agent_supertypes={"GUESSER1": {"target": 3.0}})
