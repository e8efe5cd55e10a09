from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from models import Ping, Pong

import phantomzoo as ph
from phantomzoo.decoders import LambdaDecoder
from phantomzoo.encoders import LambdaEncoder
from phantomzoo.errors import AgentDefinitionError, MessageError
from phantomzoo.reward_functions import LambdaRewardFunction


def test_handlers_are_found_by_payload_class_and_inherited():
    class Base(ph.Agent):
        @ph.agents.msg_handler(Ping)
        def on_ping(self, ctx, message):
            return "base"

    class Child(Base):
        @ph.msg_handler(Pong)
        def on_pong(self, ctx, message):
            return "child"

    assert Child.find_handler(Ping).__name__ == "on_ping"
    assert Child.find_handler(Pong).__name__ == "on_pong"

    class SubPing(Ping):
        pass

    assert Child.find_handler(SubPing).__name__ == "on_ping"


def test_missing_handler_error_lists_known_handlers():
    class OnlyPing(ph.Agent):
        @ph.agents.msg_handler(Ping)
        def on_ping(self, ctx, message):
            return None

    with pytest.raises(MessageError, match=r"received a Pong but has no handler.*handles: Ping"):
        OnlyPing.find_handler(Pong)


def test_two_handlers_for_one_payload_are_rejected():
    with pytest.raises(AgentDefinitionError, match="two handlers for Ping"):

        class Twice(ph.Agent):
            @ph.agents.msg_handler(Ping)
            def first(self, ctx, message):
                return None

            @ph.agents.msg_handler(Ping)
            def second(self, ctx, message):
                return None


def test_agent_without_super_init_gets_a_clear_error():
    class Forgetful(ph.Agent):
        def __init__(self, agent_id):
            self.name = agent_id

    with pytest.raises(AgentDefinitionError, match=r"must call super\(\).__init__\(agent_id\)"):
        ph.Network([Forgetful("x")])


class Counter(ph.Agent):
    def __init__(self, agent_id):
        super().__init__(agent_id)
        self.seen = []

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        self.seen.append(message.payload.value)


def test_encoder_decoder_and_reward_objects_replace_methods():
    space = gym.spaces.Box(0, 1, (2,))
    agent = ph.StrategicAgent(
        "S",
        observation_encoder=LambdaEncoder(
            space, lambda ctx: np.array([0.5, ctx.current_step / 10])
        ),
        action_decoder=LambdaDecoder(gym.spaces.Discrete(3), lambda ctx, a: [("C", Ping(int(a)))]),
        reward_function=LambdaRewardFunction(lambda ctx: 1.5),
    )
    counter = Counter("C")
    network = ph.Network([agent, counter])
    network.add_connection("S", "C")
    env = ph.PhantomEnv(num_steps=10, network=network)
    assert env.observation_space("S") is space
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs["S"], [0.5, 0.0])
    obs, rewards, *_ = env.step({"S": 2})
    assert counter.seen == [2]
    assert rewards == {"S": 1.5}
    np.testing.assert_allclose(obs["S"], [0.5, 0.1])


def test_strategic_agent_without_spaces_or_methods():
    with pytest.raises(AgentDefinitionError, match="set self.observation_space"):
        ph.PhantomEnv(num_steps=2, network=ph.Network([ph.StrategicAgent("S")]))

    class HalfDone(ph.StrategicAgent):
        observation_space = gym.spaces.Box(0, 1, (1,))
        action_space = gym.spaces.Discrete(2)

    env = ph.PhantomEnv(num_steps=2, network=ph.Network([HalfDone("S")]))
    with pytest.raises(AgentDefinitionError, match=r"override encode_observation\(ctx\)"):
        env.reset(seed=0)


def test_custom_handle_batch_receives_whole_batch():
    class Batcher(ph.Agent):
        def __init__(self, agent_id):
            super().__init__(agent_id)
            self.batches = []

        def handle_batch(self, ctx, batch):
            self.batches.append([m.payload.value for m in batch])
            return []

    class Sender(ph.StrategicAgent):
        observation_space = gym.spaces.Box(0, 1, (1,))
        action_space = gym.spaces.Discrete(5)

        def decode_action(self, ctx, action):
            return [("B", Ping(int(action))), ("B", Ping(int(action) + 10))]

        def encode_observation(self, ctx):
            return np.zeros(1, dtype=np.float32)

        def compute_reward(self, ctx):
            return 0.0

    network = ph.Network([Sender("S1"), Sender("S2"), Batcher("B")])
    network.add_connections_between(["S1", "S2"], ["B"])
    env = ph.PhantomEnv(num_steps=3, network=network)
    env.reset(seed=0)
    env.step({"S1": 1, "S2": 2})
    assert network["B"].batches == [[1, 11, 2, 12]]


def test_an_unhandled_payload_is_a_no_handler_error_and_a_value_error():
    from phantomzoo.errors import MessageError, NoHandlerError

    class Unknown(ph.MsgPayload):
        value: int

    class Deaf(ph.Agent):
        pass

    with pytest.raises(NoHandlerError, match="no handler for it") as info:
        Deaf("D").handle_message(None, ph.Message("X", "D", Unknown(1)))
    assert isinstance(info.value, MessageError) and isinstance(info.value, ValueError)


def test_agents_repr_is_phantoms():
    assert repr(ph.Agent("A1")) == "[Agent A1]"
