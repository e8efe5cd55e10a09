from __future__ import annotations

import copy
import pickle

import pytest

import phantomzoo as ph
from phantomzoo.errors import MessageError, NetworkError


class OrderRequest(ph.MsgPayload):
    size: int


class Quote(ph.MsgPayload):
    price: float
    currency: str = "USD"


def test_payload_is_positional_keyword_and_immutable():
    order = OrderRequest(3)
    assert order.size == 3
    assert OrderRequest(size=3) == order
    assert repr(order) == "OrderRequest(size=3)"
    with pytest.raises(AttributeError, match="immutable"):
        order.size = 4  # type: ignore[misc]


def test_payload_defaults_and_replace():
    quote = Quote(1.5)
    assert quote.currency == "USD"
    assert quote._replace(currency="EUR") == Quote(1.5, "EUR")
    with pytest.raises(MessageError, match="no field"):
        quote._replace(colour="red")


def test_payloads_of_different_classes_are_not_equal():
    class StockRequest(ph.MsgPayload):
        size: int

    assert OrderRequest(3) != StockRequest(3)
    assert OrderRequest(3) == OrderRequest(3)
    assert hash(OrderRequest(3)) == hash(OrderRequest(3))


def test_payload_pickles_and_copies():
    quote = Quote(2.0, "GBP")
    assert pickle.loads(pickle.dumps(quote)) == quote
    assert copy.deepcopy(quote) == quote


def test_payload_field_order_errors():
    with pytest.raises(MessageError, match="without a default follows"):

        class Bad(ph.MsgPayload):
            a: int = 1
            b: int

    with pytest.raises(MessageError, match="must not start with an underscore"):

        class Private(ph.MsgPayload):
            _secret: int


def test_message_carries_ids_and_payload():
    message = ph.Message("A", "B", OrderRequest(2))
    assert (message.sender_id, message.receiver_id, message.payload) == ("A", "B", OrderRequest(2))
    with pytest.raises(AttributeError):
        message.payload = OrderRequest(1)  # type: ignore[misc]


def test_msg_handler_rejects_non_payload_classes():
    with pytest.raises(MessageError, match="pass MsgPayload subclasses"):
        ph.msg_handler(dict)


class Buyer(ph.Agent):
    pass


class Seller(ph.Agent):
    pass


@ph.msg_payload(sender_type=Buyer, receiver_type=Seller)
class Bid:
    amount: float

    def doubled(self) -> float:
        return 2 * self.amount


class Talk(ph.Agent):
    def __init__(self, agent_id, target, payload):
        super().__init__(agent_id)
        self.target, self.payload = target, payload

    def generate_messages(self, ctx):
        return [(self.target, self.payload)]


class Sink(ph.StrategicAgent):
    """A strategic agent that accepts Bids (so the env has a strategic agent)."""

    import gymnasium as _gym

    observation_space = _gym.spaces.Box(0, 1, (1,))
    action_space = _gym.spaces.Discrete(2)

    def encode_observation(self, ctx):
        import numpy as np

        return np.zeros(1, dtype=np.float32)

    def compute_reward(self, ctx):
        return 0.0

    def decode_action(self, ctx, action):
        return None

    @ph.agents.msg_handler(Bid)
    def on_bid(self, ctx, message):
        return None


def test_msg_payload_decorator_builds_payload_with_methods():
    bid = Bid(2.5)
    assert isinstance(bid, ph.MsgPayload)
    assert bid.doubled() == 5.0
    assert Bid._sender_types == (Buyer,)


def _step_once(agents, edges):
    network = ph.Network(agents)
    network.add_connections_from(edges)
    env = ph.PhantomEnv(num_steps=3, network=network)
    env.reset(seed=0)
    return env.step({a: 0 for a in env.agents})


def test_payload_sender_type_restriction_is_enforced():
    class Impostor(Talk):
        pass

    agents = [Impostor("I", "S", Bid(1.0)), Sink("S")]
    with pytest.raises(MessageError, match=r"agent 'I' \(Impostor\) may not send Bid: only Buyer"):
        _step_once(agents, [("I", "S")])


def test_payload_receiver_type_restriction_is_enforced():
    class BuyerTalk(Talk, Buyer):
        pass

    agents = [BuyerTalk("B", "S", Bid(1.0)), Sink("S")]
    with pytest.raises(MessageError, match=r"agent 'S' \(Sink\) may not receive Bid: only Seller"):
        _step_once(agents, [("B", "S")])


def test_payload_restrictions_accept_class_names():
    @ph.msg_payload(sender_type="BuyerTalk2", receiver_type=["Sink"])
    class Offer:
        amount: float

    class BuyerTalk2(Talk):
        pass

    class OfferSink(Sink):
        @ph.agents.msg_handler(Offer)
        def on_offer(self, ctx, message):
            self.got = message.payload.amount

    agents = [BuyerTalk2("B", "S", Offer(4.0)), OfferSink("S")]
    _step_once(agents, [("B", "S")])
    with pytest.raises(MessageError, match="may not send Offer"):
        _step_once([Talk("T", "S", Offer(1.0)), OfferSink("S")], [("T", "S")])


def test_message_along_missing_edge_names_both_agents():
    agents = [Talk("T", "S", Bid(1.0)), Sink("S"), Sink("X")]
    with pytest.raises(NetworkError, match=r"agent 'T' cannot send a message to agent 'S'"):
        _step_once(agents, [("T", "X")])


def test_message_to_unknown_agent():
    agents = [Talk("T", "NOPE", Bid(1.0)), Sink("S")]
    with pytest.raises(NetworkError, match=r"agent 'T' sent a message to unknown agent id 'NOPE'"):
        _step_once(agents, [("T", "S")])


def test_malformed_outgoing_messages_get_a_clear_error():
    class Sloppy(ph.Agent):
        def generate_messages(self, ctx):
            return [("S", 3)]  # not a payload

    with pytest.raises(MessageError, match=r"list of \(receiver_id, payload\) pairs"):
        _step_once([Sloppy("L"), Sink("S")], [("L", "S")])


# ------------------------------------------------------------ Phantom's dataclass style
from dataclasses import FrozenInstanceError, asdict, dataclass, field, fields, replace  # noqa: E402


@dataclass(frozen=True)
class DataclassOrder(ph.MsgPayload):
    """Phantom 2.2's payload style: a frozen dataclass subclassing MsgPayload."""

    size: int
    price: float = 1.5


def test_dataclass_payloads_build_compare_and_stay_immutable():
    order = DataclassOrder(3)
    assert (order.size, order.price) == (3, 1.5)
    assert order == DataclassOrder(3, 1.5) and order != DataclassOrder(4)
    assert hash(order) == hash(DataclassOrder(3, 1.5))
    assert repr(order) == "DataclassOrder(size=3, price=1.5)"
    assert DataclassOrder(size=2, price=0.5).price == 0.5
    with pytest.raises(FrozenInstanceError):
        order.size = 4
    with pytest.raises(AttributeError):
        order.other = 1


def test_dataclass_payloads_work_with_dataclass_helpers_and_pickle():
    import pickle

    order = DataclassOrder(3)
    assert [f.name for f in fields(order)] == ["size", "price"]
    assert asdict(order) == {"size": 3, "price": 1.5}
    assert replace(order, price=2.0) == DataclassOrder(3, 2.0)
    assert pickle.loads(pickle.dumps(order)) == order


def test_dataclass_payloads_keep_field_type_checks():
    with pytest.raises(MessageError, match="DataclassOrder.size must be an int"):
        DataclassOrder("3")
    with pytest.raises(TypeError, match="size"):
        DataclassOrder()


def test_dataclass_field_defaults_are_read_and_factories_refused():
    @dataclass(frozen=True)
    class WithField(ph.MsgPayload):
        size: int = field(default=2)

    assert WithField().size == 2
    with pytest.raises(MessageError, match="default_factory is not supported"):

        @dataclass(frozen=True)
        class WithFactory(ph.MsgPayload):
            sizes: list = field(default_factory=list)


def test_dataclass_payloads_travel_through_an_env():
    import gymnasium as gym
    import numpy as np

    class Buyer(ph.StrategicAgent):
        def __init__(self, agent_id):
            super().__init__(agent_id)
            self.observation_space = gym.spaces.Box(0.0, 10.0, (1,))
            self.action_space = gym.spaces.Discrete(3)

        def decode_action(self, ctx, action):
            return [("SELLER", DataclassOrder(int(action)))]

        def encode_observation(self, ctx):
            return np.zeros(1, dtype=np.float32)

        def compute_reward(self, ctx):
            return 0.0

    class Seller(ph.Agent):
        def __init__(self, agent_id):
            super().__init__(agent_id)
            self.orders = []

        @ph.agents.msg_handler(DataclassOrder)
        def on_order(self, ctx, message):
            self.orders.append(message.payload)

    network = ph.Network([Buyer("BUYER"), Seller("SELLER")])
    network.add_connection("BUYER", "SELLER")
    env = ph.PhantomEnv(num_steps=2, network=network)
    env.reset(seed=0)
    env.step({"BUYER": 2})
    assert network["SELLER"].orders == [DataclassOrder(2)]
