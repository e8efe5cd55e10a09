from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from models import PingEnv, TalkerType

import phantomzoo as ph
from phantomzoo.errors import SamplerError, SupertypeError
from phantomzoo.ranges import LinspaceRange, ListRange, UniformRange
from phantomzoo.samplers import (
    DiscreteSampler,
    LambdaSampler,
    NormalSampler,
    Shared,
    UniformFloatSampler,
    UniformIntSampler,
)


def test_samplers_draw_from_the_given_generator():
    samplers = [
        UniformFloatSampler(1.0, 2.0),
        UniformIntSampler(0, 5),
        NormalSampler(0.0, 1.0, clip_low=-1.0, clip_high=1.0),
        DiscreteSampler(["a", "b"], [0.25, 0.75]),
        LambdaSampler(lambda rng, k: rng.integers(k) * 10, 3),
    ]
    first = [s.sample(np.random.default_rng(5)) for s in samplers]
    second = [s.sample(np.random.default_rng(5)) for s in samplers]
    assert first == second
    assert 1.0 <= first[0] < 2.0 and first[1] in range(5) and -1.0 <= first[2] <= 1.0
    assert first[3] in ("a", "b") and first[4] in (0, 10, 20)


def test_sampler_bounds():
    assert UniformFloatSampler(1, 2).bounds() == (1.0, 2.0)
    assert UniformIntSampler(0, 5).bounds() == (0.0, 4.0)
    assert NormalSampler(0, 1, clip_low=-2).bounds() == (-2, np.inf)
    assert DiscreteSampler([3, 1, 2]).bounds() == (1.0, 3.0)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: UniformFloatSampler(2.0, 1.0), r"low \(2.0\) must be <= high \(1.0\)"),
        (lambda: UniformIntSampler(3, 3), r"low \(3\) must be < high \(3\)"),
        (lambda: UniformIntSampler(0.5, 3), "low must be an int"),
        (lambda: NormalSampler(0.0, -1.0), "sigma must be >= 0"),
        (lambda: DiscreteSampler([]), "values must not be empty"),
        (lambda: DiscreteSampler([1, 2], [0.5]), "one probability per value"),
        (lambda: DiscreteSampler([1, 2], [0.7, 0.7]), "sum to 1"),
        (lambda: LambdaSampler(3), "func must be callable"),
        (lambda: UniformFloatSampler("x", 1.0), "low must be a number"),
        (lambda: UniformRange(0, 1, step=0), "step must be > 0"),
        (lambda: LinspaceRange(0, 1, 0), "n must be an int >= 1"),
        (lambda: ListRange([]), "values must not be empty"),
    ],
)
def test_impossible_parameters_are_rejected(build, match):
    with pytest.raises(SamplerError, match=match):
        build()


def test_ranges_list_their_values():
    assert UniformRange(0.0, 1.0, 0.25).values() == [0.0, 0.25, 0.5, 0.75]
    assert LinspaceRange(0.0, 1.0, 3).values() == [0.0, 0.5, 1.0]
    assert list(ListRange([3, 1])) == [3, 1]


@dataclass
class Family(ph.Supertype):
    budget: float
    size: int = 2


def test_supertype_samples_into_a_type():
    supertype = Family(UniformFloatSampler(10.0, 20.0))
    sampled = supertype.sample(np.random.default_rng(0))
    assert isinstance(sampled, Family) and 10.0 <= sampled.budget < 20.0 and sampled.size == 2
    np.testing.assert_allclose(sampled.to_array(), [sampled.budget, 2.0], rtol=1e-6)
    low, high = supertype.bounds()
    np.testing.assert_array_equal(low, [10.0, -np.inf])
    np.testing.assert_array_equal(high, [20.0, np.inf])


def test_supertype_errors():
    class NotADataclass(ph.Supertype):
        pass

    with pytest.raises(SupertypeError, match="decorate it with @dataclasses.dataclass"):
        NotADataclass().sample(np.random.default_rng(0))
    with pytest.raises(SupertypeError, match="holds a range"):
        Family(UniformRange(0, 1, 0.5)).sample(np.random.default_rng(0))
    with pytest.raises(SupertypeError, match="still a sampler"):
        Family(UniformFloatSampler()).to_array()

    @dataclass
    class Named(ph.Supertype):
        name: str

    with pytest.raises(SupertypeError, match="cannot be flattened"):
        Named("x").to_array()


def test_one_sampler_object_gives_independent_draws_per_agent():
    sampler = UniformFloatSampler(0.0, 1.0)
    env = PingEnv(
        supertype=None, agent_supertypes={"A": TalkerType(sampler), "B": TalkerType(sampler)}
    )
    env.reset(seed=0)
    a, b = env.network["A"].type.skill, env.network["B"].type.skill
    assert a != b


def test_shared_sampler_gives_one_draw_per_episode():
    sampler = Shared(UniformFloatSampler(0.0, 1.0))
    env = PingEnv(agent_supertypes={"A": TalkerType(sampler), "B": TalkerType(sampler)})
    env.reset(seed=0)
    first = env.network["A"].type.skill
    assert env.network["B"].type.skill == first
    env.reset(seed=1)
    assert env.network["A"].type.skill == env.network["B"].type.skill != first
    assert isinstance(UniformFloatSampler().shared(), Shared)


def test_env_supertype_is_sampled_into_env_type():
    env = PingEnv(env_supertype=Family(UniformIntSampler(0, 100)))
    env.reset(seed=4)
    first = env.env_type
    env.reset(seed=4)
    assert env.env_type == first and isinstance(first.budget, int)


def test_types_are_resampled_every_reset_from_the_seed():
    env = PingEnv(supertype=TalkerType(UniformFloatSampler(0.0, 1.0)))
    draws = []
    for seed in (0, 1, 0):
        env.reset(seed=seed)
        draws.append(env.network["A"].type.skill)
    assert draws[0] == draws[2] != draws[1]


def test_type_augmented_observations_widen_box_spaces():
    env = PingEnv(supertype=TalkerType(UniformFloatSampler(0.5, 1.5)))
    space = env.observation_space("A")
    np.testing.assert_array_equal(space.low, [0.0, 0.5])
    np.testing.assert_array_equal(space.high, [10.0, 1.5])
    obs, _ = env.reset(seed=0)
    assert obs["A"].shape == (2,) and obs["A"][1] == np.float32(env.network["A"].type.skill)
    obs, *_ = env.step({"A": 2, "B": 1})
    assert obs["B"][0] == 1.0 and obs["B"][1] == np.float32(env.network["B"].type.skill)
    assert space.contains(obs["A"])


def test_type_augmentation_can_be_switched_off():
    env = PingEnv(
        supertype=TalkerType(UniformFloatSampler(0.5, 1.5)), type_augmented_observations=False
    )
    assert env.observation_space("A").shape == (1,)
    obs, _ = env.reset(seed=0)
    assert obs["A"].shape == (1,)


def test_agent_supertypes_must_name_known_agents():
    with pytest.raises(ph.errors.NetworkError, match="unknown agent id 'Q'"):
        PingEnv(agent_supertypes={"Q": TalkerType(1.0)})
    with pytest.raises(SupertypeError, match="must be ph.Supertype instances"):
        PingEnv(env_supertype={"skill": 1.0})


# ------------------------------------------------------- Phantom's helpers
def test_sample_without_a_generator_is_unseeded_and_accepts_phantom_samplers():
    class Counting(ph.samplers.Sampler[float]):
        def __init__(self, value):
            self._value = value

        def sample(self):
            self._value += 1
            return self._value

    @dataclass
    class Pair(ph.Supertype):
        a: float
        b: str

    assert Pair(1.0, "string").sample().__dict__ == {"a": 1.0, "b": "string"}
    assert Pair(Counting(0), "string").sample().__dict__ == {"a": 1, "b": "string"}
    family = Pair(UniformFloatSampler(0, 1), "x")
    assert len({family.sample().a for _ in range(4)}) > 1  # unseeded: differs each time
    with pytest.raises(SupertypeError, match="rng must be a numpy Generator"):
        family.sample(0)


@dataclass
class Everything(ph.Supertype):
    a: int
    b: float
    c: list
    d: tuple
    e: np.ndarray
    f: dict


def _everything() -> Everything:
    return Everything(
        a=1,
        b=2.0,
        c=[6, 7, 8],
        d=(9, 10, 11),
        e=np.array([15, 16, 17], dtype=np.float32),
        f={"x": 12, "y": 13, "z": 14},
    )


def test_to_obs_space_and_compatible_values_match():
    import gymnasium as gym

    box = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    t = _everything()
    values = t.to_obs_space_compatible_type()
    assert list(values) == ["a", "b", "c", "d", "e", "f"]
    assert values["a"].dtype == np.float32 and values["a"].tolist() == [1.0]
    assert [v.tolist() for v in values["c"]] == [[6.0], [7.0], [8.0]]
    assert isinstance(values["d"], tuple) and isinstance(values["c"], list)
    assert values["e"].tolist() == [15.0, 16.0, 17.0]
    assert {k: v.tolist() for k, v in values["f"].items()} == {"x": [12], "y": [13], "z": [14]}
    space = t.to_obs_space()
    assert space == gym.spaces.Dict(
        {
            "a": box,
            "b": box,
            "c": gym.spaces.Tuple([box] * 3),
            "d": gym.spaces.Tuple([box] * 3),
            "e": gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
            "f": gym.spaces.Dict({"x": box, "y": box, "z": box}),
        }
    )
    assert space.contains(values)
    bounded = t.to_obs_space(low=0.0, high=20.0)
    assert bounded["e"].low.tolist() == [0.0] * 3 and bounded.contains(values)


def test_to_obs_space_on_a_supertype_uses_the_samplers_shapes():
    @dataclass
    class Mixed(ph.Supertype):
        cost: float
        vec: np.ndarray
        fixed: int = 3

    family = Mixed(UniformFloatSampler(0, 1), ph.samplers.UniformArraySampler(0, 1, (4,)))
    space = family.to_obs_space(0.0, 5.0)
    assert space["cost"].shape == (1,) and space["vec"].shape == (4,)
    drawn = family.sample(np.random.default_rng(0))
    assert space.contains(drawn.to_obs_space_compatible_type())


@pytest.mark.parametrize(
    ("build", "call", "match"),
    [
        (lambda: TextType(), "to_obs_space", r"TextType.s = 's' \(str\) cannot be converted"),
        (lambda: TextType(), "to_obs_space_compatible_type", "cannot be converted"),
        (lambda: TextType([1.0, None]), "to_obs_space", r"TextType.s\[1\] = None"),
        (lambda: TextType(UniformFloatSampler()), "to_obs_space_compatible_type", "still a"),
        (lambda: TextType(DiscreteSampler(["a"])), "to_obs_space", "cannot be converted"),
    ],
)
def test_fields_that_cannot_be_converted_are_named(build, call, match):
    from phantomzoo.supertype import TypeConversionError

    with pytest.raises(TypeConversionError, match=match) as caught:
        getattr(build(), call)()
    assert isinstance(caught.value, ValueError)  # what Phantom raises, too


def test_bad_space_bounds_are_refused():
    from phantomzoo.supertype import TypeConversionError

    with pytest.raises(TypeConversionError, match=r"low \(2.0\) must be <= high \(1.0\)"):
        _everything().to_obs_space(2.0, 1.0)
    with pytest.raises(TypeConversionError, match="high must be a number"):
        _everything().to_obs_space(0.0, "1")


@dataclass
class TextType(ph.Supertype):
    s: object = "s"
