from __future__ import annotations

import gymnasium as gym
import pytest
from models import Echo, PingEnv, Talker

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy, ShopAgent
from phantomzoo.errors import PolicyMappingError


def test_the_three_forms_compile():
    env = ph.make("supply_chain_v0", num_shops=3)
    by_class = ph.compile_policy_mapping(env, {"shops": ShopAgent})
    assert by_class.policies["shops"].agent_ids == ["SHOP1", "SHOP2", "SHOP3"]
    assert by_class.policies["shops"].learnt
    mixed = ph.compile_policy_mapping(
        env, {"a": ["SHOP3", "SHOP1"], "fixed": (OrderUpToPolicy, ["SHOP2"], {"level": 25})}
    )
    assert mixed.policies["a"].agent_ids == ["SHOP1", "SHOP3"]  # network order
    assert list(mixed.learnt) == ["a"] and list(mixed.fixed) == ["fixed"]
    assert mixed.agent_to_policy == {"SHOP1": "a", "SHOP2": "fixed", "SHOP3": "a"}
    policy = mixed.policies["fixed"].build_fixed()
    assert isinstance(policy, OrderUpToPolicy) and policy.level == 25


def test_agent_mapped_twice():
    env = ph.make("supply_chain_v0", num_shops=2)
    with pytest.raises(PolicyMappingError, match="'SHOP1' is mapped to two policies, 'a' and 'b'"):
        ph.compile_policy_mapping(env, {"a": ["SHOP1"], "b": ShopAgent})


def test_strategic_agent_mapped_to_nothing():
    env = ph.make("supply_chain_v0", num_shops=2)
    with pytest.raises(PolicyMappingError, match=r"\['SHOP2'\] are mapped to no policy"):
        ph.compile_policy_mapping(env, {"a": ["SHOP1"]})


def test_unknown_or_non_strategic_ids():
    env = ph.make("supply_chain_v0")
    with pytest.raises(PolicyMappingError, match="unknown agent id 'NOPE'"):
        ph.compile_policy_mapping(env, {"a": ["NOPE"]})
    with pytest.raises(PolicyMappingError, match="'WAREHOUSE' .*is not a StrategicAgent"):
        ph.compile_policy_mapping(env, {"a": ["SHOP", "WAREHOUSE"]})
    with pytest.raises(PolicyMappingError, match="no strategic agent is a Echo"):
        ph.compile_policy_mapping(PingEnv(), {"a": Echo})


class WideTalker(Talker):
    def __init__(self, agent_id, target):
        super().__init__(agent_id, target)
        self.action_space = gym.spaces.Discrete(7)


def test_shared_policy_needs_identical_spaces():
    network = ph.Network([Talker("A", "EA"), WideTalker("B", "EB"), Echo("EA"), Echo("EB")])
    network.add_connections_from([("A", "EA"), ("B", "EB")])
    env = ph.PhantomEnv(num_steps=3, network=network)
    with pytest.raises(
        PolicyMappingError,
        match=r"shared by agents with different action spaces: 'A' has Discrete\(4\) but 'B' has "
        r"Discrete\(7\). Give them separate policies",
    ):
        ph.compile_policy_mapping(env, {"both": ["A", "B"]})
    ph.compile_policy_mapping(env, {"a": ["A"], "b": ["B"]})


def test_fixed_policy_class_must_implement_the_interface():
    env = ph.make("supply_chain_v0")

    class NotAPolicy:
        pass

    class Lazy(ph.Policy):
        pass

    with pytest.raises(PolicyMappingError, match="is not a ph.Policy subclass"):
        ph.compile_policy_mapping(env, {"f": (NotAPolicy, ["SHOP"])})
    with pytest.raises(PolicyMappingError, match=r"Lazy does not implement compute_action"):
        ph.compile_policy_mapping(env, {"f": (Lazy, ["SHOP"])})
    with pytest.raises(PolicyMappingError, match="config must be a dict"):
        ph.compile_policy_mapping(env, {"f": (OrderUpToPolicy, ["SHOP"], 25)})


def test_mapping_must_be_a_non_empty_dict():
    with pytest.raises(PolicyMappingError, match="non-empty dict"):
        ph.compile_policy_mapping(ph.make("supply_chain_v0"), {})
    with pytest.raises(PolicyMappingError, match="expected an agent class or a list of agent ids"):
        ph.compile_policy_mapping(ph.make("supply_chain_v0"), {"a": "SHOP"})
