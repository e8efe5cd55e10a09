"""The episode pictures of the command line: ``rollout --plots DIR`` and ``bench``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import phantomzoo as ph
from phantomzoo.cli import main
from phantomzoo.envs.supply_chain import OrderUpToPolicy

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A results directory whose shop orders up to a fixed level (no training needed)."""
    env = ph.make("supply_chain_v0")
    policy = OrderUpToPolicy(env.observation_space("SHOP"), env.action_space("SHOP"), level=20)
    ph.TrainedPolicies(
        {"shop": policy},
        {"SHOP": "shop"},
        {"kind": "registered", "name": "supply_chain_v0", "config": {}},
    ).save(tmp_path / "run" / "policies")
    return tmp_path / "run"


def _png(path: Path) -> bool:
    return path.is_file() and path.read_bytes().startswith(PNG_SIGNATURE)


def test_rollout_plots_writes_the_first_episode_pictures(capsys, tmp_path: Path, run: Path):
    pictures = tmp_path / "pictures"
    assert main(["rollout", str(run), "--episodes", "2", "--plots", str(pictures)]) == 0
    out = capsys.readouterr().out
    assert _png(pictures / "message_graph.png") and _png(pictures / "timeline.png")
    assert f"Plot: {pictures / 'message_graph.png'}" in out
    assert "SHOP:" in out


def test_rollout_without_plots_draws_nothing(capsys, tmp_path: Path, run: Path):
    assert main(["rollout", str(run), "--episodes", "1"]) == 0
    assert "Plot:" not in capsys.readouterr().out


def test_rollout_plots_into_a_file_is_refused(capsys, tmp_path: Path, run: Path):
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("x")
    assert main(["rollout", str(run), "--plots", str(a_file)]) == 2
    assert "pictures directory (--plots)" in capsys.readouterr().err


def test_rollout_plots_without_matplotlib_names_the_extra(
    capsys, monkeypatch, tmp_path: Path, run: Path
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["rollout", str(run), "--plots", str(tmp_path / "p")]) == 2
    assert "pip install 'phantomzoo[plots]'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_bench_writes_the_episode_pictures_next_to_its_plots(capsys, tmp_path: Path):
    out = tmp_path / "bench"
    argv = ["bench", "supply_chain_v0", "--backends", "none", "--no-throughput"]
    assert main([*argv, "--episodes", "2", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert _png(out / "message_graph.png") and _png(out / "timeline.png")
    assert f"Plot: {out / 'timeline.png'}" in printed
