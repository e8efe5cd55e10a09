"""Phantom's ``ph.utils.rollout`` and ``ph.utils.rllib`` rollout habits, written the Phantom
way (ported behaviour checks from Phantom's tests/utils/test_rollout_class.py and
test_rllib.py, in PettingZoo terms: terminations and truncations instead of dones)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import ConfigError
from phantomzoo.metrics import SimpleAgentMetric
from phantomzoo.ranges import ListRange

STOCK = {"SHOP/stock": SimpleAgentMetric("SHOP", "stock", "mean")}


def _step(**fields):
    base = dict(i=0, observations={}, rewards={}, terminations={}, truncations={}, infos={},
                actions={}, messages=None, stage=None)  # fmt: skip
    return ph.utils.rollout.Step(**{**base, **fields})


def _handmade():
    return ph.utils.rollout.Rollout(
        rollout_id=0,
        repeat_id=0,
        env_config={},
        rollout_params={},
        steps=[
            _step(
                observations={"agent": {"obs": 1}},
                rewards={"agent": 1.0},
                terminations={"agent": False},
                truncations={"agent": False},
                infos={"agent": {"info": 1}},
                actions={"agent": {"action": 1}},
            ),  # fmt: skip
            _step(i=1, rewards={"agent": None}),
            _step(
                i=2,
                rewards={"agent": 0.5},
                terminations={"agent": False},
                truncations={"agent": True},
            ),  # fmt: skip
        ],
        metrics={},
    )


def test_rollout_class_helpers():
    rollout = _handmade()
    assert rollout.observations_for_agent("agent") == [{"obs": 1}, None, None]
    assert rollout.observations_for_agent("agent", drop_nones=True) == [{"obs": 1}]
    assert rollout.rewards_for_agent("agent") == [1.0, None, 0.5]
    assert rollout.rewards_for_agent("agent", drop_nones=True) == [1.0, 0.5]
    assert rollout.terminations_for_agent("agent", drop_nones=True) == [False, False]
    assert rollout.truncations_for_agent("agent") == [False, None, True]
    assert rollout.infos_for_agent("agent", drop_nones=True) == [{"info": 1}]
    assert rollout.actions_for_agent("agent") == [{"action": 1}, None, None]


def test_agent_step_done_is_terminated_or_truncated():
    steps = _handmade().steps_for_agent("agent")
    assert [s.i for s in steps] == [0, 1, 2]
    assert [s.done for s in steps] == [False, False, True]
    step = ph.utils.rollout.AgentStep(0, None, 1.0, True, False, {}, 1)
    assert step.done and not ph.utils.rollout.AgentStep(0, None, 1.0, None, None, {}, 1).done


def test_rollout_indexing():
    rollout = _handmade()
    assert rollout[0] is rollout.steps[0] and rollout[-1].i == 2
    assert [s.i for s in rollout] == [0, 1, 2]  # iteration stops at the IndexError
    with pytest.raises(ph.utils.rollout.StepIndexError, match=r"step index 3 .* has 3 step"):
        rollout[3]
    with pytest.raises(IndexError):
        rollout[-4]


def test_rollouts_compare_by_value_arrays_included():
    def make(value):
        step = _step(observations={"a": np.array([value, 2.0])}, actions={"a": np.array([1])})
        return ph.utils.rollout.Rollout(0, 0, {}, {}, [step], {"m": np.array([np.nan, 1.0])})

    assert make(1.0) == make(1.0)
    assert make(1.0) != make(1.5)
    assert _handmade() != make(1.0)


def _saved_run(tmp_path: Path, level: int = 25, name: str = "run") -> Path:
    env = ph.make("supply_chain_v0")
    policy = OrderUpToPolicy(env.observation_space("SHOP"), env.action_space("SHOP"), level=level)
    run = tmp_path / name
    ph.TrainedPolicies(
        {"shop_policy": policy},
        {"SHOP": "shop_policy"},
        {"kind": "registered", "name": "supply_chain_v0", "config": {}},
    ).save(run / "policies")
    return run


def test_phantom_rollout_with_and_without_workers(tmp_path):
    run = _saved_run(tmp_path)
    here = list(ph.utils.rllib.rollout(directory=f"{run}/LATEST", num_repeats=3, num_workers=0,
                                       show_progress_bar=False))  # fmt: skip
    assert len(here) == 3
    there = list(ph.utils.rllib.rollout(directory=f"{run}/LATEST", env_class="supply_chain_v0",
                                        num_repeats=3, num_workers=1, backend="processes",
                                        show_progress_bar=False))  # fmt: skip
    assert there == here
    # Same policy, same actions in every repeat (only demand differs with the seed).
    assert here[0].actions_for_agent("SHOP")[0] == pytest.approx([25.0])
    batched = ph.utils.rllib.rollout(directory=run, num_repeats=3, show_progress_bar=False,
                                     policy_inference_batch_size=3)  # fmt: skip
    assert batched == here


def test_phantom_rollout_bad_arguments(tmp_path):
    run = _saved_run(tmp_path)
    with pytest.raises(ConfigError, match="num_repeats must be an int >= 1"):
        ph.utils.rllib.rollout(directory=run, num_repeats=0)
    with pytest.raises(ConfigError, match="num_workers must be None or an int >= 0"):
        ph.utils.rllib.rollout(directory=run, num_workers=-1)
    with pytest.raises(ConfigError, match="policy_inference_batch_size must be an int >= 1"):
        ph.utils.rllib.rollout(directory=run, policy_inference_batch_size=0)


def _swept(tmp_path):
    return ph.utils.rllib.rollout(
        directory=_saved_run(tmp_path),
        env_config={"cost_of_carry": ListRange([0.1, 0.5])},
        num_repeats=2,
        metrics=STOCK,
        record_messages=True,
        show_progress_bar=False,
    )


def test_rollouts_to_dataframe(tmp_path):
    pd = pytest.importorskip("pandas")
    results = _swept(tmp_path)
    frame = ph.utils.rollout.rollouts_to_dataframe(results, avg_over_repeats=False)
    assert isinstance(frame, pd.DataFrame) and frame.index.names == ["cost_of_carry"]
    assert list(frame.columns) == ["SHOP/stock"] and len(frame) == 4
    assert frame["SHOP/stock"].iloc[0] == pytest.approx(results[0].metrics["SHOP/stock"].mean())
    averaged = ph.utils.rollout.rollouts_to_dataframe(results)
    assert list(averaged.index) == [0.1, 0.5]
    expected = np.mean([r.metrics["SHOP/stock"].mean() for r in results[:2]])
    assert averaged.loc[0.1, "SHOP/stock"] == pytest.approx(expected)
    last = {"SHOP/stock": SimpleAgentMetric("SHOP", "stock", "last")}
    by_metric = ph.utils.rollout.rollouts_to_dataframe(results, False, metrics=last)
    assert by_metric["SHOP/stock"].iloc[1] == results[1].metrics["SHOP/stock"][-1]
    rounded = ph.utils.rollout.rollouts_to_dataframe(results, index_value_precision=1)
    assert list(rounded.index) == ["0.1", "0.5"]
    plain = ph.utils.rollout.rollouts_to_dataframe(
        ph.utils.rllib.rollout(directory=tmp_path / "run", num_repeats=2, show_progress_bar=False)
    )
    assert len(plain) == 2 and list(plain.columns) == []


def test_rollouts_to_dataframe_errors(tmp_path):
    pytest.importorskip("pandas")
    results = _swept(tmp_path)
    to_frame = ph.utils.rollout.rollouts_to_dataframe
    with pytest.raises(ConfigError, match="got no rollouts"):
        to_frame([])
    with pytest.raises(ConfigError, match="item 1 is a str, not a Rollout"):
        to_frame([results[0], "nope"])
    with pytest.raises(ConfigError, match="takes an iterable of Rollouts"):
        to_frame(results[0])
    with pytest.raises(ConfigError, match=r"\['sales'\], which the rollouts did not record"):
        to_frame(results, metrics={"sales": SimpleAgentMetric("SHOP", "sales")})
    with pytest.raises(ConfigError, match="index_value_precision must be None or an int >= 0"):
        to_frame(results, index_value_precision=-1)


def test_rollouts_to_jsonl(tmp_path):
    results = _swept(tmp_path)
    with open(tmp_path / "rollouts.json", "w") as f:  # Phantom's call
        assert ph.utils.rollout.rollouts_to_jsonl(results, f) is None
    lines = (tmp_path / "rollouts.json").read_text().splitlines()
    assert len(lines) == 4
    first = json.loads(lines[0])
    assert (first["rollout_id"], first["repeat_id"]) == (0, 0)
    assert first["rollout_params"] == {"cost_of_carry": 0.1}
    assert len(first["steps"]) == 100 and len(first["metrics"]["SHOP/stock"]) == 100
    message = first["steps"][0]["messages"][0]
    assert message["sender_id"] == "SHOP" and message["payload"]["type"] == "StockRequest"
    path = ph.utils.rollout.rollouts_to_jsonl(results[:1], tmp_path / "one.jsonl")
    assert path == tmp_path / "one.jsonl" and len(path.read_text().splitlines()) == 1
    pd = pytest.importorskip("pandas")
    assert len(pd.read_json(tmp_path / "rollouts.json", lines=True)) == 4
    pretty = io.StringIO()
    ph.utils.rollout.rollouts_to_jsonl(results[:1], pretty, human_readable=True)
    assert pretty.getvalue().startswith('{\n  "rollout_id": 0')


def test_rollouts_to_jsonl_errors(tmp_path):
    results = _swept(tmp_path)
    with pytest.raises(ConfigError, match="a path or a text file open for writing"):
        ph.utils.rollout.rollouts_to_jsonl(results, 42)
    with (
        open(tmp_path / "b.jsonl", "wb") as binary,
        pytest.raises(ConfigError, match="open the file with 'w', not 'wb'"),
    ):
        ph.utils.rollout.rollouts_to_jsonl(results, binary)
    with pytest.raises(ConfigError, match="item 0 is a int"):
        ph.utils.rollout.rollouts_to_jsonl([1], tmp_path / "x.jsonl")


# ------------------------------------------------------------ results directories
@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    return tmp_path / "home"


def _captured_train(monkeypatch, **kwargs):
    seen = {}
    monkeypatch.setattr(ph.utils.rllib, "_train", lambda *a, **kw: seen.update(kw))
    ph.utils.rllib.train(env_class="supply_chain_v0", policies={"shop": ["SHOP"]}, **kwargs)
    return seen["results_dir"]


def test_phantom_train_writes_under_ray_results(home, monkeypatch):
    named = _captured_train(
        monkeypatch, tune_config={"name": "supply", "stop": {"training_iteration": 2}}
    )
    assert named.parent == home / "ray_results" / "supply"
    assert named.name.startswith("PPO_supply_chain_v0_")
    unnamed = _captured_train(monkeypatch, iterations=1)
    assert unnamed.parent == home / "ray_results"
    given = _captured_train(monkeypatch, iterations=1, results_dir=home / "mine")
    assert given == home / "mine"
    assert not (home / "ray_results").exists()  # nothing is created before training


def test_phantom_train_refuses_a_name_that_is_a_path(home, monkeypatch):
    with pytest.raises(ConfigError, match="must be a plain directory name"):
        _captured_train(
            monkeypatch, tune_config={"name": "../up", "stop": {"training_iteration": 1}}
        )


def test_latest_under_ray_results_finds_the_newest_run(home):
    older = _saved_run(home / "ray_results" / "supply", level=10, name="a")
    newer = _saved_run(home / "ray_results" / "supply", level=30, name="b")
    manifest = newer / "policies" / "manifest.json"
    stamp = (older / "policies" / "manifest.json").stat().st_mtime + 10
    os.utime(manifest, (stamp, stamp))
    for directory in ("supply/LATEST", "~/ray_results/supply/LATEST"):
        (played,) = ph.utils.rllib.rollout(directory=directory, show_progress_bar=False)
        assert played.actions_for_agent("SHOP")[0] == pytest.approx([30.0])
    with pytest.raises(ConfigError, match="no trained policies found"):
        ph.utils.rllib.rollout(directory="supply")
