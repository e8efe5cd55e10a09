"""Helpers and fixtures shared by the command-line error tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from models import PingEnv

from phantomzoo import registry
from phantomzoo.cli import workflow
from phantomzoo.cli.commands import main


def _error_line(capsys, status: int, argv: list[str]) -> str:
    """Run ``argv``; check the exit status, one ``phantomzoo: error:`` line, no traceback."""
    assert main(argv) == status
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("phantomzoo: error: "), lines[0]
    assert "Traceback" not in captured.out + captured.err
    return lines[0]


@pytest.fixture
def error_line():
    """``error_line(capsys, status, argv)``: run ``argv``, check the status and the single
    ``phantomzoo: error:`` line (and no traceback); return that line."""
    return _error_line


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a command reaches training, rollout or benchmarking."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a refused command reached the workflow")

    for name in ("train_env", "rollout_results", "bench", "resume_training"):
        monkeypatch.setattr(workflow, name, forbidden, raising=False)
    return forbidden


def fragile_env(rate: float = 1.0, label: str = "x"):
    """A registered test env whose constructor fails on a non-number ``rate``."""
    factor = float(rate) * 2  # ValueError for "abc", TypeError for a list
    del factor, label
    return PingEnv()


@pytest.fixture
def fragile(monkeypatch):
    monkeypatch.setitem(
        registry._REGISTRY, "fragile_v0", registry.EnvSpec("fragile_v0", fragile_env)
    )
    return "fragile_v0"


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "a_file.txt"
    path.write_text("not a directory\n")
    return path


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A directory that looks like a results directory (a manifest, a training record)."""
    run = tmp_path / "run"
    (run / "policies").mkdir(parents=True)
    (run / "policies" / "manifest.json").write_text("{}")
    (run / "training.json").write_text(
        json.dumps({"env": {"kind": "registered", "name": "supply_chain_v0", "config": {}}})
    )
    return run
