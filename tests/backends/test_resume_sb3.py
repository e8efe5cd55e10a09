"""The sb3 backend's checkpoints: periodic saves, stop on SIGINT/SIGTERM, resume.

Stops are simulated by requesting one from the first checkpoint check
(``job.stop.request``), and once for real by sending SIGINT to a training subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
torch = pytest.importorskip("torch")

import phantomzoo as ph  # noqa: E402
from phantomzoo.backends import _torch_state as ts  # noqa: E402
from phantomzoo.backends import sb3_checkpoint  # noqa: E402
from phantomzoo.errors import CheckpointError, TrainingInterrupted  # noqa: E402
from phantomzoo.training.checkpoint import CheckpointStore  # noqa: E402

TINY = {"n_envs": 2, "algorithm_kwargs": {"n_steps": 16, "batch_size": 32, "n_epochs": 1}}
SHOP = ("supply_chain_v0", {"shop": ["SHOP"]})


def _train(out: Path, env=SHOP[0], policies=SHOP[1], options=None, **kwargs):
    kwargs.setdefault("timesteps", 320)
    return ph.train(
        env,
        policies,
        backend="sb3",
        seed=0,
        results_dir=out,
        options=TINY if options is None else options,
        progress=False,
        **kwargs,
    )


@pytest.fixture
def stop_after(monkeypatch):
    """``stop_after(n)``: the n-th checkpoint check requests a stop, as SIGINT would."""

    def arm(n: int = 1, name: str = "SIGINT") -> None:
        original = sb3_checkpoint.Checkpointer.maybe_save
        calls = {"n": 0}

        def maybe_save(self):
            calls["n"] += 1
            if calls["n"] == n:
                self.job.stop.request(name)
            return original(self)

        monkeypatch.setattr(sb3_checkpoint.Checkpointer, "maybe_save", maybe_save)

    return arm


def _weights(policies) -> list[np.ndarray]:
    out = []
    for policy_id in sorted(policies.policies):
        policy = policies[policy_id]
        for w, b in [*policy.layers, policy.head]:
            out += [w, b]
    return out


def _same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


# ------------------------------------------------------------------- periodic saves
def test_periodic_checkpoints_are_complete_and_loadable(tmp_path):
    out = tmp_path / "run"
    result = _train(out, timesteps=128, checkpoint_seconds=1e-6)
    store = CheckpointStore(out)
    latest = store.latest()
    pointer = json.loads((out / "checkpoints" / "latest.json").read_text())
    assert pointer["name"] == latest.directory.name
    assert latest.progress["timesteps"] == result.history[-1]["timesteps"] >= 128
    assert latest.history == result.history
    saved = latest.state["models"]["shop"]
    assert saved["num_timesteps"] > 0 and saved["n_updates"] > 0
    assert saved["optimizers"]["policy"]["state"]  # Adam moments were saved
    assert _same(latest.policies(), result.policies)  # the final checkpoint is the result
    kept = sorted(p.name for p in (out / "checkpoints").iterdir() if p.is_dir())
    assert len(kept) == 2  # the two newest are kept


def test_no_periodic_checkpoint_by_default_for_a_short_run_but_a_final_one(tmp_path):
    out = tmp_path / "run"
    _train(out, timesteps=64)
    kept = sorted(p.name for p in (out / "checkpoints").iterdir() if p.is_dir())
    assert kept == ["ckpt-000001"]


# ------------------------------------------------------------------- stop and resume
def test_stop_saves_policies_and_checkpoint_then_resume_reaches_the_budget(tmp_path, stop_after):
    out = tmp_path / "run"
    stop_after(2)
    with pytest.raises(TrainingInterrupted, match="SIGINT") as caught:
        _train(out, timesteps=320)
    assert caught.value.signal_name == "SIGINT"
    assert (out / "policies" / "manifest.json").is_file()
    assert json.loads((out / "training.json").read_text())["status"] == "interrupted"
    checkpoint = CheckpointStore(out).latest()
    assert checkpoint.progress["iterations"] == 2 and checkpoint.progress["timesteps"] < 320
    at_stop = checkpoint.policies()
    assert _same(at_stop, ph.load_policies(out / "policies"))

    result = _train(out, timesteps=320, resume=True)
    assert result.history[-1]["timesteps"] >= 320
    assert result.history[: len(checkpoint.history)] == checkpoint.history
    iterations = [h["iteration"] for h in result.history]
    assert iterations == sorted(iterations) and iterations[-1] > 2
    assert not _same(result.policies, at_stop)  # it trained on from the checkpoint
    assert json.loads((out / "training.json").read_text())["status"] == "finished"


def test_sigterm_is_reported_by_name(tmp_path, stop_after):
    stop_after(1, "SIGTERM")
    with pytest.raises(TrainingInterrupted, match="SIGTERM"):
        _train(tmp_path / "run")


def test_resuming_one_checkpoint_twice_gives_the_same_weights(tmp_path, stop_after):
    first, second = tmp_path / "first", tmp_path / "second"
    stop_after(2)
    with pytest.raises(TrainingInterrupted):
        _train(first, timesteps=256)
    shutil.copytree(first, second)
    stop_after(10**9)  # disarm
    a = _train(first, timesteps=256, resume=True)
    b = _train(second, timesteps=256, resume=True)
    assert _same(a.policies, b.policies)


def test_restored_model_equals_the_saved_one(tmp_path, stop_after):
    """Weights, optimiser moments and counters survive the round trip exactly."""
    out = tmp_path / "run"
    options = {**TINY, "normalize": True}
    stop_after(2)
    with pytest.raises(TrainingInterrupted):
        _train(out, options=options)
    checkpoint = CheckpointStore(out).latest()
    captured = {}
    original = sb3_checkpoint.Checkpointer.restore

    def restore(self, ckpt):
        original(self, ckpt)
        captured.update({p: sb3_checkpoint.model_state(m) for p, m in self.models.items()})
        self.job.stop.request("SIGINT")  # stop straight after restoring

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sb3_checkpoint.Checkpointer, "restore", restore)
        with pytest.raises(TrainingInterrupted):
            _train(out, options=options, resume=True)
    saved, restored = checkpoint.state["models"]["shop"], captured["shop"]
    for key in ("num_timesteps", "n_updates", "episode_num"):
        assert restored[key] == saved[key]
    for name, value in saved["policy"].items():
        assert np.array_equal(restored["policy"][name][1], value[1]), name
    moments = saved["optimizers"]["policy"]["state"]
    for index, entry in moments.items():
        for key, value in entry.items():
            np.testing.assert_array_equal(
                restored["optimizers"]["policy"]["state"][index][key][1], value[1]
            )
    assert restored["vec_normalize"]["obs"]["count"] == saved["vec_normalize"]["obs"]["count"]
    np.testing.assert_array_equal(
        restored["vec_normalize"]["obs"]["mean"], saved["vec_normalize"]["obs"]["mean"]
    )


def test_several_policies_resume_in_their_round_robin(tmp_path, stop_after):
    out = tmp_path / "run"
    policies = {"a": ["A"], "b": ["B"]}
    stop_after(3)  # mid-round: policy "b" is next
    with pytest.raises(TrainingInterrupted):
        _train(out, "models:DelayedTurnEnv", policies, iterations=6, timesteps=None)
    checkpoint = CheckpointStore(out).latest()
    assert checkpoint.state["position"] == [1, 0]
    assert [h["policy"] for h in checkpoint.history] == ["a", "b", "a"]
    result = _train(
        out, "models:DelayedTurnEnv", policies, iterations=6, timesteps=None, resume=True
    )
    assert [h["policy"] for h in result.history] == ["a", "b", "a", "b", "a", "b"]


def test_sac_resumes_with_its_replay_buffer(tmp_path, stop_after):
    out = tmp_path / "run"
    options = {
        "n_envs": 2,
        "algorithm": "SAC",
        "algorithm_kwargs": {"learning_starts": 8, "batch_size": 8, "buffer_size": 1000},
    }
    stop_after(40)  # SAC checks after every step
    with pytest.raises(TrainingInterrupted):
        _train(out, options=options, timesteps=120)
    checkpoint = CheckpointStore(out).latest()
    buffer = checkpoint.state["models"]["shop"]["replay_buffer"]
    assert buffer["pos"] > 0 and buffer["arrays"]["observations"].shape[0] == buffer["pos"]
    result = _train(out, options=options, timesteps=120, resume=True)
    assert result.history[-1]["timesteps"] >= 120


# ------------------------------------------------------------------- refused resumes
def test_resume_with_other_settings_is_refused(tmp_path, stop_after):
    out = tmp_path / "run"
    stop_after(1)
    with pytest.raises(TrainingInterrupted):
        _train(out)
    with pytest.raises(CheckpointError, match="different run"):
        _train(out, options={**TINY, "n_envs": 3}, resume=True)


def _tamper(out: Path, edit) -> None:
    latest = CheckpointStore(out).latest().directory / "state.json"
    record = json.loads(latest.read_text())
    edit(record["state"])
    latest.write_text(json.dumps(record))


def test_resume_from_a_foreign_state_tree_is_refused(tmp_path, stop_after):
    out = tmp_path / "run"
    stop_after(1)
    with pytest.raises(TrainingInterrupted):
        _train(out)

    def drop_models(state):
        state["$dict"] = [pair for pair in state["$dict"] if pair[0] != "models"]

    _tamper(out, drop_models)
    with pytest.raises(CheckpointError, match="does not fit this sb3 run"):
        _train(out, resume=True)


def test_resume_from_another_version_is_refused(tmp_path, stop_after):
    out = tmp_path / "run"
    stop_after(1)
    with pytest.raises(TrainingInterrupted):
        _train(out)

    def bump(state):
        for pair in state["$dict"]:
            if pair[0] == "version":
                pair[1] = 99

    _tamper(out, bump)
    with pytest.raises(CheckpointError, match="not an sb3 backend checkpoint of version 1"):
        _train(out, resume=True)


# ------------------------------------------------------------------- torch state helpers
def test_torch_state_round_trip_and_mismatch():
    layer = torch.nn.Linear(3, 2)
    state = ts.to_numpy(layer.state_dict())
    assert isinstance(state["weight"][1], np.ndarray)
    other = torch.nn.Linear(3, 2)
    ts.load_module_state(other, state, "the layer")
    assert torch.equal(other.weight, layer.weight)
    with pytest.raises(CheckpointError, match="cannot restore the wrong layer"):
        ts.load_module_state(torch.nn.Linear(4, 2), state, "the wrong layer")
    with pytest.raises(CheckpointError, match="holds str, not an array"):
        ts.to_tensors(("$tensor", "oops"))


def test_global_rng_state_round_trip():
    saved = ts.global_rng_state()
    first = (torch.rand(3), np.random.random(3))
    ts.set_global_rng_state(saved)
    again = (torch.rand(3), np.random.random(3))
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    with pytest.raises(CheckpointError, match="random generators"):
        ts.set_global_rng_state({"torch": np.zeros(3, np.uint8)})


# ------------------------------------------------------------------- a real signal
SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    import phantomzoo as ph
    try:
        ph.train("supply_chain_v0", {"shop": ["SHOP"]}, backend="sb3", seed=0,
                 timesteps=10**8, results_dir=sys.argv[1], progress=False,
                 checkpoint_seconds=0.2, options=json.loads(sys.argv[2]))
    except ph.errors.TrainingInterrupted as exc:
        print("STOPPED", exc.signal_name, flush=True)
        sys.exit(3)
    """
)


def test_real_sigint_saves_then_resume_continues(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(out), json.dumps(TINY)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "latest.json").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, stderr
    assert "STOPPED SIGINT" in stdout
    assert "Traceback" not in stderr
    assert (out / "policies" / "manifest.json").is_file()
    checkpoint = CheckpointStore(out).latest()
    steps = checkpoint.progress["timesteps"]
    assert steps > 0
    budget = {**TINY, "max_seconds": checkpoint.progress["seconds"] + 1.0}  # a total
    result = _train(out, timesteps=10**8, resume=True, options=budget)
    assert result.history[-1]["timesteps"] > steps
