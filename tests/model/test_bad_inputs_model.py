"""Bad inputs to the model layer: samplers, ranges, supertypes, stages, networks,
payloads and the resolver. Each is refused with a typed error naming the problem."""

from __future__ import annotations

import math
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from models import Echo, Ping, PingEnv, Pong, Talker, TalkerType, TurnEnv

import phantomzoo as ph
from phantomzoo.errors import (
    ActionError,
    EpisodeOverError,
    MessageError,
    NetworkError,
    NotResetError,
    PhantomZooError,
    ResolverError,
    SamplerError,
    StageError,
    SupertypeError,
)
from phantomzoo.ranges import MAX_RANGE_VALUES, LinspaceRange, ListRange, UniformRange
from phantomzoo.resolvers import DEFAULT_ROUND_LIMIT, BatchResolver
from phantomzoo.samplers import (
    DiscreteSampler,
    LambdaSampler,
    NormalSampler,
    Shared,
    UniformFloatSampler,
    UniformIntSampler,
)

NAN, INF = math.nan, math.inf


# ------------------------------------------------------------------ samplers
@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: UniformFloatSampler(-INF, 1.0), "low must be finite"),
        (lambda: UniformFloatSampler(0.0, INF), "high must be finite"),
        (lambda: UniformFloatSampler(NAN, 1.0), "low must not be NaN"),
        (lambda: UniformFloatSampler(True, 2.0), r"low must be a number, got True \(bool\)"),
        (lambda: UniformFloatSampler("0", 1.0), "low must be a number, got '0'"),
        (lambda: UniformFloatSampler(None, 1.0), "low must be a number, got None"),
        (lambda: UniformFloatSampler(0, 1, clip_low=NAN), "clip_low must not be NaN"),
        (lambda: UniformFloatSampler(0, 1, clip_high="1"), "clip_high must be a number"),
        (lambda: UniformFloatSampler(0, 1, clip_low=[0]), "clip_low must be a number"),
        (lambda: UniformFloatSampler(0, 1, 0.8, 0.2), r"clip_low \(0.8\) must be <= clip_high"),
        (lambda: UniformFloatSampler(0, 1, clip_low=2.0), "exclude the whole range"),
        (lambda: UniformFloatSampler(0, 1, clip_high=-1.0), "exclude the whole range"),
        (lambda: NormalSampler(NAN, 1.0), "mu must not be NaN"),
        (lambda: NormalSampler(INF, 1.0), "mu must be finite"),
        (lambda: NormalSampler(0.0, INF), "sigma must be finite"),
        (lambda: NormalSampler(0.0, NAN), "sigma must not be NaN"),
        (lambda: NormalSampler(0.0, -0.5), "sigma must be >= 0"),
        (lambda: NormalSampler(0.0, "1"), "sigma must be a number"),
        (lambda: NormalSampler(0.0, 1.0, clip_low=1, clip_high=0), "must be <= clip_high"),
        (lambda: NormalSampler(0.0, 1.0, clip_high=NAN), "clip_high must not be NaN"),
        (lambda: UniformIntSampler(True, 3), "low must be an int"),
        (lambda: UniformIntSampler(0, 3.0), "high must be an int"),
        (lambda: UniformIntSampler(0, np.float64(3)), "high must be an int"),
        (lambda: UniformIntSampler(5, 2), r"low \(5\) must be < high \(2\)"),
        (lambda: DiscreteSampler("abc"), "got the string 'abc'"),
        (lambda: DiscreteSampler({1, 2}), "got a set"),
        (lambda: DiscreteSampler(5), "values must be a list"),
        (lambda: DiscreteSampler([1, 2], [0.5, NAN]), "every probability must not be NaN"),
        (lambda: DiscreteSampler([1, 2], [INF, 0.0]), "every probability must be finite"),
        (lambda: DiscreteSampler([1, 2], [1.5, -0.5]), "must be >= 0 and sum to 1"),
        (lambda: DiscreteSampler([1, 2], [True, False]), "every probability must be a number"),
        (lambda: DiscreteSampler([1, 2], ["0.5", "0.5"]), "every probability must be a number"),
        (lambda: DiscreteSampler([1, 2], [0.2, 0.3, 0.5]), "got 2 values but 3 probabilities"),
        (lambda: DiscreteSampler([1, 2], 0.5), "probabilities must be a list"),
        (lambda: DiscreteSampler([1, 2], [0.4, 0.4]), "sum to 1"),
        (lambda: DiscreteSampler([1.0, NAN]), "values must not be NaN"),
        (lambda: DiscreteSampler([1.0, [1.0, 2.0]]), "must all have one shape"),
        (lambda: LambdaSampler(len, bounds=5), r"bounds must be a \(low, high\) pair"),
        (lambda: LambdaSampler(len, bounds="ab"), r"bounds must be a \(low, high\) pair"),
        (lambda: LambdaSampler(len, bounds=(0, 1, 2)), r"bounds must be a \(low, high\) pair"),
        (lambda: LambdaSampler(len, bounds=(NAN, 1)), "bounds low must not be NaN"),
        (lambda: LambdaSampler(len, bounds=(0, "1")), "bounds high must be a number or an array"),
        (lambda: LambdaSampler(len, bounds=(2, 1)), "bounds low 2 must be <= high 1"),
        (lambda: LambdaSampler(len, bounds=([0, 0], [1, 1])), r"array of shape \(\)"),
        (lambda: LambdaSampler(len, shape=0), "shape must be a tuple of ints >= 1"),
        (lambda: LambdaSampler(len, shape=(3, -1)), "shape must be a tuple of ints >= 1"),
        (lambda: LambdaSampler(len, shape="3"), "shape must be a tuple of ints >= 1"),
        (lambda: LambdaSampler(len, shape=(1.5,)), "shape must be a tuple of ints >= 1"),
        (lambda: Shared(Shared(UniformFloatSampler())), "already shared"),
        (lambda: Shared(0.5), "needs a Sampler"),
    ],
)
def test_sampler_parameters_are_validated(build, match):
    with pytest.raises(SamplerError, match=match):
        build()


def test_valid_sampler_edge_cases_still_work():
    rng = np.random.default_rng(0)
    assert UniformFloatSampler(1.0, 1.0).sample(rng) == 1.0
    assert UniformFloatSampler(0, 1, clip_low=-INF, clip_high=INF).bounds() == (0.0, 1.0)
    assert NormalSampler(2.0, 0.0).sample(rng) == 2.0
    assert NormalSampler(2.0, 0.0).bounds() == (2.0, 2.0)
    assert UniformIntSampler(np.int64(1), np.int32(3)).bounds() == (1.0, 2.0)
    assert DiscreteSampler([1, 2], np.array([0.5, 0.5])).sample(rng) in (1, 2)
    assert LambdaSampler(lambda r: 0.5, bounds=(0, 1), shape=1).shape == (1,)


# -------------------------------------------------------------------- ranges
@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: UniformRange(0, INF), "end must be finite"),
        (lambda: UniformRange(NAN, 1), "start must not be NaN"),
        (lambda: UniformRange(0, 1, NAN), "step must not be NaN"),
        (lambda: UniformRange("0", 1), "start must be a number"),
        (lambda: UniformRange(0, 1, -0.1), "step must be > 0"),
        (lambda: UniformRange(1, 0), r"end \(0\) must be >= start \(1\)"),
        (lambda: UniformRange(1, 1), "the range is empty"),
        (lambda: UniformRange(0, 1e9, 1), f"more than MAX_RANGE_VALUES={MAX_RANGE_VALUES}"),
        (lambda: LinspaceRange(0, NAN, 3), "end must not be NaN"),
        (lambda: LinspaceRange(-INF, 0, 3), "start must be finite"),
        (lambda: LinspaceRange(0, 1, True), "n must be an int >= 1"),
        (lambda: LinspaceRange(0, 1, 2.0), "n must be an int >= 1"),
        (lambda: LinspaceRange(0, 1, -3), "n must be an int >= 1"),
        (lambda: LinspaceRange(0, 1, 10**9), "more than MAX_RANGE_VALUES"),
        (lambda: ListRange("abc"), "got the string 'abc'"),
        (lambda: ListRange({1, 2}), "got a set"),
        (lambda: ListRange([0.1, NAN]), "must not be NaN"),
        (lambda: ListRange(3), "values must be a list"),
    ],
)
def test_range_parameters_are_validated(build, match):
    with pytest.raises(SamplerError, match=match):
        build()


# ---------------------------------------------------------------- supertypes
@dataclass
class VectorType(ph.Supertype):
    skill: object
    level: float = 1.0


def test_vector_lambda_sampler_widens_the_observation_space_by_its_shape():
    sampler = LambdaSampler(lambda rng: rng.uniform(0, 1, size=3), shape=(3,), bounds=(0, 1))
    env = PingEnv(supertype=VectorType(sampler))
    space = env.observation_space("A")
    assert space.shape == (1 + 3 + 1,)
    np.testing.assert_array_equal(space.low, [0, 0, 0, 0, -np.inf])
    np.testing.assert_array_equal(space.high, [10, 1, 1, 1, np.inf])
    observations, _ = env.reset(seed=0)
    assert observations["A"].shape == space.shape
    assert space.contains(observations["A"])


def test_array_bounds_of_a_vector_lambda_sampler():
    sampler = LambdaSampler(lambda rng: np.array([1.0, 5.0]), shape=(2,), bounds=([0, 4], [2, 6]))
    low, high = VectorType(sampler).bounds()
    np.testing.assert_array_equal(low, [0, 4, -np.inf])
    np.testing.assert_array_equal(high, [2, 6, np.inf])
    assert VectorType(sampler).sample(np.random.default_rng(0)).skill.tolist() == [1.0, 5.0]


def test_vector_discrete_sampler_widens_by_its_values_shape():
    supertype = VectorType(DiscreteSampler([[1.0, 2.0], [3.0, 0.0]]))
    low, high = supertype.bounds()
    np.testing.assert_array_equal(low, [1, 0, -np.inf])
    np.testing.assert_array_equal(high, [3, 2, np.inf])
    env = PingEnv(supertype=supertype)
    observations, _ = env.reset(seed=1)
    assert env.observation_space("A").contains(observations["A"])


@pytest.mark.parametrize(
    ("sampler", "match"),
    [
        (
            LambdaSampler(lambda rng: rng.uniform(size=3)),
            r"VectorType.skill: .*promised shape \(\) but drew shape \(3,\).*shape=\(3,\)",
        ),
        (
            LambdaSampler(lambda rng: rng.uniform(size=2), shape=(3,)),
            r"VectorType.skill: .*promised shape \(3,\) but drew shape \(2,\)",
        ),
        (
            Shared(LambdaSampler(lambda rng: [1.0, 2.0])),
            r"VectorType.skill: .*promised shape \(\) but drew shape \(2,\)",
        ),
        (
            LambdaSampler(lambda rng: 5.0, bounds=(0, 1)),
            r"VectorType.skill: .*drew 5.0, outside its declared bounds \(0.0, 1.0\)",
        ),
        (
            LambdaSampler(lambda rng: np.array([0.5, 2.0]), shape=2, bounds=(0, 1)),
            "VectorType.skill: .*outside its declared bounds",
        ),
        (LambdaSampler(lambda rng: NAN), "VectorType.skill: .*drew NaN"),
        (LambdaSampler(lambda rng: "x", bounds=(0, 1)), "VectorType.skill: .*not a number"),
        (LambdaSampler(lambda rng: "x", shape=(2,)), r"promised shape \(2,\) but drew 'x'"),
    ],
)
def test_draws_that_break_their_samplers_promise_are_refused(sampler, match):
    with pytest.raises(SupertypeError, match=match):
        VectorType(sampler).sample(np.random.default_rng(0))


def test_undeclared_vector_draw_is_refused_at_env_reset():
    env = PingEnv(supertype=VectorType(LambdaSampler(lambda rng: rng.uniform(size=3))))
    with pytest.raises(SupertypeError, match=r"VectorType.skill.*drew shape \(3,\)"):
        env.reset(seed=0)


def test_scalar_and_non_numeric_lambda_draws_still_pass():
    rng = np.random.default_rng(0)
    assert VectorType(LambdaSampler(lambda r: "label")).sample(rng).skill == "label"
    assert VectorType(LambdaSampler(lambda r: 3, bounds=(0, 5))).sample(rng).skill == 3


def test_supertype_subclass_that_is_not_a_dataclass_is_refused_at_construction():
    class Plain(ph.Supertype):
        def __init__(self, skill):
            self.skill = skill

    with pytest.raises(SupertypeError, match="Plain is not a dataclass; decorate it"):
        Plain(1.0)

    class Child(TalkerType):  # adds a field but forgot @dataclass
        extra: float = 2.0

    with pytest.raises(SupertypeError, match=r"Child declares fields \['extra'\].*too"):
        Child(1.0)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (None, "cannot be flattened"),
        ("3", "cannot be flattened"),
        ([1.0, "a"], "cannot be flattened"),
        ([[1.0], [1.0, 2.0]], "cannot be flattened"),
        ({"a": 1}, "cannot be flattened"),
        (NAN, "is NaN"),
        (np.array([1.0, NAN]), "is NaN"),
    ],
)
def test_type_values_that_are_not_numeric_observations_are_refused(value, match):
    with pytest.raises(SupertypeError, match=f"TalkerType.skill = .*{match}"):
        TalkerType(value).to_array()


# --------------------------------------------------------------------- stages
@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: ph.FSMStage("s", "SHOP"), r"acting_agents must be a list.*\['SHOP'\]"),
        (lambda: ph.FSMStage("s", ["A"], "B"), r"rewarded_agents must be a list.*\['B'\]"),
        (lambda: ph.FSMStage("s", ["A"], next_stages="t"), r"next_stages.*next_stages=\['t'\]"),
        (lambda: ph.FSMStage("s", 3), r"acting_agents must be a list of ids, got 3"),
        (lambda: ph.FSMStage("s", {"A", "B"}), "got a set"),
        (lambda: ph.FSMStage("s", {"A": 1}), "acting_agents must be a list of ids"),
        (lambda: ph.FSMStage("s", ["A", "A"]), "lists 'A' twice"),
        (lambda: ph.FSMStage("s", ["A"], ["B", "B"]), "rewarded_agents lists 'B' twice"),
        (lambda: ph.FSMStage("s", [["A"]]), "not hashable"),
        (lambda: ph.FSMStage(["s"], ["A"]), "stage id .* is not hashable"),
        (lambda: ph.FSMStage("s", ["A"], handler="go"), "handler must be callable"),
    ],
)
def test_stage_declarations_are_validated(build, match):
    with pytest.raises(StageError, match=match):
        build()


def test_decorated_stage_with_a_string_fails_at_class_definition():
    with pytest.raises(StageError, match="acting_agents must be a list"):

        class Bad(ph.FiniteStateMachineEnv):
            @ph.FSMStage("s", acting_agents="A", next_stages=["s"])
            def s(self):
                return "s"


def _two_talkers():
    network = ph.Network([Talker("A", "EA"), Talker("B", "EB"), Echo("EA"), Echo("EB")])
    network.add_connections_from([("A", "EA"), ("B", "EB")])
    return network


def test_stage_graph_where_no_reachable_stage_acts_is_refused():
    stages = [ph.FSMStage("a", [], next_stages=["b"]), ph.FSMStage("b", [], next_stages=["a"])]
    with pytest.raises(StageError, match=r"no stage reachable .* 'a' has acting agents"):
        ph.FiniteStateMachineEnv(4, _two_talkers(), initial_stage="a", stages=stages)
    orphan = [ph.FSMStage("a", [], next_stages=["a"]), ph.FSMStage("b", ["A"], next_stages=["b"])]
    with pytest.raises(StageError, match=r"reachable: \['a'\]"):
        ph.FiniteStateMachineEnv(4, _two_talkers(), initial_stage="a", stages=orphan)


def test_unhashable_initial_stage_is_a_stage_error():
    stages = [ph.FSMStage("a", ["A"], next_stages=["a"])]
    with pytest.raises(StageError, match="initial stage"):
        ph.FiniteStateMachineEnv(4, _two_talkers(), initial_stage=["a"], stages=stages)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda env: env.step(1), r"step\(\) called before reset\(\); call env.reset"),
        (lambda env: env.last(), r"last\(\) called before reset\(\)"),
        (lambda env: env.observe("A"), r"observe\(\) called before reset\(\)"),
        (lambda env: env.acting_step({"A": 1}), r"before reset\(\)"),
    ],
)
def test_aec_env_used_before_reset(call, match):
    env = TurnEnv()
    with pytest.raises(NotResetError, match=match) as info:
        call(env)
    assert isinstance(info.value, EpisodeOverError) and isinstance(info.value, RuntimeError)


def test_observe_of_an_unknown_agent_is_an_action_error():
    env = TurnEnv()
    env.reset(seed=0)
    with pytest.raises(ActionError, match=r"observe\('nobody'\): unknown agent"):
        env.observe("nobody")
    with pytest.raises(ActionError, match=r"'EA' \(Echo\) is not a StrategicAgent"):
        env.observe("EA")


def test_stackelberg_refuses_strings_and_empty_groups():
    with pytest.raises(StageError, match=r"leader_agents must be a list.*\['A'\]"):
        ph.StackelbergEnv(4, _two_talkers(), "A", ["B"])
    with pytest.raises(StageError, match="at least one leader and one follower"):
        ph.StackelbergEnv(4, _two_talkers(), [], ["B"])


# ------------------------------------------------------------------- networks
def test_empty_network_is_not_usable():
    with pytest.raises(NetworkError, match="the network has no agents; add them"):
        ph.Network().check_usable()
    with pytest.raises(NetworkError, match=r"no StrategicAgent \(only \['Echo'\]\)"):
        ph.Network([Echo("E")]).check_usable()
    _two_talkers().check_usable()  # a usable network passes


def test_staged_env_on_an_empty_network_is_refused():
    stages = [ph.FSMStage("a", [], next_stages=["a"])]
    with pytest.raises(NetworkError, match="the network has no agents"):
        ph.FiniteStateMachineEnv(4, ph.Network(), initial_stage="a", stages=stages)
    with pytest.raises(NetworkError, match="no StrategicAgent"):
        ph.FiniteStateMachineEnv(4, ph.Network([Echo("E")]), initial_stage="a", stages=stages)


# ------------------------------------------------------------------- payloads
class Order(ph.MsgPayload):
    size: int
    price: float = 1.0
    note: str = ""
    urgent: bool = False


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"size": 2.5}, r"Order.size must be an int .*got 2.5 \(float\)"),
        ({"size": True}, r"Order.size must be an int .*not a bool.*got True"),
        ({"size": "3"}, r"Order.size must be an int .*got '3' \(str\)"),
        ({"size": None}, "Order.size must be an int"),
        ({"size": np.float64(3)}, r"Order.size .*\(float64\)"),
        ({"size": np.bool_(True)}, "Order.size must be an int"),
        ({"size": 1, "price": "9.99"}, r"Order.price must be a float or int .*'9.99'"),
        ({"size": 1, "price": False}, "Order.price must be a float or int"),
        ({"size": 1, "price": None}, "Order.price must be a float"),
        ({"size": 1, "note": 7}, r"Order.note must be a str, got 7 \(int\)"),
        ({"size": 1, "urgent": 1}, r"Order.urgent must be a bool .*got 1 \(int\)"),
        ({"size": 1, "urgent": "yes"}, "Order.urgent must be a bool"),
    ],
)
def test_payload_fields_are_checked_against_plain_annotations(kwargs, match):
    with pytest.raises(MessageError, match=match):
        Order(**kwargs)


def test_payload_check_accepts_numpy_scalars_and_ints_for_floats():
    order = Order(np.int64(3), np.float32(2.5), np.str_("x"), np.bool_(True))
    assert order.size == 3 and order.urgent
    assert Order(3, 2).price == 2
    assert Order(3, np.int32(2)).price == 2
    with pytest.raises(MessageError, match="Order.size must be an int"):
        Order(3)._replace(size=0.5)


def test_payload_type_check_opt_out_and_inheritance():
    class Loose(ph.MsgPayload, check_types=False):
        size: int

    class LooseChild(Loose):
        extra: float

    class StrictAgain(Loose, check_types=True):
        other: int

    assert Loose("anything").size == "anything"
    assert LooseChild("a", "b").extra == "b"
    with pytest.raises(MessageError, match="StrictAgain.size must be an int"):
        StrictAgain("a", 1)
    with pytest.raises(MessageError, match="check_types must be True or False"):

        class Weird(ph.MsgPayload, check_types="no"):
            size: int


def test_payload_with_a_default_of_the_wrong_type_fails_at_class_definition():
    with pytest.raises(MessageError, match=r"default of field 'price' is None .*annotated float"):

        class Bad(ph.MsgPayload):
            price: float = None


def test_only_plain_annotations_are_checked():
    class Free(ph.MsgPayload):
        maybe: float | None = None
        items: list[int] = ()

    assert Free(None, "not checked").items == "not checked"


def test_payload_check_with_real_type_annotations():
    source = "class Live(ph.MsgPayload):\n    size: int\n    price: float\n"
    namespace = {"ph": ph}
    exec(compile(source, "<payload>", "exec", dont_inherit=True), namespace)
    live = namespace["Live"]
    assert live.__annotations__["size"] is int  # not a string: no __future__ import
    assert live(1, 2.0).price == 2.0
    with pytest.raises(MessageError, match="Live.price must be a float"):
        live(1, "2")


def test_msg_payload_decorator_checks_types_and_can_opt_out():
    @ph.msg_payload()
    class Offer:
        amount: float

    @ph.msg_payload(check_types=False)
    class LooseOffer:
        amount: float

    with pytest.raises(MessageError, match="Offer.amount must be a float"):
        Offer("1")
    assert LooseOffer("1").amount == "1"


def test_wrongly_typed_payload_sent_in_a_step_names_the_field():
    class Sloppy(Talker):
        def decode_action(self, ctx, action):
            return [(self.target, Ping(float(action) + 0.5))]

    network = ph.Network([Sloppy("A", "EA"), Echo("EA")])
    network.add_connection("A", "EA")
    env = ph.PhantomEnv(num_steps=3, network=network)
    env.reset(seed=0)
    with pytest.raises(MessageError, match=r"Ping.value must be an int .*got 1.5"):
        env.step({"A": 1})


# ------------------------------------------------------------------- resolver
class Bouncer(ph.Agent):
    """Answers every Ping with a Ping to its partner: an endless exchange."""

    def __init__(self, agent_id, partner):
        super().__init__(agent_id)
        self.partner = partner

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        return [(self.partner, Ping(message.payload.value + 1))]

    @ph.agents.msg_handler(Pong)
    def on_pong(self, ctx, message):
        return None


def _endless_env(resolver=None):
    network = ph.Network(
        [Talker("A", "S1"), Bouncer("S1", "S2"), Bouncer("S2", "S1")], resolver=resolver
    )
    network.add_connections_from([("A", "S1"), ("S1", "S2")])
    return ph.PhantomEnv(num_steps=3, network=network)


def test_default_resolver_has_a_finite_round_limit_naming_the_agents():
    assert BatchResolver().round_limit == DEFAULT_ROUND_LIMIT == 100
    assert BatchResolver(None).round_limit == 100
    env = _endless_env()
    env.reset(seed=0)
    with pytest.raises(ResolverError, match=r"round_limit=100 rounds") as info:
        env.step({"A": 1})
    message = str(info.value)
    assert "'S1' -> 'S2'" in message or "'S2' -> 'S1'" in message
    assert "BatchResolver(round_limit=200)" in message


def test_a_raised_round_limit_is_honoured():
    env = _endless_env(BatchResolver(round_limit=np.int64(7)))
    env.reset(seed=0)
    with pytest.raises(ResolverError, match=r"round_limit=7 rounds .*'S\d' -> 'S\d'"):
        env.step({"A": 1})


def test_the_round_limit_error_names_the_drop_option():
    env = _endless_env(BatchResolver(round_limit=3))
    env.reset(seed=0)
    with pytest.raises(ResolverError, match="on_round_limit='drop'"):
        env.step({"A": 1})


def test_a_dropping_round_limit_bounds_processing_and_counts_what_it_dropped():
    """Phantom's behaviour behind an explicit option: after ``round_limit`` rounds the
    step goes on without the pending messages, which are counted."""
    resolver = BatchResolver(round_limit=4, on_round_limit="drop")
    env = _endless_env(resolver)
    env.reset(seed=0)
    env.step({"A": 1})  # A pings S1, S1 and S2 bounce: rounds 2..4 then one left
    assert resolver.last_dropped == 1 and resolver.dropped_messages == {"Ping": 1}
    env.step({"A": 2})
    assert resolver.last_dropped == 1 and resolver.dropped_messages == {"Ping": 2}
    env.network.message_log = []  # delivered messages: A's Ping, then 3 bounces
    env.step({"A": 1})
    assert [(m.sender_id, m.receiver_id) for m in env.network.message_log] == [
        ("A", "S1"),
        ("S1", "S2"),
        ("S2", "S1"),
        ("S1", "S2"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"round_limit": math.inf}, "no unbounded setting"),
        ({"round_limit": 2.5}, "round_limit must be None or an int >= 0"),
        ({"round_limit": True}, "round_limit must be None or an int >= 0"),
        ({"round_limit": "10"}, "round_limit must be None or an int >= 0"),
        ({"round_limit": -1}, "round_limit must be None or an int >= 0"),
        ({"shuffle_batches": "yes"}, "shuffle_batches must be True or False"),
        ({"on_round_limit": "ignore"}, r"on_round_limit must be one of \['raise', 'drop'\]"),
    ],
)
def test_resolver_parameters_are_validated(kwargs, match):
    with pytest.raises(ResolverError, match=match):
        BatchResolver(**kwargs)


def test_every_model_error_is_a_phantomzoo_error():
    for error in (SamplerError, SupertypeError, StageError, NetworkError, MessageError):
        assert issubclass(error, PhantomZooError)
    assert issubclass(NotResetError, PhantomZooError) and issubclass(NotResetError, RuntimeError)


def test_gym_space_still_matches_type_vector_for_scalar_types():
    env = PingEnv(supertype=TalkerType(UniformFloatSampler(0.0, 2.0)))
    observations, _ = env.reset(seed=3)
    space = env.observation_space("A")
    assert isinstance(space, gym.spaces.Box) and space.contains(observations["A"])


def test_context_view_of_an_unhashable_id_is_a_network_error():
    env = PingEnv()
    env.reset(seed=0)
    ctx = env.engine.context("A")
    with pytest.raises(NetworkError, match=r"cannot see agent \['EA'\]"):
        ctx.view(["EA"])
    with pytest.raises(NetworkError, match="cannot see agent 'B': they are not connected"):
        ctx.view("B")


def test_aec_env_used_after_the_episode_ended():
    env = TurnEnv(num_steps=2)
    env.reset(seed=0)
    while env.agents:
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else 1)
    with pytest.raises(EpisodeOverError, match=r"step\(\) called after the episode ended"):
        env.step(1)
    with pytest.raises(EpisodeOverError, match=r"last\(\) called after the episode ended"):
        env.last()
