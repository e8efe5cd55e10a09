"""The ``phantomzoo`` command line (the throughput harness behind ``bench`` is tested in
``test_bench.py``).

Budgets are tiny: these tests check behaviour and contents, never speed (the speed
goals are measured and reported by ``benchmarks/throughput.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from phantomzoo.cli.commands import main

TINY = ["--sizes", "1,10", "--min-seconds", "0.05"]


# --------------------------------------------------------------------------- list / help
def test_list_shows_envs_and_backends(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "supply_chain_v0" in out
    assert "backends" in out.lower()


@pytest.mark.parametrize("argv", [["--help"], ["bench", "--help"], ["list", "--help"]])
def test_help_exits_zero_and_describes_commands(argv, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "usage: phantomzoo" in out


def test_top_level_help_names_each_subcommand(capsys):
    main(["--help"])
    out = capsys.readouterr().out
    assert "list" in out and "bench" in out


# --------------------------------------------------------------------------- user errors
def _single_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("phantomzoo: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_bench_unknown_env_is_one_line_with_suggestion(capsys, tmp_path):
    assert main(["bench", "supply_chian_v0", "--out", str(tmp_path)]) == 2
    line = _single_error_line(capsys)
    assert "did you mean" in line.lower()
    assert "supply_chain_v0" in line
    assert not (tmp_path / "bench.json").exists()


@pytest.mark.parametrize("value", ["0", "-3", "abc", "2.5"])
def test_bench_bad_episodes_is_one_line(value, capsys):
    assert main(["bench", "supply_chain_v0", "--episodes", value]) == 2
    line = _single_error_line(capsys)
    assert "--episodes" in line


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["bench"],
        ["bench", "supply_chain_v0", "--shops", "1,x"],
        ["bench", "supply_chain_v0", "--sizes", "1,x"],
        ["bench", "supply_chain_v0", "--min-seconds", "0"],
    ],
)
def test_other_usage_errors_are_one_line(argv, capsys):
    assert main(argv) == 2
    _single_error_line(capsys)


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "phantomzoo", "bench", "no_such_env"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("phantomzoo: error: ")
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- bench
def test_bench_baselines_only_writes_sensible_json(capsys, tmp_path):
    out_dir = tmp_path / "results"
    argv = ["bench", "supply_chain_v0", "--backends", "none", "--quick", "--episodes", "5"]
    assert main(argv + ["--out", str(out_dir)] + TINY) == 0
    printed = capsys.readouterr().out
    assert "order-up-to" in printed and "random" in printed
    assert "shop-steps/s" in printed

    report = json.loads((out_dir / "bench.json").read_text())
    assert report["env"] == "supply_chain_v0" and report["episodes"] == 5
    heuristic, random = report["rows"]
    assert (
        heuristic["policy"].startswith("order-up-to S=") and heuristic["pct_of_heuristic"] == 100.0
    )
    assert heuristic["mean"] > random["mean"] and random["pct_of_heuristic"] < 50
    assert [row["shops"] for row in report["throughput"]] == [1, 10]
    assert all(row["shop_steps_per_s"] > 0 for row in report["throughput"])
    assert [g["name"] for g in report["goals"]] == ["cost per shop-step does not grow with shops"]
    assert {g["status"] for g in report["goals"]} <= {"PASS", "MISS", "SKIP"}
    assert "Phantom" not in printed  # reference figures live in benchmarks/ only
    assert report["machine"]["cpu_count"] >= 1
    assert (out_dir / "supply_chain_histograms.png").stat().st_size > 10_000


def test_train_rollout_and_bench_with_a_backend(capsys, tmp_path):
    pytest.importorskip("torch")
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "supply_chain_v0",
                "--timesteps",
                "2048",
                "--out",
                str(run),
                "--quiet",
                "--option",
                "num_envs=2",
                "num_steps=64",
            ]
        )
        == 0
    )
    assert "Trained supply_chain_v0 with cleanrl" in capsys.readouterr().out
    assert (run / "policies" / "manifest.json").is_file() and (run / "training.json").is_file()
    steps = tmp_path / "steps.jsonl"
    assert main(["rollout", str(run), "--episodes", "2", "--out", str(steps)]) == 0
    assert "SHOP:" in capsys.readouterr().out
    assert len(steps.read_text().splitlines()) == 200
    out = tmp_path / "bench"
    argv = [
        "bench",
        "supply_chain_v0",
        "--timesteps",
        "2048",
        "--episodes",
        "3",
        "--quiet",
        "--no-throughput",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "cleanrl" in printed and "% of heuristic" in printed
    assert (out / "learning_curves.png").is_file()


def test_user_errors_of_train_and_rollout_are_one_line(capsys, tmp_path):
    assert main(["rollout", str(tmp_path / "missing")]) == 2
    assert "does not exist" in _single_error_line(capsys)
    assert main(["train", "supply_chain_v0", "--backend", "tensorflow", "--timesteps", "10"]) == 2
    assert "unknown backend 'tensorflow'" in _single_error_line(capsys)
    assert main(["train", "supply_chain_v0", "--config", "num_shop=2", "--timesteps", "10"]) == 2
    assert "did you mean 'num_shops'" in _single_error_line(capsys)
    assert main(["train", "supply_chain_v0", "--config", "num_shops=0", "--timesteps", "10"]) == 2
    assert "num_shops must be an int >= 1" in _single_error_line(capsys)
    assert main(["train", "supply_chain_v0", "--config", "oops", "--timesteps", "10"]) == 2
    assert "expected KEY=VALUE" in _single_error_line(capsys)


def test_rollout_refuses_policies_from_an_incompatible_env(capsys, tmp_path):
    import phantomzoo as ph
    from phantomzoo.envs.supply_chain import OrderUpToPolicy

    env = ph.make("type_toy_v0", num_agents=1)
    policy = OrderUpToPolicy(
        env.observation_space("GUESSER1"), env.action_space("GUESSER1"), level=1
    )
    ph.TrainedPolicies(
        {"p": policy},
        {"SHOP": "p"},
        {"kind": "registered", "name": "supply_chain_v0", "config": {}},
    ).save(tmp_path / "policies")
    assert main(["rollout", str(tmp_path)]) == 2
    assert "incompatible environment" in _single_error_line(capsys)
