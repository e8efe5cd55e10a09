"""The ads market's bench summary (``market_summary`` and the ``summary`` hook): clicks
per advertiser, cost per click, budget left and saturation, and ``phantomzoo bench``
showing them (a saturated market says so in its %-of-heuristic column)."""

from __future__ import annotations

import json

import pytest

import phantomzoo as ph
from phantomzoo.cli import main
from phantomzoo.envs.digital_ads import bench
from phantomzoo.errors import ConfigError


def _heuristic(env):
    return bench.baselines(env)["value heuristic"]


def test_summary_of_the_heuristic_adds_up():
    env = ph.make("digital_ads_v0", advertisers_per_family=2, num_steps=20)
    stats = bench.market_summary(_heuristic(env), env, 3, seed=5)
    by_family = stats["clicks_per_advertiser_by_family"]
    assert stats["clicks_per_advertiser"] == pytest.approx(sum(by_family.values()) / 3)
    assert 0.0 <= stats["budget_left"] <= 1.0 and 0.0 < stats["click_rate"] <= 1.0
    # the heuristic bids nothing where the user never clicks (paper Table 1)
    assert stats["mean_bid"]["travel"][2] == 0.0 and stats["mean_bid"]["sport"][1] == 0.0
    assert stats["mean_bid"]["sport"][2] > 0.0
    for cost in stats["cost_per_click_by_family"].values():
        assert cost is None or 0.01 <= cost <= 1.0  # first price: the bid, at most max_bid
    again = bench.market_summary(_heuristic(env), env, 3, seed=5)
    assert again == stats  # seeded: the same episodes


def test_more_advertisers_than_impressions_saturate():
    env = ph.make("digital_ads_v0", advertisers_per_family=5, num_steps=3)
    stats = bench.market_summary(_heuristic(env), env, 2, seed=0)
    assert stats["saturated"] and stats["click_rate"] == 1.0
    small = ph.make("digital_ads_v0", advertisers_per_family=1, num_steps=100)
    assert not bench.market_summary(_heuristic(small), small, 1, seed=0)["saturated"]


@pytest.mark.parametrize("episodes", [0, -1, 1.5, True])
def test_bad_episode_counts_are_refused(episodes):
    env = ph.make("digital_ads_v0")
    with pytest.raises(ConfigError, match="episodes must be an int >= 1"):
        bench.market_summary(_heuristic(env), env, episodes)


def test_summary_hook_gives_the_bench_columns():
    env = ph.make("digital_ads_v0", advertisers_per_family=5, num_steps=3)
    columns = bench.summary(_heuristic(env), env, 50, 0)
    assert set(columns) == {"clicks/adv", "cost/click", "budget left", "saturated"}
    assert columns["saturated"] is True and columns["clicks/adv"] == pytest.approx(3 / 15)


def test_bench_table_marks_a_saturated_market(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "bench"
    argv = ["bench", "digital_ads_v0", "--backends", "none", "--no-throughput", "--quiet"]
    argv += ["--episodes", "2", "--out", str(out)]
    argv += ["--config", "advertisers_per_family=5", "--config", "num_steps=3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "cost/click" in printed and "clicks/adv" in printed
    heuristic_line = next(line for line in printed.splitlines() if "value heuristic" in line)
    assert heuristic_line.rstrip().endswith("saturated")
    report = json.loads((out / "bench.json").read_text())
    heuristic = next(r for r in report["rows"] if r["policy"] == "value heuristic")
    assert heuristic["saturated"] and heuristic["pct_of_heuristic"] == pytest.approx(100.0)
    assert heuristic["summary"]["cost/click"] == pytest.approx(1.0)
