"""Phantom's sampler and range behaviour: comparisons, array samplers, unseeded draws,
Phantom-style sampler subclasses, LambdaSampler's two calling forms, unit-array ranges."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pytest
from models import PingEnv

import phantomzoo as ph
from phantomzoo.errors import SamplerError
from phantomzoo.ranges import (
    LinspaceRange,
    UniformRange,
    UnitArrayLinspaceRange,
    UnitArrayUniformRange,
)
from phantomzoo.samplers import (
    ComparableSampler,
    LambdaSampler,
    NormalArraySampler,
    NormalSampler,
    Sampler,
    Shared,
    UniformArraySampler,
    UniformFloatSampler,
    UniformIntSampler,
    draw_value,
)


class CountingSampler(Sampler[float]):
    """Phantom's style: no super().__init__, sample(self) without a generator."""

    def __init__(self, value: float) -> None:
        self._value = value

    def sample(self) -> float:
        self._value += 1
        return self._value


class CountingComparable(ComparableSampler[float]):
    def __init__(self, value: float) -> None:
        self._value = value

    def sample(self) -> float:
        self._value += 1
        return self._value


# ------------------------------------------------------------- comparisons
def test_a_sampler_compares_like_its_latest_draw():
    sampler = UniformFloatSampler()
    drawn = sampler.sample()
    assert sampler.value == drawn
    assert sampler <= 1.0 and sampler >= 0.0 and sampler < 1.0 and sampler > -1.0
    assert sampler == drawn
    assert sampler != drawn + 0.1
    ints = UniformIntSampler()
    ints.sample(np.random.default_rng(0))
    assert ints == 0 and ints != 1


def test_samplers_are_equal_only_to_themselves_and_stay_hashable():
    a, b, c = UniformFloatSampler(), UniformFloatSampler(), UniformFloatSampler()
    for s in (a, b, c):
        s.value = 0.5
    assert not (a == b) and a != b and a == a
    assert c not in [a, b] and a in [a, b]
    assert len({a, b, c}) == 3


def test_array_sampler_comparisons_are_element_wise():
    sampler = UniformArraySampler(0.0, 1.0, shape=(3,))
    sampler.sample(np.random.default_rng(0))
    assert (sampler < 1.0).tolist() == [True, True, True]
    assert (sampler == sampler.value).all()


def test_ordering_without_a_draw_or_between_samplers_is_refused():
    with pytest.raises(SamplerError, match="has not drawn a value yet"):
        UniformFloatSampler() < 0.5  # noqa: B015
    a, b = UniformFloatSampler(), UniformFloatSampler()
    a.sample(np.random.default_rng(0))
    b.sample(np.random.default_rng(1))
    with pytest.raises(SamplerError, match="cannot order two samplers"):
        a < b  # noqa: B015


def test_the_environment_keeps_each_draw_as_the_samplers_value():
    sampler = UniformFloatSampler(0.0, 5.0)

    @dataclass
    class Skill(ph.Supertype):
        skill: float

    env = PingEnv(supertype=Skill(sampler))
    env.reset(seed=3)
    assert sampler.value == env.network["B"].type.skill  # the last use drawn


# --------------------------------------------------------- unseeded / seeded
def test_sample_without_a_generator_is_unseeded_and_with_one_reproducible():
    samplers = [
        UniformFloatSampler(0, 1),
        UniformIntSampler(0, 1000),
        NormalSampler(0, 1),
        UniformArraySampler(0, 1, (2,)),
        NormalArraySampler(0, 1, (2,)),
    ]
    for sampler in samplers:
        unseeded = [np.asarray(sampler.sample()).tolist() for _ in range(3)]
        assert len({str(v) for v in unseeded}) > 1, sampler
        seeded = [np.asarray(sampler.sample(np.random.default_rng(7))).tolist() for _ in range(2)]
        assert seeded[0] == seeded[1]


def test_a_generator_of_another_kind_is_refused():
    with pytest.raises(SamplerError, match="rng must be a numpy Generator"):
        UniformFloatSampler().sample(42)
    with pytest.raises(SamplerError, match="rng must be a numpy Generator"):
        UniformArraySampler().sample(np.random.RandomState(0))


def test_phantom_style_sampler_subclasses_work_both_ways():
    sampler = CountingSampler(0)
    assert sampler.sample() == 1
    assert sampler.sample(np.random.default_rng(0)) == 2  # the generator is not needed
    assert sampler.value == 2
    assert draw_value(sampler, np.random.default_rng(0)) == 3
    assert draw_value(4.0, None) == 4.0


def test_shared_draws_are_drawn_once_per_mapping():
    shared = Shared(UniformFloatSampler())
    draws: dict[int, float] = {}
    first = draw_value(shared, np.random.default_rng(0), draws)
    assert draw_value(shared, np.random.default_rng(1), draws) == first
    assert draw_value(shared, np.random.default_rng(1), {}) != first


def test_comparable_sampler_rate_feeds_a_probability_check():
    # Phantom's StochasticNetwork writes `rng.random() < rate`: a comparable sampler
    # holding 1.0 (or 0.0) answers like the number.
    rng = np.random.default_rng(0)
    assert all(rng.random() < CountingComparable(1.0) for _ in range(20))
    assert not any(rng.random() < CountingComparable(0.0) for _ in range(20))


# ---------------------------------------------------------------- array samplers
def test_array_samplers_draw_their_shape_within_their_bounds():
    rng = np.random.default_rng(0)
    uniform = UniformArraySampler(2.0, 3.0, shape=(2, 3))
    assert uniform.sample(rng).shape == (2, 3) and uniform.shape == (2, 3)
    assert ((uniform.value >= 2.0) & (uniform.value < 3.0)).all()
    clipped = NormalArraySampler(0.0, 5.0, shape=4, clip_low=-1.0, clip_high=1.0)
    drawn = clipped.sample(rng)
    assert drawn.shape == (4,) and np.abs(drawn).max() <= 1.0
    assert clipped.bounds() == (-1.0, 1.0)
    assert UniformArraySampler().shape == (1,)  # Phantom's default


def test_array_samplers_widen_a_type_augmented_observation():
    @dataclass
    class Vec(ph.Supertype):
        skill: np.ndarray

    env = PingEnv(supertype=Vec(UniformArraySampler(0.0, 1.0, shape=(3,))))
    observations, _ = env.reset(seed=0)
    assert env.observation_space("A").contains(observations["A"])
    assert Vec(UniformArraySampler(0.0, 1.0, shape=(3,))).bounds()[1].tolist() == [1.0] * 3


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: UniformArraySampler(1.0, 0.0), r"low \(1.0\) must be <= high \(0.0\)"),
        (lambda: UniformArraySampler(0.0, np.inf), "high must be finite"),
        (lambda: UniformArraySampler(shape=(0,)), "shape must be a tuple of ints >= 1"),
        (lambda: UniformArraySampler(shape="3"), "shape must be a tuple of ints >= 1"),
        (lambda: NormalArraySampler(0.0, -1.0), "sigma must be >= 0"),
        (lambda: NormalArraySampler(0.0, 1.0, clip_low=1, clip_high=0), "clip_low"),
        (lambda: UniformIntSampler(0, 5, clip_low=0.5), "clip_low must be an int"),
        (lambda: UniformIntSampler(0, 5, clip_low=7), "exclude the whole range"),
    ],
)
def test_bad_sampler_parameters_are_refused(build, match):
    with pytest.raises(SamplerError, match=match):
        build()


def test_int_sampler_clips_like_phantom():
    sampler = UniformIntSampler(0, 10, clip_low=3, clip_high=5)
    draws = {sampler.sample(np.random.default_rng(s)) for s in range(40)}
    assert draws <= {3, 4, 5} and sampler.bounds() == (3.0, 5.0)


def test_samplers_pickle_under_their_public_path():
    sampler = UniformArraySampler(0, 2, (2,))
    assert type(sampler).__module__ == "phantomzoo.samplers"
    back = pickle.loads(pickle.dumps(sampler))
    rng = np.random.default_rng
    assert back.sample(rng(1)).tolist() == sampler.sample(rng(1)).tolist()


# ------------------------------------------------------------- LambdaSampler
def add(a_, b_=0):
    return a_ + b_


def test_lambda_sampler_phantom_form_calls_func_with_the_given_arguments():
    assert LambdaSampler(add, 5, b_=1).sample() == 6
    assert LambdaSampler(add, 5).sample(np.random.default_rng(0)) == 5
    assert LambdaSampler(lambda: 7).sample() == 7
    assert not LambdaSampler(add, 5).pass_rng


def test_lambda_sampler_seeded_form_passes_the_generator():
    sampler = LambdaSampler(lambda rng, k: int(rng.integers(k)), 1000)
    assert sampler.pass_rng
    rng = np.random.default_rng
    assert sampler.sample(rng(3)) == sampler.sample(rng(3))

    def scaled(rng, scale=1.0):  # fits both ways: the name `rng` decides
        return rng.uniform() * scale

    assert LambdaSampler(scaled, 2.0).pass_rng
    assert LambdaSampler(scaled, 2.0).sample(rng(0)) == rng(0).uniform() * 2.0


def test_lambda_sampler_form_can_be_forced():
    assert LambdaSampler(add, 5, pass_rng=False).sample() == 5
    forced = LambdaSampler(lambda g, *a: g.integers(10), pass_rng=True)
    assert forced.sample(np.random.default_rng(0)) == np.random.default_rng(0).integers(10)
    with pytest.raises(SamplerError, match="pass_rng must be True, False or None"):
        LambdaSampler(add, 5, pass_rng="yes")


def test_lambda_sampler_with_unusable_arguments_is_refused():
    with pytest.raises(SamplerError, match="cannot be called with args=.*neither as"):
        LambdaSampler(add, 1, 2, 3)


# --------------------------------------------------------------------- ranges
def test_phantom_ranges():
    assert UniformRange(start=0.0, end=10.0, step=1.0).values() == list(range(10))
    assert LinspaceRange(start=0.0, end=10.0, n=11).values() == list(range(11))
    unit = UnitArrayUniformRange(start=0.0, end=10.0, step=1.0).values()
    assert [v.shape for v in unit] == [(1,)] * 10 and [v[0] for v in unit] == list(range(10))
    unit = UnitArrayLinspaceRange(start=0.0, end=10.0, n=11).values()
    assert [v.shape for v in unit] == [(1,)] * 11 and [v[0] for v in unit] == list(range(11))
    assert UniformRange(0, 3, dtype=int).values() == [0, 1, 2]
    assert "name='cost'" in repr(UnitArrayLinspaceRange(0, 1, 3, name="cost"))


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: UnitArrayUniformRange(0, 1, 0), "step must be > 0"),
        (lambda: UnitArrayLinspaceRange(0, 1, 0), "n must be an int >= 1"),
        (lambda: UniformRange(0, 1, name=3), "name must be a string"),
        (lambda: LinspaceRange(0, 1, 2, dtype="banana"), "dtype must be a NumPy dtype"),
        (lambda: UniformRange(0, 1, dtype=str), "integer or float dtype"),
    ],
)
def test_bad_range_parameters_are_refused(build, match):
    with pytest.raises(SamplerError, match=match):
        build()


def test_unit_array_ranges_expand_into_a_rollout_grid_and_reset_an_env():
    from phantomzoo.experiments.rollout import expand_ranges

    @dataclass
    class Vec(ph.Supertype):
        skill: np.ndarray

    grid = expand_ranges({"supertype": Vec(UnitArrayLinspaceRange(0.0, 1.0, 3))})
    assert [params["supertype.skill"].tolist() for params, _ in grid] == [[0.0], [0.5], [1.0]]
    for _, config in grid:
        env = PingEnv(**config)
        observations, _ = env.reset(seed=0)
        assert env.network["A"].type.skill.tolist() == config["supertype"].skill.tolist()
        assert env.observation_space("A").contains(observations["A"])


def test_phantoms_paths_to_samplers_and_ranges_are_the_same_modules():
    """Phantom's users write ``ph.utils.samplers.UniformFloatSampler`` and
    ``ph.utils.ranges.LinspaceRange``."""
    import phantomzoo as ph

    assert ph.utils.samplers is ph.samplers and ph.utils.ranges is ph.ranges
    assert ph.utils.samplers.UniformFloatSampler is ph.samplers.UniformFloatSampler


def test_phantoms_module_paths_import():
    import phantomzoo as ph
    from phantomzoo.metrics import SimpleAgentMetric, SimpleMetric
    from phantomzoo.utils.ranges import LinspaceRange
    from phantomzoo.utils.samplers import UniformFloatSampler

    assert UniformFloatSampler is ph.samplers.UniformFloatSampler
    assert LinspaceRange is ph.ranges.LinspaceRange
    metric = SimpleAgentMetric("A", "x")
    assert isinstance(metric, SimpleMetric)
    assert (metric.train_reduce_action, metric.eval_reduce_action) == ("mean", "none")
