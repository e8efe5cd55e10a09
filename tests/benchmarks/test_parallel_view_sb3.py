"""``benchmarks/parallel_view_sb3.py``: its smoke run, its JSON, its errors, and the
``benchmarks/shared_spaces.py`` wrapper it puts between the parallel view and SuperSuit.

The script is loaded from its file (benchmarks/ is not a package). The ``--quick`` run
trains a few thousand agent-steps of SB3 PPO through SuperSuit on both staged models'
parallel views; these tests check behaviour and contents, never learning quality.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("supersuit")
pytest.importorskip("stable_baselines3")

from phantomzoo.envs import digital_ads_v0, supply_chain_paper_v0  # noqa: E402
from phantomzoo.errors import ConfigError  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def pv():
    """The script as a module (its sibling ``shared_spaces`` importable, as when it runs)."""
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(
        "parallel_view_sb3", BENCHMARKS / "parallel_view_sb3.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)
    sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def quick_run(pv, tmp_path_factory):
    out = tmp_path_factory.mktemp("pv") / "pv.json"
    returned = pv.main(["--quick", "--episodes", "2", "--eval-seed", "7", "--out", str(out)])
    return returned, json.loads(out.read_text())


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


# --------------------------------------------------------------------------- smoke run
def test_quick_run_writes_both_envs_with_three_policies(quick_run):
    returned, written = quick_run
    assert written["benchmark"] == "parallel_view_sb3"
    assert set(written) >= {"machine", "settings", "envs"}
    assert written["settings"]["quick"] is True
    assert set(written["envs"]) == {"supply_chain_paper_v0", "digital_ads_v0"}
    assert written["envs"].keys() == returned["envs"].keys()
    for record in written["envs"].values():
        assert [row["policy"] for row in record["rows"]][0] == "sb3 PPO"
        assert [row["policy"] for row in record["rows"]][2] == "random"
        assert record["timesteps"] >= 512 and record["train_wall_seconds"] > 0
        assert record["eval_seeds"] == [7, 8]


def test_quick_run_figures_are_finite_and_consistent(quick_run):
    _, written = quick_run
    for record in written["envs"].values():
        for row in record["rows"]:
            assert all(_finite(row[k]) for k in ("mean", "min", "max", "fraction_of_heuristic"))
            assert len(row["per_seed"]) == 2
            assert row["min"] <= row["mean"] <= row["max"]
            assert row["mean"] == pytest.approx(np.mean(row["per_seed"]))
        heuristic = record["rows"][1]
        assert heuristic["fraction_of_heuristic"] == pytest.approx(1.0)


def test_same_seeds_give_the_same_heuristic_figures(pv, quick_run):
    _, written = quick_run
    bench = pv.BENCHES["digital_ads_v0"]
    view = bench.parallel_env(bench.quick_config)
    args = pv.parse_args(["--quick"])
    heuristic = bench.baselines(view, args, bench.quick_config)["heuristic"]
    again = pv.evaluate(view, heuristic.compute_actions, [7, 8])
    assert again["per_seed"] == written["envs"]["digital_ads_v0"]["rows"][1]["per_seed"]


# --------------------------------------------------------------------------- wrapper
def test_shared_spaces_span_the_families_and_rescale_actions(pv):
    view = digital_ads_v0.parallel_env()
    shared = pv.SharedSpaces(view)
    space = shared.observation_space("TRAVEL1")
    assert space is shared.observation_space("SPORT2")
    assert space.low[-1] == 5.0 and space.high[-1] == 20.0  # travel 5-15 .. tech 10-20
    assert shared.native_action("TECH1", np.array([-1.0]))[0] == pytest.approx(0.0)
    assert shared.native_action("TECH1", np.array([1.0]))[0] == pytest.approx(1.0)
    assert shared.native_action("TECH1", np.array([0.0]))[0] == pytest.approx(0.5)
    assert shared.native_action("TECH1", np.array([7.0]))[0] == pytest.approx(1.0)  # clipped
    sc = pv.SharedSpaces(supply_chain_paper_v0.parallel_env(num_shops=2))
    assert sc.native_action("SHOP1", np.float32(0.0)).tolist() == [50.0]  # a squeezed action


def test_ended_agents_keep_zero_slots_until_everyone_has_ended(pv):
    # Tiny travel budgets: travel advertisers bid the most, the others abstain (bid 0),
    # so the travel advertisers win, pay and run out of budget early.
    view = digital_ads_v0.parallel_env(travel_budget=(0.05, 0.05), num_steps=30)
    shared = pv.SharedSpaces(view)
    observations, _ = shared.reset(seed=3)
    ended_at: dict[str, int] = {}
    steps = 0
    while shared.agents:
        actions = {a: np.array([1.0 if "TRAVEL" in a else -1.0]) for a in shared.agents}
        observations, rewards, terms, truncs, _ = shared.step(actions)
        steps += 1
        assert set(observations) == set(shared.possible_agents)
        for agent in shared.possible_agents:
            if agent in ended_at:
                assert not observations[agent].any() and rewards[agent] == 0.0
            elif terms[agent] or truncs[agent]:
                ended_at[agent] = steps
    assert steps == 30
    assert min(ended_at[a] for a in ("TRAVEL1", "TRAVEL2")) < 30  # ended early
    assert all(terms[a] or truncs[a] for a in shared.possible_agents)  # all done at the end


def test_shared_spaces_refuse_boxes_of_different_shapes(pv):
    import gymnasium as gym

    spanning_box = importlib.import_module("shared_spaces").spanning_box

    with pytest.raises(ConfigError, match="Box spaces of one shape.*pad them first"):
        spanning_box([gym.spaces.Box(0, 1, (2,)), gym.spaces.Box(0, 1, (3,))])
    with pytest.raises(ConfigError, match="Box spaces of one shape"):
        spanning_box([gym.spaces.Discrete(3)])


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--envs", "supply_chain_v0"], r"--envs: unknown .*'supply_chain_v0'.*choose from"),
        (["--envs", ","], r"--envs: unknown or no env"),
        (["--timesteps", "0"], r"--timesteps must be an int >= 1 \(agent-steps\), got 0"),
        (["--episodes", "0"], r"--episodes must be >= 1, got 0"),
        (["--search-episodes", "-2"], r"--search-episodes must be >= 1, got -2"),
        (["--seed", "-1"], r"--seed must be >= 0, got -1"),
        (["--eval-seed", "-5"], r"--eval-seed must be >= 0, got -5"),
    ],
)
def test_bad_command_lines_are_refused(pv, argv, match):
    with pytest.raises(ConfigError, match=match):
        pv.parse_args(argv)
