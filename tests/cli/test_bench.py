"""The generic throughput harness (``phantomzoo.cli.bench``), the supply chain's own
throughput and baselines (``phantomzoo.envs.supply_chain``), and ``phantomzoo bench`` on
environments without a throughput hook.

Budgets are tiny: these tests check behaviour and contents, never speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.cli import bench as bm
from phantomzoo.cli import workflow
from phantomzoo.cli.commands import main
from phantomzoo.envs.supply_chain import bench as sc_bench
from phantomzoo.envs.supply_chain import throughput as sc
from phantomzoo.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- harness
def test_env_and_floor_throughput_report_positive_rates():
    ours = bm.measure_env_throughput(
        lambda: ph.make("supply_chain_v0", num_shops=3, num_steps=5), 3, min_seconds=0.01
    )
    floor = sc.measure_floor_throughput(3, min_seconds=0.01)
    for rates in (ours, floor):
        assert rates["env_steps"] > 0 and rates["seconds"] > 0
        assert rates["agent_steps"] == 3 * rates["env_steps"]
        assert rates["agent_steps_per_s"] == pytest.approx(3 * rates["env_steps_per_s"])
        assert rates["us_per_agent_step"] == pytest.approx(1e6 / rates["agent_steps_per_s"])
        assert rates["cpu_us_per_agent_step"] > 0


def test_env_throughput_runs_whole_episodes():
    rates = bm.measure_env_throughput(
        lambda: ph.make("supply_chain_v0", num_shops=1, num_steps=7), min_seconds=0.01
    )
    assert rates["env_steps"] % 7 == 0


def test_staged_env_is_driven_through_the_acting_protocol():
    env_fn = lambda: ph.make("supply_chain_paper_v0", num_shops=2, num_cycles=5)  # noqa: E731
    rates = bm.measure_env_throughput(env_fn, 2, min_seconds=0.01)
    assert rates["env_steps"] % 5 == 0  # one acting_step per restock + sale cycle
    assert rates["agent_steps"] == 2 * rates["env_steps"]


def test_env_throughput_checks_the_number_of_strategic_agents():
    with pytest.raises(ConfigError, match="expected 5 strategic agents, the env has 2"):
        bm.measure_env_throughput(lambda: ph.make("supply_chain_v0", num_shops=2), 5, 0.01)


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), "2"])
def test_env_throughput_refuses_bad_budgets(bad):
    with pytest.raises(ConfigError, match="min_seconds must be a number > 0"):
        bm.measure_env_throughput(lambda: ph.make("supply_chain_v0"), min_seconds=bad)


def test_unknown_protocol_and_a_parallel_env_without_acting_protocol_are_refused():
    with pytest.raises(ConfigError, match="protocol must be 'parallel', 'acting' or None"):
        bm.measure_env_throughput(lambda: ph.make("supply_chain_v0"), 1, 0.01, protocol="aec")

    class NoActing:
        possible_agents = ["a"]

        def action_space(self, agent):
            return ph.make("supply_chain_v0").action_space("SHOP")

    with pytest.raises(ConfigError, match="has no acting_reset/acting_step"):
        bm.measure_env_throughput(NoActing, 1, 0.01, protocol="acting")


def test_random_actions_are_seeded_and_sliced_per_agent():
    env = ph.make("supply_chain_v0", num_shops=3)
    first, again = bm.RandomActions(env, seed=4), bm.RandomActions(env, seed=4)
    agents = list(env.possible_agents)
    a, b = first(agents, {}), again(agents, {})
    assert all(np.array_equal(a[i], b[i]) for i in agents)
    assert all(env.action_space(i).contains(a[i]) for i in agents)
    assert set(first(agents[1:], {})) == set(agents[1:])


def test_random_actions_sample_non_box_spaces_from_their_seed():
    import gymnasium as gym

    class Discrete:
        possible_agents = ["x", "y"]
        num_steps = 3

        def action_space(self, agent):
            return gym.spaces.Discrete(5)

    draws = [bm.RandomActions(Discrete(), seed=1)(["x", "y"]) for _ in range(2)]
    assert draws[0] == draws[1]


def test_random_actions_need_strategic_agents():
    class Empty:
        possible_agents: list = []

    with pytest.raises(ConfigError, match="no strategic agents"):
        bm.RandomActions(Empty(), seed=0)


def test_an_act_function_from_policies_drives_the_env():
    env = ph.make("supply_chain_v0", num_shops=2, num_steps=4)
    baselines = sc_bench.baselines(env, seed=0)
    heuristic = next(iter(baselines.values()))
    rates = bm.measure_env_throughput(
        lambda: ph.make("supply_chain_v0", num_shops=2, num_steps=4),
        2,
        0.01,
        act=bm.policy_actions(heuristic),
    )
    assert rates["env_steps"] % 4 == 0


def test_median_run_keeps_the_middle_run_and_its_range():
    values = iter([3.0, 1.0, 2.0])
    row = bm.median_run(lambda: {"agent_steps_per_s": next(values)}, 3)
    assert row["agent_steps_per_s"] == 2.0
    assert (row["agent_steps_per_s_min"], row["agent_steps_per_s_max"]) == (1.0, 3.0)
    assert row["repeats"] == 3
    with pytest.raises(ConfigError, match="repeats must be an int >= 1"):
        bm.median_run(lambda: {"agent_steps_per_s": 1.0}, 0)


def test_generic_throughput_measures_any_registered_env():
    report = bm.generic_throughput("type_toy_v0", {"num_agents": 2}, 0.01, repeats=1)
    (row,) = report["rows"]
    assert (row["env"], row["strategic"], row["config"]) == ("type_toy_v0", 2, {"num_agents": 2})
    assert row["agent_steps_per_s"] > 0
    assert "type_toy_v0" in report["title"] and report["checks"] == []
    table = bm.format_table(report["rows"], report["columns"])
    assert "agent-steps/s" in table.splitlines()[0]


def test_growth_check_follows_the_numbers():
    def row(size, cost):
        return {"size": size, "cost": cost}

    flat = bm.growth_check([row(1, 2.0), row(10, 2.2)], "size", "cost")
    assert flat["status"] == "PASS" and flat["measured"] == pytest.approx(1.1)
    grows = bm.growth_check([row(1, 1.0), row(10, 1.5), row(100, 2.0)], "size", "cost")
    assert grows["status"] == "MISS" and "1 -> 100" in grows["detail"]
    assert bm.growth_check([row(1, 1.0)], "size", "cost")["status"] == "SKIP"


def test_format_table_aligns_columns():
    rows = [{"name": "a", "rate": 1234.5, "ref": None}, {"name": "bbb", "rate": 7.0, "ref": 2}]
    text = bm.format_table(rows, [("name", "name"), ("rate", "rate/s", ",.0f"), ("ref", "ref")])
    lines = text.splitlines()
    assert lines[0].split() == ["name", "rate/s", "ref"]
    assert lines[2].split() == ["a", "1,234", "-"]
    assert len({len(line) for line in lines[:2]}) == 1
    assert lines[2].index("1,234") + len("1,234") == lines[3].index("7") + 1


def test_write_json_writes_and_refuses_unwritable_paths(tmp_path):
    path = bm.write_json(tmp_path / "a" / "b.json", {"x": 1})
    assert json.loads(path.read_text()) == {"x": 1}
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot write results to"):
        bm.write_json(blocker / "b.json", {"x": 1})


def test_the_core_holds_no_reference_figures_and_the_cli_names_no_model_package():
    for path in (REPO / "src" / "phantomzoo").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "11_600" not in text and "PHANTOM_REFERENCE" not in text, path
    for path in (REPO / "src" / "phantomzoo" / "cli").glob("*.py"):
        assert "phantomzoo.envs" not in path.read_text(encoding="utf-8"), path
    for name in ("bench.py", "workflow.py"):
        assert "supply_chain" not in (REPO / "src" / "phantomzoo" / "cli" / name).read_text()


def test_benchmarking_imports_no_trainer_libraries():
    code = (
        "import sys, phantomzoo.cli.bench, phantomzoo.cli.commands; "
        "bad = [m for m in ('torch', 'ray', 'stable_baselines3', 'supersuit') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- supply chain
def test_throughput_table_rows():
    rows = sc.supply_chain_throughput_table((1, 2), min_seconds=0.02, repeats=1)
    one, two = rows
    assert (one["shops"], one["agents"]) == (1, 7)  # factory + shop + 5 customers
    assert two["agents"] == 1 + 2 * 6
    for row in rows:
        assert row["env_steps_per_s"] > 0 and row["floor_env_steps_per_s"] > 0
        assert row["ratio_vs_floor"] == pytest.approx(
            row["shop_steps_per_s"] / row["floor_shop_steps_per_s"]
        )
        assert row["shop_steps_per_s_min"] <= row["shop_steps_per_s"]
        assert "phantom_shop_steps_per_s" not in row


def test_throughput_hook_reports_its_table_and_the_scaling_check():
    report = ph.spec("supply_chain_v0").hook("throughput")((1, 2), 0.01, 0, 1)
    assert [r["shops"] for r in report["rows"]] == [1, 2]
    assert report["columns"] == sc.THROUGHPUT_COLUMNS
    assert [c["name"] for c in report["checks"]] == ["cost per shop-step does not grow with shops"]
    assert "shops 1, 2" in report["title"]


def test_throughput_table_rejects_bad_sizes():
    with pytest.raises(ConfigError, match="shop counts must be integers >= 1"):
        sc.supply_chain_throughput_table((0,), min_seconds=0.01)
    with pytest.raises(ConfigError, match="min_seconds must be a number > 0"):
        sc.measure_floor_throughput(1, min_seconds=0)


def test_baseline_returns_heuristic_beats_random():
    result = sc_bench.baseline_returns(num_episodes=3, seed=0, search_episodes=2)
    assert result["heuristic_mean"] > result["random_mean"]
    assert result["heuristic_std"] >= 0 and result["random_std"] >= 0
    assert result["search_seed"] != result["seed"]
    rows = sc_bench.baseline_rows(result)
    assert rows[0]["pct_of_heuristic"] == pytest.approx(100.0)
    assert rows[1]["policy"] == "uniform random"


def test_baseline_returns_refuse_empty_evaluations():
    with pytest.raises(ConfigError, match="episode counts must be >= 1"):
        sc_bench.baseline_returns(num_episodes=0)


# --------------------------------------------------------------------------- workflow
def test_bench_throughput_uses_the_hook_or_the_generic_harness():
    hooked = workflow.bench_throughput("supply_chain_v0", None, (1,), 0.01, 0, 1)
    assert hooked["rows"][0]["shops"] == 1
    generic = workflow.bench_throughput("digital_ads_v0", {}, None, 0.01, 0, 1)
    assert generic["rows"][0]["env"] == "digital_ads_v0"


def test_bench_throughput_refuses_sizes_without_a_hook():
    with pytest.raises(ConfigError, match="digital_ads_v0 defines no sizes to measure"):
        workflow.bench_throughput("digital_ads_v0", {}, (1, 2), 0.01)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("phantomzoo: error: ") and "Traceback" not in err
    return err


def test_cli_sizes_need_a_throughput_hook(capsys, tmp_path):
    argv = ["bench", "digital_ads_v0", "--backends", "none", "--sizes", "6", "--out", str(tmp_path)]
    assert main(argv) == 2
    assert "--sizes: digital_ads_v0 defines no sizes" in _error(capsys)


def test_cli_bench_refuses_an_env_without_a_bench_module(capsys, tmp_path):
    argv = ["bench", "type_toy_v0", "--backends", "none", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "type_toy_v0 has no bench module defining baselines" in _error(capsys)
    assert not (tmp_path / "o").exists()


def test_cli_bench_measures_an_env_without_a_throughput_hook(capsys, tmp_path):
    out = tmp_path / "ads"
    argv = ["bench", "digital_ads_v0", "--backends", "none", "--episodes", "1"]
    assert main(argv + ["--min-seconds", "0.02", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "digital_ads_v0, random actions" in printed and "agent-steps/s" in printed
    report = json.loads((out / "bench.json").read_text())
    assert report["throughput"][0]["env"] == "digital_ads_v0" and report["goals"] == []
