"""``benchmarks/ads_scaling.py``: a ``--quick`` smoke run end to end, its argument errors,
and the convergence rule (``benchmarks/ads_convergence.py``) on hand-made evaluations."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from phantomzoo.errors import ConfigError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def modules():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {n: importlib.import_module(n) for n in ("ads_scaling", "ads_convergence")}
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_quick_run_writes_table_goals_plot_and_json(modules, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "scaling.json"
    assert modules["ads_scaling"].main(["--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "uptime before" in printed and "agent-steps/s" in printed
    results = json.loads(out.read_text())
    assert set(results["convergence"]) == {"evaluation", "clicks", "behaviour", "plateau"}
    (size,) = results["sizes"]
    assert size["advertisers"] == 6 and size["curve"] and size["agent_steps"] > 0
    assert size["peak_rss_mib"] > 10 and size["agent_steps_per_s"] > 0
    assert size["heuristic"]["clicks_per_advertiser"] > 0
    point = size["curve"][-1]
    assert {"cost_per_click_by_family", "budget_left", "saturated", "check"} <= set(point)
    statuses = {g["name"]: g["status"] for g in results["goals"]}
    assert statuses["converged within 10 min of wall time at 1,200 advertisers"] == "SKIP"
    assert set(statuses.values()) <= {"PASS", "MISS", "SKIP"}
    assert Path(results["plot"]).read_bytes().startswith(b"\x89PNG")
    merged = tmp_path / "merged.json"  # --report: runs made apart, shown as one table
    assert modules["ads_scaling"].main(["--report", str(out), str(out), "--out", str(merged)]) == 0
    assert len(json.loads(merged.read_text())["sizes"]) == 2
    assert merged.with_suffix(".png").is_file()


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--sizes", "6,x"], "comma-separated ints"),
        (["--sizes", "6,7"], r"\[7\] not a multiple of 3"),
        (["--max-seconds", "0"], "--max-seconds must be a number of seconds > 0"),
        (["--eval-every", "-1"], "--eval-every must be a number of seconds > 0"),
        (["--eval-episodes", "0"], "--eval-episodes must be >= 1"),
        (["--options", "[1]"], "--options must be a JSON object"),
    ],
)
def test_bad_arguments_are_refused_before_training(modules, argv, match):
    with pytest.raises(ConfigError, match=match):
        modules["ads_scaling"].parse_args(argv)


@pytest.mark.parametrize(
    ("options", "match"),
    [('{"bogus": 1}', r"cleanrl has no option\(s\) \['bogus'\]"), ('{"num_envs": 0}', "num_envs")],
)
def test_bad_cleanrl_options_are_refused_before_training(modules, options, match):
    args = modules["ads_scaling"].parse_args(["--sizes", "6", "--options", options])
    with pytest.raises(ConfigError, match=match):
        modules["ads_scaling"].check_options(args)


def test_a_file_that_is_not_a_results_json_is_refused(modules, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    with pytest.raises(ConfigError, match="not a results file of this script"):
        modules["ads_scaling"].show_report([bad])


def test_bad_arguments_exit_2_with_one_line(modules, capsys):
    assert modules["ads_scaling"].main(["--sizes", "5"]) == 2
    assert "error: --sizes" in capsys.readouterr().err


def test_sizes_get_their_own_settings(modules):
    settings = modules["ads_scaling"].size_settings
    args = modules["ads_scaling"].parse_args([])
    small, large = settings(6, args), settings(1200, args)
    assert small["env_config"] == {"advertisers_per_family": 2}
    assert (small["max_seconds"], large["max_seconds"]) == (100.0, 500.0)
    assert small["options"]["num_envs"] == 16 and large["options"]["num_envs"] == 1
    assert "anneal_lr" not in small["options"]  # the backend's schedule over max_seconds


def _summary(clicks, cost=0.5, saturated=False, seconds=0.0, travel=(0.8, 0.01), sport=(0, 0.9)):
    return {
        "train_seconds": seconds,
        "clicks_per_advertiser": clicks,
        "cost_per_click": cost,
        "saturated": saturated,
        "mean_bid": {"travel": {1: travel[0], 2: travel[1]}, "sport": {1: sport[0], 2: sport[1]}},
    }


def test_behaviour_needs_travel_to_stop_on_user_2_and_sport_to_bid_on_it(modules):
    behaviour = modules["ads_convergence"].behaviour
    good = _summary(1.0)["mean_bid"]
    assert behaviour(good, 0.01)["ok"]
    travel_keeps_bidding = _summary(1.0, travel=(0.8, 0.2))["mean_bid"]
    assert not behaviour(travel_keeps_bidding, 0.01)["travel_stops_on_user2"]
    sport_abstains = _summary(1.0, sport=(0.0, 0.005))["mean_bid"]
    assert not behaviour(sport_abstains, 0.01)["sport_bids_on_user2"]
    assert not behaviour({}, 0.01)["ok"]  # no bids seen: nothing shown


def test_window_change_compares_with_the_point_before_the_last_fifth(modules):
    change = modules["ads_convergence"].window_change
    assert change([(10, 1.0), (20, 1.1)]) is None  # too few evaluations
    assert change([(10, 1.0), (20, 2.0), (30, 2.02)]) == pytest.approx(0.01)
    assert change([(10, 1.0), (20, 1.5), (25, 2.0)]) == pytest.approx(1 / 3)  # 20 <= 0.8 * 25
    assert change([(10, 1.0), (21, 1.5), (25, 2.0)]) == pytest.approx(1.0)  # 21 > 0.8 * 25


def test_converged_only_when_all_three_conditions_hold(modules):
    check = modules["ads_convergence"].check
    heuristic = _summary(1.0)
    curve = [_summary(0.5, seconds=10), _summary(1.1, seconds=20), _summary(1.11, seconds=30)]
    assert check(curve[-1], heuristic, curve, 0.01)["converged"]
    rising = [*curve[:2], _summary(1.5, seconds=30)]
    assert not check(rising[-1], heuristic, rising, 0.01)["plateau_ok"]
    below = [_summary(0.9, seconds=s) for s in (10, 20, 30)]
    result = check(below[-1], heuristic, below, 0.01)
    assert result["plateau_ok"] and not result["clicks_ok"] and not result["converged"]


def test_saturated_clicks_also_need_the_cost_per_click_to_settle(modules):
    check = modules["ads_convergence"].check
    heuristic = _summary(0.08, cost=1.0, saturated=True)
    falling = [
        _summary(0.08, cost=c, saturated=True, seconds=s)
        for c, s in ((1, 10), (0.9, 20), (0.7, 30))
    ]
    result = check(falling[-1], heuristic, falling, 0.01)
    assert result["saturated"] and result["cost_change"] == pytest.approx((0.7 - 0.9) / 0.9)
    assert not result["plateau_ok"] and not result["converged"]
    settled = [
        _summary(0.08, cost=c, saturated=True, seconds=s)
        for c, s in ((1, 10), (0.7, 20), (0.7, 30))
    ]
    assert check(settled[-1], heuristic, settled, 0.01)["converged"]
