"""``<runs>/LATEST`` (Phantom's convention): the newest run in a directory of runs, for
rollouts, evaluation and the CLI."""

from __future__ import annotations

import os

import pytest

import phantomzoo as ph
from phantomzoo.cli import main
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import ConfigError
from phantomzoo.training.results import policies_dir, resolve_latest


def save_run(runs, name, level, mtime):
    """A run whose shop orders up to ``level``, its manifest dated ``mtime``."""
    env = ph.make("supply_chain_v0")
    policy = OrderUpToPolicy(env.observation_space("SHOP"), env.action_space("SHOP"), level=level)
    ph.TrainedPolicies(
        {"shop": policy},
        {"SHOP": "shop"},
        {"kind": "registered", "name": "supply_chain_v0", "config": {}},
    ).save(runs / name / "policies")
    os.utime(runs / name / "policies" / "manifest.json", (mtime, mtime))
    return runs / name


@pytest.fixture
def runs(tmp_path):
    runs = tmp_path / "runs"
    save_run(runs, "b-older", level=25, mtime=1_000_000)
    save_run(runs, "a-newer", level=10, mtime=2_000_000)  # newest, though first by name
    (runs / "notes").mkdir()  # not a run: ignored
    return runs


def first_order(rollouts):
    return round(float(rollouts[0].actions_for_agent("SHOP")[0][0]))


def test_latest_is_the_run_whose_policies_were_written_last(runs):
    assert resolve_latest(runs / "LATEST") == runs / "a-newer"
    assert policies_dir(runs / "LATEST") == runs / "a-newer" / "policies"
    assert resolve_latest(runs / "b-older") == runs / "b-older"  # other names unchanged


def test_phantom_style_rollout_and_ph_rollout_accept_latest(runs):
    rollouts = list(ph.utils.rllib.rollout(directory=runs / "LATEST", show_progress_bar=False))
    assert first_order(rollouts) == 10
    rollouts = ph.rollout("supply_chain_v0", runs / "LATEST", show_progress_bar=False)
    assert first_order(rollouts) == 10
    older = ph.rollout("supply_chain_v0", runs / "b-older", show_progress_bar=False)
    assert first_order(older) == 25


def test_the_cli_rolls_out_the_latest_run(runs, tmp_path, capsys):
    out = tmp_path / "steps.jsonl"
    assert main(["rollout", str(runs / "LATEST"), "--episodes", "1", "--out", str(out)]) == 0
    assert out.is_file()


def test_latest_without_runs_or_parent_is_a_config_error(tmp_path, runs):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no run with trained policies in .*empty"):
        resolve_latest(tmp_path / "empty" / "LATEST")
    with pytest.raises(ConfigError, match="LATEST stands for the newest run in .*missing"):
        ph.utils.rllib.rollout(directory=tmp_path / "missing" / "LATEST")
    assert main(["rollout", str(tmp_path / "empty" / "LATEST")]) == 2


def test_latest_does_not_follow_symlinks_out_of_the_parent(tmp_path, runs):
    outside = save_run(tmp_path / "elsewhere", "run", level=5, mtime=3_000_000)
    (runs / "linked").symlink_to(outside, target_is_directory=True)
    assert resolve_latest(runs / "LATEST") == runs / "a-newer"
