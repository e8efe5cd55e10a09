"""Config values recorded as data (samplers, supertypes, ranges) and refused before training."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import ConfigError, ManifestError, PolicyMappingError
from phantomzoo.samplers import (
    DiscreteSampler,
    LambdaSampler,
    NormalSampler,
    UniformFloatSampler,
    UniformIntSampler,
)
from phantomzoo.training import records


@dataclasses.dataclass
class ShopType(ph.Supertype):
    cost: object
    capacity: object = 10


def _roundtrip(value):
    return records.decode(json.loads(json.dumps(records.encode(value))))


def test_plain_values_roundtrip() -> None:
    value = {"a": 1, "b": [1.5, "x", None, True], "c": (1, 2), 3: "int key", "$x": 1}
    assert _roundtrip(value) == value
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = _roundtrip({"arr": array})["arr"]
    assert back.dtype == np.float32 and np.array_equal(back, array)
    assert np.isnan(_roundtrip(float("nan"))) and _roundtrip(float("-inf")) == float("-inf")


@pytest.mark.parametrize(
    "sampler",
    [
        UniformFloatSampler(0.1, 0.5),
        UniformIntSampler(1, 4),
        NormalSampler(0.0, 2.0, clip_low=-1.0, clip_high=1.0),
        DiscreteSampler([1, 2, 3], [0.2, 0.3, 0.5]),
    ],
)
def test_samplers_roundtrip_and_draw_the_same(sampler) -> None:
    back = _roundtrip(sampler)
    assert type(back) is type(sampler)
    draws = [sampler.sample(np.random.default_rng(5)) for _ in range(3)]
    assert [back.sample(np.random.default_rng(5)) for _ in range(3)] == draws


def test_supertypes_and_shared_samplers_roundtrip() -> None:
    shared = UniformFloatSampler(0.0, 1.0).shared()
    config = {"agent_supertypes": {"A": ShopType(shared), "B": ShopType(shared, 20)}}
    back = _roundtrip(config)["agent_supertypes"]
    assert back["A"].cost is back["B"].cost  # one common draw per episode survives
    assert isinstance(back["A"], ph.Supertype) and back["B"].capacity == 20
    drawn = back["A"].sample(np.random.default_rng(1))
    assert drawn.cost == ShopType(shared).sample(np.random.default_rng(1)).cost
    own = records.decode(records.encode(config), supertype_classes={"ShopType": ShopType})
    assert type(own["agent_supertypes"]["A"]) is ShopType


def test_ranges_roundtrip() -> None:
    value = ph.ranges.LinspaceRange(0.0, 1.0, 5)
    assert list(_roundtrip(value).values()) == list(value.values())
    assert list(_roundtrip(ph.ranges.ListRange([3, 4])).values()) == [3, 4]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (LambdaSampler(lambda rng: 1.0), r"config\['x'\] is a LambdaSampler"),
        (lambda: 1, r"config\['x'\] = .* is a function"),
        (object(), "is an object of type object"),
        ({object(): 1}, "has the key"),
        (np.array(["a"]), "array"),
        ({"deep": [ShopType(LambdaSampler(lambda rng: 2.0))]}, r"\['deep'\]\[0\].cost"),
    ],
)
def test_unrecordable_values_name_where_they_are(value, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        records.encode({"x": value})


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"$object": "LambdaSampler", "params": {}}, "not one of phantomzoo's recordable"),
        ({"$object": "os.system", "params": {}}, "recordable classes"),
        ({"$object": "UniformFloatSampler", "params": {"low": 2.0, "high": 1.0}}, "cannot rebuild"),
        ({"$tuple": 3}, "needs a list"),
        ({"$ref": 4}, "does not name an earlier"),
        ({"$array": [1, 2], "dtype": "object", "shape": [2]}, "numeric dtype"),
        ({"$array": [1, 2], "dtype": "<f8", "shape": [3]}, "holds 2 values"),
        ({"$supertype": "X;", "fields": {}}, "class name"),
        ({"$supertype": "X", "fields": {"__class__": 1}}, "field names"),
        ({"$float": "1e999"}, "nan"),
        ({"$a": 1, "$b": 2}, "unknown record tag"),
    ],
)
def test_malformed_records_are_refused(record, match: str) -> None:
    with pytest.raises(ManifestError, match=match):
        records.decode(record, "manifest.json")


# ----------------------------------------------------------------- before training
def _refuse_training(monkeypatch: pytest.MonkeyPatch) -> None:
    from phantomzoo.backends import cleanrl

    def never(job):
        raise AssertionError("training started although the run could not be saved")

    monkeypatch.setattr(cleanrl, "train", never)


def test_unrecordable_env_config_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_training(monkeypatch)
    config = {"cost_of_carry": LambdaSampler(lambda rng: 0.2, bounds=(0.0, 1.0))}
    with pytest.raises(ConfigError, match="LambdaSampler"):
        ph.train(
            "supply_chain_paper_v0", {"shops": ["SHOP1"]}, env_config=config,
            timesteps=10, results_dir=tmp_path / "run", progress=False,
        )  # fmt: skip
    assert not (tmp_path / "run").exists()


def test_sampler_env_config_trains_saves_and_loads_back(tmp_path: Path) -> None:
    env = ph.make("supply_chain_paper_v0")
    policies = ph.spec("supply_chain_paper_v0").hook("policies")(env)
    config = {"cost_of_carry": UniformFloatSampler(0.1, 0.3)}
    ph.train(
        "supply_chain_paper_v0", policies, env_config=config, timesteps=64,
        results_dir=tmp_path, options={"num_envs": 1, "num_steps": 8}, progress=False,
    )  # fmt: skip
    loaded = ph.load_policies(tmp_path / "policies")
    recorded = loaded.env_info["config"]["cost_of_carry"]
    assert recorded["$object"] == "UniformFloatSampler"
    from phantomzoo.cli import workflow

    report = workflow.rollout_results(tmp_path, episodes=1)
    assert report["episodes"] == 1


class _Fixed(ph.Policy):
    def compute_action(self, observation):
        return self.action_space.sample()


@pytest.mark.parametrize(
    ("policies", "match"),
    [
        ({1: ["SHOP1", "SHOP2"]}, "policy id 1 is a int"),
        (
            {"shop": ["SHOP1"], "fixed": (_Fixed, ["SHOP2"], {"f": object()})},
            "not plain JSON",
        ),
    ],
)
def test_unsaveable_mappings_are_refused_before_training(
    policies, match: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_training(monkeypatch)
    with pytest.raises(PolicyMappingError, match=match):
        ph.train(
            "supply_chain_v0", policies, env_config={"num_shops": 2}, timesteps=10,
            results_dir=tmp_path, progress=False,
        )  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [
        ph.samplers.UniformArraySampler(0.0, 1.0, (3,)),
        ph.samplers.NormalArraySampler(0.0, 2.0, (2,)),
        ph.ranges.UnitArrayUniformRange(0.0, 1.0, 0.5),
        ph.ranges.UnitArrayLinspaceRange(0.0, 1.0, 3),
        ph.ranges.LinspaceRange(0.0, 1.0, 3, dtype=np.float32),
    ],
)
def test_array_samplers_ranges_and_dtypes_are_recorded_and_rebuilt(value):
    rebuilt = records.decode(json.loads(json.dumps(records.encode(value))))
    assert type(rebuilt) is type(value)
    assert records.encode(rebuilt) == records.encode(value)


def test_a_recorded_dtype_must_be_numeric():
    with pytest.raises(ManifestError, match=r"\$dtype must be one of"):
        records.decode({"$dtype": "object"})
    with pytest.raises(ConfigError, match="only numeric dtypes"):
        records.encode({"d": np.dtype("U3")})
