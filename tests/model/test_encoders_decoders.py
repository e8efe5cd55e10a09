"""Composed observation encoders and action decoders (Phantom's Chained/Dict forms)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from models import Echo, Ping, Pong

import phantomzoo as ph
from phantomzoo.decoders import ChainedDecoder, Decoder, DictDecoder, EmptyDecoder, LambdaDecoder
from phantomzoo.encoders import ChainedEncoder, Constant, DictEncoder, EmptyEncoder, Encoder
from phantomzoo.errors import ActionError, AgentDefinitionError

BOX1 = gym.spaces.Box(-np.inf, np.inf, (1,))


class IdEncoder(Encoder):
    """Observes its own id; reset forgets it (so propagation is visible)."""

    def __init__(self, ident):
        self.ident = ident

    @property
    def observation_space(self):
        return BOX1

    def encode(self, ctx):
        return np.array([self.ident])

    def reset(self):
        self.ident = None


class IdDecoder(Decoder):
    """Sends one text message naming itself; checks it got its own part of the action."""

    def __init__(self, ident):
        self.ident = ident

    @property
    def action_space(self):
        return BOX1

    def decode(self, ctx, action):
        assert action == self.ident
        return [("RECIPIENT", f"FROM {self.ident}")]

    def reset(self):
        self.ident = None


# ----------------------------------------------------------- Phantom's behaviour
def test_chained_encoder_observes_a_tuple_in_a_tuple_space():
    encoder = ChainedEncoder([IdEncoder(1), IdEncoder(2)])
    assert encoder.encode(None) == (np.array([1]), np.array([2]))
    assert encoder.observation_space == gym.spaces.Tuple((BOX1, BOX1))
    assert encoder.observation_space.contains(
        tuple(np.asarray(o, dtype=np.float32) for o in encoder.encode(None))
    )


def test_chain_builds_the_same_encoder_and_flattens_nesting():
    e1, e2, e3 = IdEncoder(1), IdEncoder(2), IdEncoder(3)
    assert e1.chain(e2).encoders == [e1, e2]
    assert e1.chain([e2, e3]).encoders == [e1, e2, e3]
    assert ChainedEncoder([e1, [e2, [e3]]]).encoders == [e1, e2, e3]
    assert ChainedEncoder([e1, e2]).chain(e3).encoders == [e1, e2, e3]


def test_dict_encoder_observes_a_dict_in_a_dict_space():
    encoder = DictEncoder({"e1": IdEncoder(1), "e2": IdEncoder(2)})
    assert encoder.observation_space == gym.spaces.Dict({"e1": BOX1, "e2": BOX1})
    assert encoder.encode(None) == {"e1": np.array([1]), "e2": np.array([2])}


@pytest.mark.parametrize(
    "compose", [ChainedEncoder, lambda parts: DictEncoder(dict(zip("ab", parts)))]
)
def test_composed_encoders_reset_every_part(compose):
    parts = [IdEncoder(1), IdEncoder(2)]
    compose(parts).reset()
    assert [p.ident for p in parts] == [None, None]


def test_chained_decoder_sends_every_parts_messages_in_order():
    d1, d2 = IdDecoder(1), IdDecoder(2)
    expected = [("RECIPIENT", "FROM 1"), ("RECIPIENT", "FROM 2")]
    assert ChainedDecoder([d1, d2]).decode(None, [1, 2]) == expected
    assert d1.chain(d2).decode(None, (1, 2)) == expected
    assert ChainedDecoder([d1, d2]).action_space == gym.spaces.Tuple((BOX1, BOX1))


def test_dict_decoder_splits_a_dict_action():
    decoder = DictDecoder({"d1": IdDecoder(1), "d2": IdDecoder(2)})
    assert decoder.action_space == gym.spaces.Dict({"d1": BOX1, "d2": BOX1})
    assert decoder.decode(None, {"d2": 2, "d1": 1}) == [
        ("RECIPIENT", "FROM 1"),
        ("RECIPIENT", "FROM 2"),
    ]


@pytest.mark.parametrize(
    "compose", [ChainedDecoder, lambda parts: DictDecoder(dict(zip("ab", parts)))]
)
def test_composed_decoders_reset_every_part(compose):
    parts = [IdDecoder(1), IdDecoder(2)]
    compose(parts).reset()
    assert [p.ident for p in parts] == [None, None]


def test_constant_and_empty_parts():
    assert np.array_equal(Constant((2,), 3.0).encode(None), [3.0, 3.0])
    assert Constant((2,), 3.0).observation_space.shape == (2,)
    assert EmptyEncoder().encode(None).shape == (1,)
    assert EmptyDecoder().decode(None, np.zeros(0)) == []


def test_a_decoder_returning_none_sends_nothing():
    quiet = LambdaDecoder(gym.spaces.Discrete(2), lambda ctx, a: None)
    assert ChainedDecoder([quiet, quiet]).decode(None, (0, 1)) == []


# ---------------------------------------------------------------- in an env
class Counter(Encoder):
    """Observes how many steps it has seen this episode; reset sets it back to 0."""

    def __init__(self):
        self.count = 0

    @property
    def observation_space(self):
        return gym.spaces.Box(0.0, 100.0, (1,), np.float32)

    def encode(self, ctx):
        self.count += 1
        return np.array([self.count], dtype=np.float32)

    def reset(self):
        self.count = 0


class Composed(ph.StrategicAgent):
    """Observes (last pong, step counter) as a dict; acts with a tuple of two pings."""

    def __init__(self, agent_id, target):
        self.counter = Counter()
        last_pong = ph.encoders.LambdaEncoder(
            gym.spaces.Box(0.0, 10.0, (1,), np.float32),
            lambda ctx: np.array([ctx.agent.last], dtype=np.float32),
        )
        ping = LambdaDecoder(gym.spaces.Discrete(4), lambda ctx, a: [(target, Ping(int(a)))])
        double = LambdaDecoder(gym.spaces.Discrete(2), lambda ctx, a: [(target, Ping(10 * int(a)))])
        super().__init__(
            agent_id,
            observation_encoder=DictEncoder({"pong": last_pong, "count": self.counter}),
            action_decoder=ChainedDecoder([ping, double]),
        )
        self.last = 0
        self.pongs = []

    def reset(self):
        self.last = 0
        self.pongs = []
        self.observation_encoder.reset()  # the hook a stateful encoder needs
        self.action_decoder.reset()

    @ph.agents.msg_handler(Pong)
    def on_pong(self, ctx, message):
        self.last = message.payload.value
        self.pongs.append(message.payload.value)

    def compute_reward(self, ctx):
        return 0.0


class ComposedEnv(ph.PhantomEnv):
    def __init__(self):
        network = ph.Network([Composed("A", "EA"), Echo("EA")])
        network.add_connection("A", "EA")
        super().__init__(num_steps=3, network=network)


def test_composed_encoder_and_decoder_drive_an_env():
    env = ComposedEnv()
    agent = env.network["A"]
    assert env.observation_space("A") == agent.observation_encoder.observation_space
    assert isinstance(env.action_space("A"), gym.spaces.Tuple)
    observations, _ = env.reset(seed=0)
    assert env.observation_space("A").contains(observations["A"])
    observations, *_ = env.step({"A": (3, 1)})
    assert agent.pongs == [3, 10]  # both parts' messages, in order
    assert env.observation_space("A").contains(observations["A"])
    assert observations["A"]["count"][0] == agent.counter.count
    env.reset(seed=1)
    assert agent.counter.count == 1  # reset reached the part, then the first observation


def test_composed_env_passes_the_conformance_check():
    ph.testing.check_env(ComposedEnv)


def test_a_wrong_tuple_action_is_refused_by_the_env():
    env = ComposedEnv()
    env.reset(seed=0)
    with pytest.raises(ActionError):
        env.step({"A": (3,)})


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: ChainedEncoder([]), "give at least one Encoder"),
        (lambda: ChainedEncoder([IdEncoder(1), 3]), r"every part must be a ph.encoders.Encoder"),
        (lambda: ChainedDecoder([IdEncoder(1)]), r"every part must be a ph.decoders.Decoder"),
        (lambda: DictEncoder([IdEncoder(1)]), "expects a mapping of names"),
        (lambda: DictEncoder({}), "give at least one Encoder"),
        (lambda: DictEncoder({1: IdEncoder(1)}), "names must be strings"),
        (lambda: DictDecoder({"a": IdEncoder(1)}), "'a' must be a ph.decoders.Decoder"),
        (lambda: ph.encoders.LambdaEncoder("box", lambda c: 0), "must be a gymnasium space"),
        (lambda: LambdaDecoder(BOX1, 3), "fn must be callable"),
    ],
)
def test_bad_compositions_are_refused(build, match):
    with pytest.raises(AgentDefinitionError, match=match):
        build()


def test_bad_composed_actions_are_refused():
    chained = ChainedDecoder([IdDecoder(1), IdDecoder(2)])
    with pytest.raises(ActionError, match="has 1 elements but there are 2 decoders"):
        chained.decode(None, [1])
    with pytest.raises(ActionError, match="must be a tuple with one element per decoder"):
        chained.decode(None, 5)
    named = DictDecoder({"d1": IdDecoder(1), "d2": IdDecoder(2)})
    with pytest.raises(ActionError, match=r"lacks the keys \['d2'\]"):
        named.decode(None, {"d1": 1})
    with pytest.raises(ActionError, match="must be a dict with the keys"):
        named.decode(None, [1, 2])
