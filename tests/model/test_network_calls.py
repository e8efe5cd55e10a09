"""Phantom 2.2's direct network calls: send(sender, receiver, payload), resolve(contexts),
context_for, graph.has_edge, resolver tracking, round_limit=0, reset resetting agents."""

from __future__ import annotations

import pytest

import phantomzoo as ph
from phantomzoo.errors import NetworkError, ResolverError
from phantomzoo.message import Message
from phantomzoo.resolvers import BatchResolver
from phantomzoo.views import EnvView


class Cash(ph.MsgPayload):
    amount: float


class Halver(ph.Agent):
    """Answers cash with half of it, down to 1; counts what it received."""

    def __init__(self, agent_id):
        super().__init__(agent_id)
        self.received = 0.0
        self.resets = 0

    def reset(self):
        self.received = 0.0
        self.resets += 1

    @ph.agents.msg_handler(Cash)
    def on_cash(self, ctx, message):
        self.received += message.payload.amount
        if message.payload.amount > 1:
            return [(message.sender_id, Cash(message.payload.amount / 2))]
        return None


def network(resolver=None):
    net = ph.Network([Halver("A"), Halver("B"), Halver("C")], resolver)
    net.add_connection("A", "B")
    net.add_connection("A", "C")
    return net


def contexts(net):
    return {i: net.context_for(i, EnvView(0, 0.0)) for i in net.agents}


def test_messages_sent_the_phantom_way_wait_until_resolve():
    resolver = BatchResolver(enable_tracking=True)
    net = network(resolver)
    net.send("A", "B", Cash(4.0))
    net.send("A", "C", Cash(4.0))
    assert net["B"].received == 0.0  # nothing delivered yet
    net.resolve(contexts(net))
    assert (net["B"].received, net["C"].received, net["A"].received) == (5.0, 5.0, 4.0)
    assert resolver.tracked_messages[:4] == [
        Message("A", "B", Cash(4.0)),
        Message("A", "C", Cash(4.0)),
        Message("B", "A", Cash(2.0)),
        Message("C", "A", Cash(2.0)),
    ]
    resolver.clear_tracked_messages()
    assert resolver.tracked_messages == []
    net.resolve(contexts(net))  # the queue was emptied: nothing more arrives
    assert net["B"].received == 5.0


def test_phantom_sends_check_edges_and_contexts_see_neighbours_only():
    net = network()
    with pytest.raises(NetworkError, match="not connected"):
        net.send("B", "C", Cash(1.0))
    ctx = net.context_for("A")
    assert ctx.neighbour_ids == ["B", "C"] and ctx.env_view.current_step == 0
    with pytest.raises(NetworkError, match="cannot see agent 'C'"):
        net.context_for("B").view("C")
    with pytest.raises(NetworkError, match="unknown agent id 'Z'"):
        net.context_for("Z")
    with pytest.raises(NetworkError, match="mapping of agent id -> Context"):
        net.resolve(3)


def test_graph_answers_edge_queries_the_networkx_way():
    net = network()
    assert net.graph.has_edge("A", "B") and net.graph.has_edge("B", "A")
    assert not net.graph.has_edge("B", "C")
    assert set(net.graph.edges) == {("A", "B"), ("B", "A"), ("A", "C"), ("C", "A")}
    assert net.graph.nodes == ["A", "B", "C"] and list(net.graph.neighbors("A")) == ["B", "C"]


def test_round_limit_zero_refuses_any_message():
    net = network(BatchResolver(round_limit=0))
    net.send("A", "B", Cash(1.0))
    with pytest.raises(ResolverError, match="round_limit=0"):
        net.resolve(contexts(net))


def test_network_reset_resets_every_agent_as_in_phantom():
    net = network()
    net.send("A", "B", Cash(1.0))
    net.resolve(contexts(net))
    assert net["B"].received == 1.0
    net.reset()
    assert net["B"].received == 0.0 and net["A"].resets == 1
    stochastic = ph.StochasticNetwork([Halver("A"), Halver("B")])
    stochastic.add_connection("A", "B", 1.0)
    stochastic.reset()
    assert stochastic["A"].resets == 1


def test_an_env_resets_each_agent_once_per_episode():
    class Talker(ph.StrategicAgent):
        def __init__(self, agent_id):
            super().__init__(agent_id)
            import gymnasium as gym

            self.observation_space = gym.spaces.Box(0.0, 1.0, (1,))
            self.action_space = gym.spaces.Discrete(2)
            self.resets = 0

        def reset(self):
            self.resets += 1

        def decode_action(self, ctx, action):
            return []

        def encode_observation(self, ctx):
            return 0.0

        def compute_reward(self, ctx):
            return 0.0

    env = ph.PhantomEnv(num_steps=2, network=ph.Network([Talker("T"), Halver("H")]))
    env.reset(seed=0)
    env.reset(seed=1)
    assert env.network["T"].resets == 2 and env.network["H"].resets == 2


def test_tracking_switch_is_validated():
    with pytest.raises(ResolverError, match="enable_tracking must be True or False"):
        BatchResolver(enable_tracking="yes")
