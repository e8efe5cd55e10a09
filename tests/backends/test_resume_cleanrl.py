"""Interrupted or repeated training loses nothing (cleanrl: bit-identical resume)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import (
    CheckpointError,
    ConfigError,
    ResultsExistError,
    TrainingInterrupted,
)
from phantomzoo.training import api as training
from phantomzoo.training.checkpoint import CheckpointStore

pytest.importorskip("torch")

OPTIONS = {"num_envs": 2, "num_steps": 16}


def _policies(env_id: str, **config):
    return ph.spec(env_id).hook("policies")(ph.make(env_id, **config))


def _train(env_id: str, out: Path, timesteps: int = 480, **kwargs):
    return ph.train(
        env_id, _policies(env_id), timesteps=timesteps, seed=7, results_dir=out,
        options=OPTIONS, progress=False, **kwargs,
    )  # fmt: skip


def _stop_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """Make the ``call``-th iteration boundary behave as if SIGINT had arrived."""
    original, seen = training.TrainingJob.checkpoint_due, {"n": 0}

    def due(job):
        seen["n"] += 1
        if seen["n"] == call:
            job.stop.request("SIGINT")
        return original(job)

    monkeypatch.setattr(training.TrainingJob, "checkpoint_due", due)


def _weights(result) -> dict[str, dict[str, np.ndarray]]:
    return {p: policy.arrays() for p, policy in result.policies.policies.items()}


@pytest.mark.parametrize("env_id", ["supply_chain_v0", "digital_ads_v0"])
def test_interrupted_and_resumed_run_gives_the_same_weights(
    env_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _train(env_id, tmp_path / "whole")
    _stop_at(monkeypatch, 3)  # mid-episode: episodes are longer than 3 x 16 steps
    with pytest.raises(TrainingInterrupted, match="SIGINT.*resume") as caught:
        _train(env_id, tmp_path / "split")
    assert caught.value.results_dir == tmp_path / "split"
    record = json.loads((tmp_path / "split" / "training.json").read_text())
    assert record["status"] == "interrupted"
    assert (tmp_path / "split" / "policies" / "manifest.json").is_file()
    monkeypatch.undo()
    resumed = _train(env_id, tmp_path / "split", resume=True)
    assert resumed.history[-1]["timesteps"] == whole.history[-1]["timesteps"]
    assert [h["timesteps"] for h in resumed.history] == [h["timesteps"] for h in whole.history]
    a, b = _weights(whole), _weights(resumed)
    assert a.keys() == b.keys()
    for policy_id in a:
        for name, array in a[policy_id].items():
            np.testing.assert_array_equal(array, b[policy_id][name], err_msg=f"{policy_id}.{name}")


def test_resume_with_a_larger_budget_continues(tmp_path: Path) -> None:
    first = _train("supply_chain_v0", tmp_path, timesteps=160)
    more = _train("supply_chain_v0", tmp_path, timesteps=320, resume=True)
    assert first.history[-1]["timesteps"] < more.history[-1]["timesteps"] <= 320 + 32
    assert more.history[: len(first.history)] == first.history


def test_resume_must_describe_the_same_run(tmp_path: Path) -> None:
    _train("supply_chain_v0", tmp_path, timesteps=64)
    with pytest.raises(CheckpointError, match="different run.*seed"):
        ph.train(
            "supply_chain_v0", _policies("supply_chain_v0"), timesteps=64, seed=8,
            results_dir=tmp_path, options=OPTIONS, progress=False, resume=True,
        )  # fmt: skip


def test_resume_needs_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        _train("supply_chain_v0", tmp_path / "nothing", resume=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        _train("supply_chain_v0", tmp_path / "empty", resume=True)
    with pytest.raises(ConfigError, match="needs results_dir"):
        ph.train("supply_chain_v0", _policies("supply_chain_v0"), timesteps=8, resume=True)


def test_existing_results_are_never_silently_mixed(tmp_path: Path) -> None:
    _train("supply_chain_v0", tmp_path, timesteps=64)
    with pytest.raises(ResultsExistError, match="already holds a training run.*overwrite=True"):
        _train("supply_chain_v0", tmp_path, timesteps=64)
    result = _train("supply_chain_v0", tmp_path, timesteps=96, overwrite=True)
    assert result.history[0]["iteration"] == 1
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ResultsExistError, match="not a phantomzoo run.*notes.txt"):
        _train("supply_chain_v0", tmp_path, timesteps=64, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    with pytest.raises(ConfigError, match="not both"):
        _train("supply_chain_v0", tmp_path, overwrite=True, resume=True)


def test_results_dir_that_is_a_file_or_unwritable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        _train("supply_chain_v0", tmp_path / "file", timesteps=8)
    with pytest.raises(ConfigError, match="cannot write"):
        _train("supply_chain_v0", tmp_path / "file" / "below", timesteps=8)


@pytest.mark.parametrize("value", [0, -1.0, float("inf"), float("nan"), "60", True])
def test_checkpoint_interval_is_checked(value, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="checkpoint_seconds"):
        _train("supply_chain_v0", tmp_path, checkpoint_seconds=value)


def test_periodic_checkpoints_keep_the_two_newest(tmp_path: Path) -> None:
    _train("supply_chain_v0", tmp_path, timesteps=160, checkpoint_seconds=1e-9)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["ckpt-000004", "ckpt-000005", "latest.json"]
    latest = CheckpointStore(tmp_path).latest()
    assert latest is not None and latest.progress["iterations"] == 5
    assert latest.policies()["shop"].observation_space is not None


def test_a_kill_during_a_checkpoint_write_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _train("supply_chain_v0", tmp_path, timesteps=64)
    before = CheckpointStore(tmp_path).latest()
    assert before is not None
    from phantomzoo.training import checkpoint

    def killed(path, payload):
        raise KeyboardInterrupt  # as if the process died while writing state.json

    monkeypatch.setattr(checkpoint, "atomic_write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        CheckpointStore(tmp_path).save({}, {"timesteps": 1}, [], {"x": np.zeros(3)})
    after = CheckpointStore(tmp_path).latest()
    assert after is not None and after.directory == before.directory
    assert after.progress == before.progress


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda d: (d / "latest.json").write_text("{"), "not valid JSON"),
        (lambda d: (d / "latest.json").write_text('{"name": "../../etc"}'), "does not name"),
        (
            lambda d: (d / "ckpt-000001" / "state.json").write_text("[]"),
            "not a phantomzoo checkpoint",
        ),
        (lambda d: (d / "ckpt-000001" / "arrays.npz").unlink(), "cannot be read"),
        (lambda d: (d / "ckpt-000001" / "arrays.npz").write_bytes(b"junk"), "cannot be read"),
    ],
)
def test_damaged_checkpoints_are_refused(damage, match: str, tmp_path: Path) -> None:
    _train("supply_chain_v0", tmp_path, timesteps=64)
    damage(tmp_path / "checkpoints")
    with pytest.raises(CheckpointError, match=match):
        _train("supply_chain_v0", tmp_path, timesteps=64, resume=True)


SCRIPT = textwrap.dedent(
    """
    import sys
    import phantomzoo as ph
    from phantomzoo.errors import TrainingInterrupted
    env = ph.make("supply_chain_v0")
    policies = ph.spec("supply_chain_v0").hook("policies")(env)
    try:
        ph.train("supply_chain_v0", policies, timesteps=10**9, seed=1, results_dir=sys.argv[1],
                 options={"num_envs": 2, "num_steps": 16}, progress=False,
                 checkpoint_seconds=0.2)
    except TrainingInterrupted as exc:
        print("INTERRUPTED", exc.signal_name)
        sys.exit(130)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_real_signal_saves_policies_and_a_checkpoint(sig: int, tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "latest.json").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.1)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert f"INTERRUPTED {signal.Signals(sig).name}" in stdout
    assert "Traceback" not in stderr
    assert json.loads((out / "training.json").read_text())["status"] == "interrupted"
    saved = ph.load_policies(out / "policies")
    assert "shop" in saved
    latest = CheckpointStore(out).latest()
    assert latest is not None and latest.progress["timesteps"] > 0
    resumed = ph.train(
        "supply_chain_v0", _policies("supply_chain_v0"), seed=1, results_dir=out,
        timesteps=latest.progress["timesteps"] + 64, options={"num_envs": 2, "num_steps": 16},
        progress=False, resume=True,
    )  # fmt: skip
    assert resumed.history[-1]["timesteps"] >= latest.progress["timesteps"] + 64


def test_a_run_that_fails_before_saving_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phantomzoo.backends import cleanrl

    def broken(job, args, gen, logger):
        raise RuntimeError("backend failed early")

    with monkeypatch.context() as patch:
        patch.setattr(cleanrl, "Runner", broken)
        with pytest.raises(RuntimeError, match="failed early"):
            _train("supply_chain_v0", tmp_path, timesteps=64)
    assert list(tmp_path.iterdir()) == []
    assert _train("supply_chain_v0", tmp_path, timesteps=64).history  # the same call works now
