"""Phantom's network API on ph.Network / ph.StochasticNetwork: its names, its switches
(connections=, enforce_msg_payload_checks, ignore_connection_errors), (a, b, rate) triples,
sampler-valued rates and reset() without a generator; FSM determinism."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import MessageError, NetworkError
from phantomzoo.samplers import DiscreteSampler, LambdaSampler, Shared, UniformFloatSampler


class Player(ph.Agent):
    pass


class Dealer(ph.Agent):
    pass


class AgentA(ph.Agent):
    pass


class AgentB(ph.Agent):
    pass


@ph.msg_payload()
class Anyone:
    pass


@ph.msg_payload(sender_type=AgentA, receiver_type=AgentB)
class AToB:
    pass


def table() -> list[ph.Agent]:
    return [Player("p1"), Player("p2"), Player("p3"), Dealer("d1")]


def send(net: ph.Network, sender, receiver, payload) -> dict:
    pending: dict = {}
    net.send(sender, [(receiver, payload)], pending)
    return pending


# ----------------------------------------------------------------------- names
def test_phantom_query_names_match_ours():
    net = ph.Network(table())
    assert list(net.get_actors_with_type(Player)) == ["p1", "p2", "p3"]
    assert list(net.get_actors_without_type(Player)) == ["d1"]
    assert list(net.get_actors_where(lambda a: a.id in ("p1", "p3"))) == ["p1", "p3"]
    assert net.get_actors_with_type(ph.Agent) == net.get_agents_with_type(ph.Agent) == net.agents
    assert net.get_actors_without_type(ph.Agent) == {}
    assert net.get_actors_with_type(Player)["p2"] is net["p2"]


# ------------------------------------------------------------------ connections
def test_connections_given_to_the_constructor():
    net = ph.Network([AgentA("a1"), AgentA("a2"), AgentA("a3")], connections=[("a1", "a2")])
    assert net.has_edge("a1", "a2") and net.has_edge("a2", "a1")
    assert not net.has_edge("a1", "a3")


def test_bad_connections_are_refused():
    with pytest.raises(NetworkError, match="unknown agent id 'a2'"):
        ph.Network([AgentA("a1")], connections=[("a1", "a2")])
    with pytest.raises(NetworkError, match="duplicate agent id 'a1'"):
        ph.Network([AgentA("a1"), AgentA("a1")])
    net = ph.Network([AgentA("a1"), AgentA("a2")])
    with pytest.raises(NetworkError, match=r"triple \('a1', 'a2', 0.5\).*ph.StochasticNetwork"):
        net.add_connections_from([("a1", "a2", 0.5)])
    with pytest.raises(NetworkError, match=r"expects \(id_a, id_b\) pairs, got 'a1'"):
        net.add_connections_from(["a1"])
    with pytest.raises(NetworkError, match="expects an iterable of connections, got 3"):
        net.add_connections_from(3)


# ---------------------------------------------------------------- payload checks
def test_payload_types_are_enforced_by_default():
    net = ph.Network([AgentA("A"), AgentB("B")], connections=[("A", "B")])
    assert net.enforce_msg_payload_checks is True
    assert send(net, "A", "B", AToB())["B"][0].payload == AToB()
    send(net, "B", "A", Anyone())
    with pytest.raises(MessageError, match=r"'B' \(AgentB\) may not send AToB"):
        send(net, "B", "A", AToB())


def test_payload_checks_switched_off_on_the_network():
    net = ph.Network([AgentA("A"), AgentB("B")], enforce_msg_payload_checks=False)
    net.add_connection("A", "B")
    assert send(net, "B", "A", AToB())["A"][0].sender_id == "B"
    net.enforce_msg_payload_checks = True
    with pytest.raises(MessageError, match="may not send AToB"):
        send(net, "B", "A", AToB())


def test_network_switches_must_be_bools():
    with pytest.raises(NetworkError, match="enforce_msg_payload_checks must be True or False"):
        ph.Network([AgentA("A")], enforce_msg_payload_checks="no")
    with pytest.raises(NetworkError, match="ignore_connection_errors must be True or False"):
        ph.Network([AgentA("A")], ignore_connection_errors=1)


class Sender(ph.StrategicAgent):
    """Sends an AToB to its target every step (a sender type AToB forbids)."""

    def __init__(self, agent_id, target):
        super().__init__(agent_id)
        self.target = target
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,))
        self.action_space = gym.spaces.Discrete(2)

    def decode_action(self, ctx, action):
        return [(self.target, AToB())]

    def encode_observation(self, ctx):
        return np.zeros(1, dtype=np.float32)

    def compute_reward(self, ctx):
        return 0.0


class Sink(AgentB):
    def handle_message(self, ctx, message):
        return None


def sender_env(**kwargs) -> ph.PhantomEnv:
    net = ph.Network([Sender("S", "B"), Sink("B")], connections=[("S", "B")])
    return ph.PhantomEnv(2, net, **kwargs)


def test_env_switches_payload_checks_off():
    env = sender_env()
    env.reset(seed=0)
    with pytest.raises(MessageError, match=r"'S' \(Sender\) may not send AToB"):
        env.step({"S": 0})
    env = sender_env(enforce_msg_payload_checks=False)
    assert env.network.enforce_msg_payload_checks is False
    env.reset(seed=0)
    env.step({"S": 0})  # delivered without the type check
    with pytest.raises(NetworkError, match="enforce_msg_payload_checks must be True or False"):
        sender_env(enforce_msg_payload_checks="off")


def test_fsm_env_switches_payload_checks_off():
    net = ph.Network([Sender("S", "B"), Sink("B")], connections=[("S", "B")])
    stage = ph.FSMStage("only", ["S"], next_stages=["only"])
    env = ph.FiniteStateMachineEnv(2, net, "only", stages=[stage], enforce_msg_payload_checks=False)
    env.reset(seed=0)
    env.step(0)
    assert net.enforce_msg_payload_checks is False


# ----------------------------------------------------------- connection errors
def test_ignore_connection_errors_delivers_along_missing_edges():
    strict = ph.Network([AgentA("A"), AgentB("B")])
    with pytest.raises(NetworkError, match="'A' cannot send a message to agent 'B'"):
        send(strict, "A", "B", Anyone())
    loose = ph.Network([AgentA("A"), AgentB("B")], ignore_connection_errors=True)
    assert send(loose, "A", "B", Anyone())["B"][0].receiver_id == "B"
    with pytest.raises(NetworkError, match="sent a message to unknown agent id 'Z'"):
        send(loose, "A", "Z", Anyone())


# ------------------------------------------------------------ stochastic network
def pair_net() -> ph.StochasticNetwork:
    return ph.StochasticNetwork([AgentA("A"), AgentA("B"), AgentA("C")])


@pytest.mark.parametrize("rate, present", [(1.0, True), (0.0, False)])
def test_triples_set_the_rate(rate, present):
    net = pair_net()
    net.add_connections_from([("A", "B", rate), ("A", "C")])
    assert net.connection_rate("A", "B") == rate and net.connection_rate("A", "C") == 1.0
    assert net.has_edge("A", "B") is present
    net.reset(np.random.default_rng(0))
    assert net.has_edge("A", "B") is present and net.has_edge("C", "A")


def test_bad_triples_are_refused():
    net = pair_net()
    with pytest.raises(NetworkError, match=r"rate must be in \[0, 1\].*got 1.5"):
        net.add_connections_from([("A", "B", 1.5)])
    with pytest.raises(NetworkError, match=r"pairs or \(id_a, id_b, rate\) triples, got \('A',\)"):
        net.add_connections_from([("A",)])
    with pytest.raises(NetworkError, match="unknown agent id 'Q'"):
        net.add_connections_from([("A", "Q", 0.5)])
    with pytest.raises(NetworkError, match=r"rate must be in \[0, 1\].*got 'high'"):
        net.add_connection("A", "B", "high")


def test_reset_without_a_generator_is_unseeded_but_works():
    net = pair_net()
    net.add_connection("A", "B", 0.5)
    seen = set()
    for _ in range(200):
        net.reset()
        seen.add(net.has_edge("A", "B"))
    assert seen == {True, False}
    net.resample_connectivity()  # Phantom's name, same draw
    with pytest.raises(NetworkError, match="needs a numpy Generator, got 7"):
        net.reset(7)


def test_seeded_reset_draws_every_fixed_rate_edge_as_before():
    net = ph.StochasticNetwork([AgentA(f"a{i}") for i in range(6)])
    rates = [0.1, 0.5, 0.9, 0.3, 0.7]
    net.add_connections_from((f"a{i}", f"a{i + 1}", r) for i, r in enumerate(rates))
    net.reset(np.random.default_rng(11))
    expected = np.random.default_rng(11).random(len(rates)) < np.array(rates)
    got = [net.has_edge(f"a{i}", f"a{i + 1}") for i in range(len(rates))]
    assert got == expected.tolist()


def test_sampler_rates_are_drawn_per_edge_and_episode():
    net = pair_net()
    net.add_connection("A", "B", rate=DiscreteSampler([0.0, 1.0]))
    assert isinstance(net.connection_rate("A", "B"), DiscreteSampler)
    assert net.has_edge("A", "B")  # before the first reset: present when rate can be > 0
    outcomes = []
    for seed in range(40):
        net.reset(np.random.default_rng(seed))
        outcomes.append(net.has_edge("A", "B"))
    assert set(outcomes) == {True, False}
    net.reset(np.random.default_rng(3))
    first = net.has_edge("A", "B")
    net.reset(np.random.default_rng(3))
    assert net.has_edge("A", "B") == first


def test_sampler_rate_that_is_never_above_zero_gives_no_edge():
    net = pair_net()
    net.add_connections_between(["A"], ["B", "C"], rate=UniformFloatSampler(0.0, 0.0))
    assert not net.has_edge("A", "B")
    net.reset(np.random.default_rng(0))
    assert not net.has_edge("A", "C")


def test_shared_rate_sampler_gives_one_rate_for_all_its_edges():
    net = ph.StochasticNetwork([AgentA(f"a{i}") for i in range(8)])
    shared = Shared(DiscreteSampler([0.0, 1.0]))
    net.add_connections_between(["a0"], [f"a{i}" for i in range(1, 8)], rate=shared)
    for seed in range(10):
        net.reset(np.random.default_rng(seed))
        assert len({net.has_edge("a0", f"a{i}") for i in range(1, 8)}) == 1


def test_bad_rate_samplers_are_refused():
    net = pair_net()
    with pytest.raises(NetworkError, match=r"draws in \[2.0, 3.0\], outside \[0, 1\]"):
        net.add_connection("A", "B", UniformFloatSampler(2.0, 3.0))
    with pytest.raises(NetworkError, match="must draw single numbers"):
        net.add_connection("A", "B", LambdaSampler(lambda rng: np.zeros(2), shape=(2,)))
    net.add_connection("A", "B", LambdaSampler(lambda rng: 1.5))
    with pytest.raises(NetworkError, match=r"'A'-'B': its rate sampler .* not a probability"):
        net.reset(np.random.default_rng(0))


def test_sampler_rate_in_an_environment_follows_the_seed():
    class Lone(Sender):
        def decode_action(self, ctx, action):
            return []

    def build() -> ph.PhantomEnv:
        net = ph.StochasticNetwork([Lone("S", "B"), Sink("B")])
        net.add_connection("S", "B", UniformFloatSampler(0.2, 0.8))
        return ph.PhantomEnv(1, net)

    env_a, env_b = build(), build()
    draws_a, draws_b = [], []
    for seed in range(20):
        env_a.reset(seed=seed)
        env_b.reset(seed=seed)
        draws_a.append(env_a.network.has_edge("S", "B"))
        draws_b.append(env_b.network.has_edge("S", "B"))
    assert draws_a == draws_b and set(draws_a) == {True, False}


# ------------------------------------------------------------- FSM determinism
class Mover(Sender):
    def decode_action(self, ctx, action):
        return []


def fsm(stages, initial="A") -> ph.FiniteStateMachineEnv:
    return ph.FiniteStateMachineEnv(1, ph.Network([Mover("m", None)]), initial, stages=stages)


def test_is_fsm_deterministic():
    assert fsm([ph.FSMStage("A", ["m"], next_stages=["A"])]).is_fsm_deterministic()
    cycle = [
        ph.FSMStage("A", ["m"], next_stages=["B"]),
        ph.FSMStage("B", ["m"], next_stages=["C"]),
        ph.FSMStage("C", ["m"], next_stages=["A"]),
    ]
    assert fsm(cycle).is_fsm_deterministic()
    branching = [
        ph.FSMStage("A", ["m"], next_stages=["A", "B"], handler=lambda env: "B"),
        ph.FSMStage("B", ["m"], next_stages=["A", "B"], handler=lambda env: "A"),
    ]
    assert not fsm(branching).is_fsm_deterministic()
    one_branch = [
        ph.FSMStage("A", ["m"], next_stages=["B"]),
        ph.FSMStage("B", ["m"], next_stages=["A", "B"], handler=lambda env: "A"),
    ]
    assert not fsm(one_branch).is_fsm_deterministic()


def test_stackelberg_is_deterministic():
    net = ph.Network([Mover("L", None), Mover("F", None)])
    assert ph.StackelbergEnv(4, net, ["L"], ["F"]).is_fsm_deterministic()


def test_a_payload_type_violation_is_also_a_network_error_as_in_phantom():
    from phantomzoo.errors import MessageError, NetworkError, PayloadTypeError

    assert issubclass(PayloadTypeError, MessageError) and issubclass(PayloadTypeError, NetworkError)

    class Sender(ph.Agent):
        pass

    class Other(ph.Agent):
        pass

    @ph.msg_payload(sender_type=Sender)
    class OnlyFromSenders(ph.MsgPayload):
        value: int

    network = ph.Network([Sender("S"), Other("O")])
    network.add_connection("S", "O")
    with pytest.raises(NetworkError, match="OnlyFromSenders"):
        network.send("O", [("S", OnlyFromSenders(1))], {})
