"""The opt-in batched path: twins, columnar messages, their checks and the equivalence check."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.engine.batched_columns import Outbox
from phantomzoo.errors import (
    AgentDefinitionError,
    ConfigError,
    ConformanceError,
    MessageError,
    NetworkError,
    ObservationError,
    PayloadTypeError,
    ResolverError,
    RewardError,
)


class Ping(ph.MsgPayload):
    value: int


class Pong(ph.MsgPayload):
    value: int


class Hub(ph.Agent):
    """Sums the pings it gets and answers each with twice its value."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id)
        self.total = 0

    def reset(self) -> None:
        self.total = 0

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        self.total += message.payload.value
        return [(message.sender_id, Pong(message.payload.value * 2))]

    @ph.agents.batch_handler(Ping)
    def on_pings(cls, agents, group, batch):
        sums = np.bincount(batch.rows, weights=batch.value, minlength=len(agents))
        for agent, extra in zip(agents, sums.astype(int).tolist()):
            agent.total += extra
        return batch.reply(Pong, value=batch.value * 2)


class PlainHub(Hub):
    """A hub without a batched twin (inherits the handler, drops the twin)."""

    on_pings = None


class Node(ph.StrategicAgent):
    """Pings its hub with its action; observes and is rewarded with what came back."""

    observation_space = gym.spaces.Box(0.0, np.inf, (1,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self, agent_id: str, hub: str) -> None:
        super().__init__(agent_id)
        self.hub = hub
        self.got = 0

    def reset(self) -> None:
        self.got = 0

    def decode_action(self, ctx, action):
        return [(self.hub, Ping(int(action)))]

    @ph.agents.msg_handler(Pong)
    def on_pong(self, ctx, message):
        self.got += message.payload.value

    def encode_observation(self, ctx):
        return np.array([self.got], np.float32)

    def compute_reward(self, ctx):
        return float(self.got)


class BatchedNode(Node):
    @classmethod
    def decode_actions(cls, agents, group, actions):
        return Outbox(Ping, to=[a.hub for a in agents], value=actions.astype(np.int64))

    @ph.agents.batch_handler(Pong)
    def on_pongs(cls, agents, group, batch):
        sums = np.bincount(batch.rows, weights=batch.value, minlength=len(agents))
        for agent, extra in zip(agents, sums.astype(int).tolist()):
            agent.got += extra

    @classmethod
    def encode_observations(cls, agents, group):
        return np.array([[a.got] for a in agents], np.float32)

    @classmethod
    def compute_rewards(cls, agents, group):
        return np.array([a.got for a in agents], np.float64)


class ToyEnv(ph.PhantomEnv):
    def __init__(self, node_cls=BatchedNode, hub_cls=Hub, nodes=6, resolver=None, links=None):
        hubs = [hub_cls("H0"), hub_cls("H1")]
        members = [node_cls(f"N{i}", f"H{i % 2}") for i in range(nodes)]
        network = ph.Network([*hubs, *members], resolver=resolver)
        for i, node in enumerate(members):
            network.add_connection(node.id, links[i] if links else f"H{i % 2}")
        super().__init__(num_steps=12, network=network)


def _play(env, batched, steps=5, seed=0):
    env.engine.batched = batched
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    result = [obs]
    for _ in range(steps):
        actions = {a: int(rng.integers(3)) for a in env.agents}
        result.append(env.step(actions)[:2])
    return result


# ------------------------------------------------------------------ it works
def test_batched_toy_matches_per_agent_play_and_logs_every_message() -> None:
    ph.testing.check_batched(lambda: ToyEnv(), seed=1, steps=30)
    env = ToyEnv()
    env.network.message_log = log = []
    _play(env, True, steps=3)
    assert len(log) == 3 * 12  # 6 pings and 6 pongs per step, all logged
    assert env.engine.grouping is not None and env.network["H0"].total > 0


def test_mixed_per_agent_and_batched_classes_match() -> None:
    # per-agent nodes -> batched hubs (queued messages become columns), and batched
    # nodes -> hubs without a twin (columns become messages)
    ph.testing.check_batched(lambda: ToyEnv(node_cls=Node), seed=2, steps=20)
    ph.testing.check_batched(lambda: ToyEnv(hub_cls=PlainHub), seed=3, steps=20)


def test_custom_and_shuffling_resolvers_get_the_columns_as_messages() -> None:
    shuffling = lambda: ToyEnv(resolver=ph.resolvers.BatchResolver(shuffle_batches=True))  # noqa: E731
    ph.testing.check_batched(shuffling, seed=4, steps=20)


def test_batched_is_off_by_default_and_takes_effect_at_reset() -> None:
    env = ToyEnv()
    assert env.engine.batched is False
    env.reset(seed=0)
    assert env.engine.grouping is None
    env.engine.batched = True
    assert env.engine.grouping is None  # not mid-episode
    env.reset(seed=0)
    assert env.engine.grouping is not None


def test_partial_groups_fall_back_to_the_per_agent_methods() -> None:
    class Quitter(BatchedNode):
        def is_terminated(self, ctx):
            return self.id == "N0" and ctx.current_step >= 2

    ph.testing.check_batched(lambda: ToyEnv(node_cls=Quitter), seed=5, steps=30)


# ------------------------------------------------------------------ errors
def test_batched_switch_must_be_a_bool() -> None:
    with pytest.raises(ConfigError, match="batched must be True or False"):
        ToyEnv().engine.batched = "yes"


def test_batch_handler_needs_payload_classes_and_the_per_message_handler() -> None:
    with pytest.raises(MessageError, match="at least one payload class"):
        ph.agents.batch_handler()
    with pytest.raises(MessageError, match="pass MsgPayload subclasses"):
        ph.agents.batch_handler(int)
    with pytest.raises(AgentDefinitionError, match="no @msg_handler\\(Pong\\)"):

        class Broken(ph.Agent):
            @ph.agents.batch_handler(Pong)
            def on_pongs(cls, agents, group, batch):
                return None


def test_a_twin_must_be_a_classmethod() -> None:
    class Instance(BatchedNode):
        def compute_rewards(self, agents, group):  # not a classmethod
            return np.zeros(len(agents))

    env = ToyEnv(node_cls=Instance)
    env.engine.batched = True
    with pytest.raises(AgentDefinitionError, match="must be a @classmethod"):
        env.reset(seed=0)


def _failing(**twins):
    cls = type("Bad", (BatchedNode,), {k: classmethod(v) for k, v in twins.items()})
    env = ToyEnv(node_cls=cls)
    env.engine.batched = True
    return env


def _step(env):
    env.reset(seed=0)
    env.step({a: 1 for a in env.agents})


@pytest.mark.parametrize(
    ("twin", "error", "match"),
    [
        (lambda c, a, g, x: "nope", MessageError, "return None, an Outbox"),
        (lambda c, a, g, x: Outbox(Ping, to="H9", value=1), NetworkError, "unknown agent id 'H9'"),
        (
            lambda c, a, g, x: Outbox(Ping, to="H0", value=x.astype(int)),
            NetworkError,
            "not connected",
        ),
        (
            lambda c, a, g, x: Outbox(Ping, to=[a0.hub for a0 in a]),
            MessageError,
            "needs field 'value'",
        ),
        (
            lambda c, a, g, x: Outbox(Ping, to=[a0.hub for a0 in a], value=[1, 2]),
            MessageError,
            "2 values for 6",
        ),
        (
            lambda c, a, g, x: Outbox(Ping, to=[a0.hub for a0 in a], value=x * 0.5),
            MessageError,
            "declared int",
        ),
        (
            lambda c, a, g, x: Outbox(Ping, to=[a0.hub for a0 in a], value=1, size=2),
            MessageError,
            "no field",
        ),
        (lambda c, a, g, x: Outbox(Ping, to=["H0"], value=1), MessageError, "1 receivers for 6"),
        (lambda c, a, g, x: Outbox(Ping, to=np.arange(6) + 99, value=1), NetworkError, "outside"),
        (
            lambda c, a, g, x: Outbox(Ping, to="H0", from_rows=[7], value=1),
            MessageError,
            "outside 0..5",
        ),
    ],
)
def test_bad_outboxes_raise_typed_errors(twin, error, match) -> None:
    with pytest.raises(error, match=match):
        _step(_failing(decode_actions=twin))


def test_outbox_needs_a_payload_class() -> None:
    with pytest.raises(MessageError, match="payload class first"):
        Outbox("Ping", to="H0")


def test_payload_sender_types_are_checked_per_class_pair() -> None:
    @ph.msg_payload(sender_type="Hub")
    class HubOnly(ph.MsgPayload):
        value: int

    class Sender(BatchedNode):
        @classmethod
        def decode_actions(cls, agents, group, actions):
            return Outbox(HubOnly, to=[a.hub for a in agents], value=1)

    env = ToyEnv(node_cls=Sender)
    env.engine.batched = True
    with pytest.raises(PayloadTypeError, match="may not send HubOnly"):
        _step(env)


def test_bad_observation_and_reward_twins_raise() -> None:
    with pytest.raises(ObservationError, match="returned shape \\(6, 2\\)"):
        _failing(encode_observations=lambda c, a, g: np.zeros((len(a), 2))).reset(seed=0)
    env = _failing(compute_rewards=lambda c, a, g: np.full(len(a), np.nan))
    with pytest.raises(RewardError, match="is not finite"):
        _step(env)
    env = _failing(compute_rewards=lambda c, a, g: np.zeros(3))
    with pytest.raises(RewardError, match="expected \\(6,\\)"):
        _step(env)


def test_round_limit_applies_to_columns() -> None:
    env = ToyEnv(resolver=ph.resolvers.BatchResolver(round_limit=1))
    env.engine.batched = True
    with pytest.raises(ResolverError, match="round_limit=1"):
        _step(env)


# ------------------------------------------------------------ the check itself
def test_check_batched_catches_a_twin_that_differs() -> None:
    class Off(BatchedNode):
        @classmethod
        def compute_rewards(cls, agents, group):
            return np.array([a.got + 1.0 for a in agents])

    with pytest.raises(ConformanceError, match="differ in rewards after step 1"):
        ph.testing.check_batched(lambda: ToyEnv(node_cls=Off), steps=5)


def test_check_batched_catches_a_twin_that_forgets_state() -> None:
    class Forgetful(BatchedNode):
        @ph.agents.batch_handler(Pong)
        def on_pongs(cls, agents, group, batch):
            return None

        @classmethod
        def encode_observations(cls, agents, group):
            return np.array([[a.got] for a in agents], np.float32)

    with pytest.raises(ConformanceError, match="differ in"):
        ph.testing.check_batched(lambda: ToyEnv(node_cls=Forgetful), steps=5)


def test_check_batched_refuses_bad_arguments_and_envs_without_twins() -> None:
    with pytest.raises(ConfigError, match="needs a function"):
        ph.testing.check_batched(ToyEnv())
    with pytest.raises(ConfigError, match="steps must be"):
        ph.testing.check_batched(ToyEnv, steps=0)
    with pytest.raises(ConfigError, match="nothing to compare"):
        ph.testing.check_batched(lambda: ToyEnv(node_cls=Node, hub_cls=PlainHub), steps=3)
    with pytest.raises(ConfigError, match="not a phantomzoo environment"):
        ph.testing.check_batched(lambda: object())


def test_envs_take_the_batched_switch():
    from models import Echo, Talker

    network = ph.Network([Talker("A", "EA"), Echo("EA")])
    network.add_connection("A", "EA")
    assert ph.PhantomEnv(num_steps=2, network=network, batched=True).engine.batched
    stages = [ph.FSMStage("s", ["A"], next_stages=["s"])]
    staged = ph.FiniteStateMachineEnv(2, network, "s", stages=stages, batched=True)
    assert staged.engine.batched
