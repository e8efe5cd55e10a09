"""Tiny models built with the public API, shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import phantomzoo as ph


class Ping(ph.MsgPayload):
    value: int


class Pong(ph.MsgPayload):
    value: int


class Echo(ph.Agent):
    """Answers every Ping with a Pong of the same value."""

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        return [(message.sender_id, Pong(message.payload.value))]


class Talker(ph.StrategicAgent):
    """Sends its discrete action as a Ping to `target`; observes the last Pong."""

    def __init__(self, agent_id, target, supertype=None):
        super().__init__(agent_id, supertype=supertype)
        self.target = target
        self.last = 0
        self.observation_space = gym.spaces.Box(0.0, 10.0, shape=(1,))
        self.action_space = gym.spaces.Discrete(4)

    def reset(self):
        self.last = 0

    def decode_action(self, ctx, action):
        return [(self.target, Ping(int(action)))]

    @ph.agents.msg_handler(Pong)
    def on_pong(self, ctx, message):
        self.last = message.payload.value

    def encode_observation(self, ctx):
        return np.array([self.last], dtype=np.float32)

    def compute_reward(self, ctx):
        return float(self.last)


@dataclass
class TalkerType(ph.Supertype):
    skill: float


class PingEnv(ph.PhantomEnv):
    """Two talkers, each connected only to its own echo."""

    def __init__(self, num_steps=5, supertype=None, **kwargs):
        agents = [
            Talker("A", "EA", supertype),
            Talker("B", "EB", supertype),
            Echo("EA"),
            Echo("EB"),
        ]
        network = ph.Network(agents)
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        super().__init__(num_steps=num_steps, network=network, **kwargs)


class Mortal(Talker):
    """Terminates once it has received a Pong of value 3."""

    def is_terminated(self, ctx):
        return self.last == 3


class MortalEnv(ph.PhantomEnv):
    """One talker that ends its episode early when it pings 3."""

    def __init__(self, num_steps=10):
        network = ph.Network([Mortal("A", "EA"), Echo("EA")])
        network.add_connection("A", "EA")
        super().__init__(num_steps=num_steps, network=network)


class TurnEnv(ph.FiniteStateMachineEnv):
    """A acts in stage "a", B in stage "b", alternating."""

    def __init__(self, num_steps=6):
        network = ph.Network([Talker("A", "EA"), Talker("B", "EB"), Echo("EA"), Echo("EB")])
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        super().__init__(
            num_steps,
            network,
            initial_stage="a",
            stages=[
                ph.FSMStage("a", ["A"], next_stages=["b"]),
                ph.FSMStage("b", ["B"], next_stages=["a"]),
            ],
        )


class ConstantPolicy(ph.Policy):
    """Always the same action (config: value)."""

    def compute_action(self, observation):
        return self.config.get("value", 1)


class DelayedTurnEnv(ph.FiniteStateMachineEnv):
    """A acts in stage "a", B in stage "b"; both are rewarded only when "b" resolves,
    each with the value of its own last action (so A's reward arrives while B acts and
    must be credited to A's earlier action)."""

    def __init__(self, num_steps: int = 8) -> None:
        network = ph.Network([Talker("A", "EA"), Talker("B", "EB"), Echo("EA"), Echo("EB")])
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        super().__init__(
            num_steps,
            network,
            initial_stage="a",
            stages=[
                ph.FSMStage("a", ["A"], rewarded_agents=[], next_stages=["b"]),
                ph.FSMStage("b", ["B"], rewarded_agents=["A", "B"], next_stages=["a"]),
            ],
        )


class LeaderFollowerEnv(ph.StackelbergEnv):
    """Leader A moves first, follower B second (a Stackelberg game of two talkers)."""

    def __init__(self, num_steps: int = 6) -> None:
        network = ph.Network([Talker("A", "EA"), Talker("B", "EB"), Echo("EA"), Echo("EB")])
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        super().__init__(num_steps, network, leader_agents=["A"], follower_agents=["B"])
