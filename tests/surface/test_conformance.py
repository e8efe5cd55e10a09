"""The conformance helper over every bundled env, and proof that it can fail."""

from __future__ import annotations

import numpy as np
import pytest
from models import Echo, PingEnv, Talker, TalkerType

import phantomzoo as ph
from phantomzoo.errors import ConformanceError
from phantomzoo.samplers import UniformFloatSampler
from phantomzoo.testing import check_env, check_partial_observability

#: Extra configurations checked besides each registered env's defaults.
EXTRA = [("supply_chain_v0", {"num_shops": 10})]
REGISTERED = sorted(ph.registered_envs())


@pytest.mark.parametrize(
    ("name", "kwargs"), [(n, {}) for n in REGISTERED] + EXTRA, ids=lambda x: str(x)
)
def test_registered_envs_conform(name, kwargs):
    check_env(lambda: ph.make(name, **kwargs), num_cycles=120)


def test_every_bundled_env_is_registered_and_checked():
    assert {"supply_chain_v0", "supply_chain_paper_v0", "digital_ads_v0", "type_toy_v0"} <= set(
        REGISTERED
    )


def test_custom_model_with_types_conforms():
    check_env(lambda: PingEnv(num_steps=6, supertype=TalkerType(UniformFloatSampler(0, 1))))


class Snoop(Talker):
    """Leaks: reads another agent's state through a reference it was handed."""

    def __init__(self, agent_id, target, spied):
        super().__init__(agent_id, target)
        self.spied = spied

    def encode_observation(self, ctx):
        return np.array([min(10.0, self.spied.last)], dtype=np.float32)


def _leaky_env():
    victim = Talker("B", "EB")
    agents = [Snoop("A", "EA", victim), victim, Echo("EA"), Echo("EB")]
    network = ph.Network(agents)
    network.add_connections_from([("A", "EA"), ("B", "EB")])
    return ph.PhantomEnv(num_steps=5, network=network)


def test_partial_observability_check_catches_a_leak():
    with pytest.raises(
        ConformanceError, match=r"observation of agent 'A' changed when only the state of 'B'"
    ):
        check_partial_observability(_leaky_env())
    with pytest.raises(ConformanceError, match="partial observability|changed when only"):
        check_env(_leaky_env)


class Overflowing(Talker):
    def encode_observation(self, ctx):
        return np.array([float(self.last) * 5], dtype=np.float32)  # leaves [0, 10] at 3


def test_observation_outside_space_is_caught():
    def build():
        network = ph.Network([Overflowing("A", "E"), Echo("E")])
        network.add_connection("A", "E")
        return ph.PhantomEnv(num_steps=20, network=network)

    with pytest.raises(ConformanceError, match="lies outside|observation"):
        check_env(build)


class Unseeded(Talker):
    def decode_action(self, ctx, action):
        return [(self.target, type(self).make_ping(np.random.default_rng().integers(4)))]

    @staticmethod
    def make_ping(value):
        from models import Ping

        return Ping(int(value))


def test_unseeded_randomness_is_caught():
    def build():
        network = ph.Network([Unseeded("A", "E"), Echo("E")])
        network.add_connection("A", "E")
        return ph.PhantomEnv(num_steps=30, network=network)

    with pytest.raises(ConformanceError, match="seed_test"):
        check_env(build)
