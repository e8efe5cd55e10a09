"""The rllib backend's checkpoints: stop on request, resume to the budget, and Phantom's
``checkpoint_freq``. One private Ray session serves the module (as in test_backend_rllib).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the rllib backend needs: pip install 'phantomzoo[rllib]'")
pytest.importorskip("ray.rllib", reason="the rllib backend needs: pip install 'phantomzoo[rllib]'")

import phantomzoo as ph  # noqa: E402
import phantomzoo.utils.rllib as ph_rllib  # noqa: E402
from phantomzoo.backends import rllib  # noqa: E402
from phantomzoo.errors import CheckpointError, ConfigError, TrainingInterrupted  # noqa: E402
from phantomzoo.training.checkpoint import CheckpointStore  # noqa: E402

TINY = {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 1}
POLICIES = {"a": ["A"], "b": ["B"]}
pytestmark = pytest.mark.filterwarnings("ignore:.*Overriding environment rllib-multi-agent-env")


@pytest.fixture(scope="module")
def ray_local():
    with rllib.ray_session(None, num_env_runners=1):
        yield


def _train(out, iterations, options=None, **kwargs):
    return ph.train(
        "models:DelayedTurnEnv",
        POLICIES,
        backend="rllib",
        iterations=iterations,
        seed=0,
        results_dir=out,
        options={**TINY, **(options or {})},
        progress=False,
        **kwargs,
    )


def _weights(policies):
    return [a for p in sorted(policies.policies) for wb in policies[p].layers for a in wb]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))


def test_stop_then_resume_reaches_the_budget(ray_local, tmp_path, monkeypatch):
    out, copy = tmp_path / "run", tmp_path / "copy"
    original = rllib._Loop._iterate

    def iterate(self):
        original(self)
        if len(self.history) == 2:
            self.job.stop.request("SIGTERM")

    monkeypatch.setattr(rllib._Loop, "_iterate", iterate)
    options = {"checkpoint_every_iterations": 1}
    with pytest.raises(TrainingInterrupted, match="SIGTERM"):
        _train(out, 4, options, checkpoint_seconds=None)
    monkeypatch.setattr(rllib._Loop, "_iterate", original)
    assert (out / "policies" / "manifest.json").is_file()
    assert json.loads((out / "training.json").read_text())["status"] == "interrupted"
    checkpoint = CheckpointStore(out).latest()
    assert checkpoint.directory.name == "ckpt-000002"  # one per iteration
    assert checkpoint.progress["iterations"] == 2
    at_stop = checkpoint.policies()
    shutil.copytree(out, copy)

    result = _train(out, 4, options, resume=True)
    assert [h["iteration"] for h in result.history] == [1, 2, 3, 4]
    assert result.history[:2] == checkpoint.history
    steps = [h["timesteps"] for h in result.history]
    assert steps == sorted(steps) and steps[2] > steps[1]  # RLlib's counters continued
    assert not _same(result.policies, at_stop)

    # Resuming with the budget already used restores the saved weights exactly.
    same = _train(copy, 2, options, resume=True)
    assert len(same.history) == 2 and _same(same.policies, at_stop)

    # A checkpoint of another run is refused before any training.
    with pytest.raises(CheckpointError, match="different run"):
        _train(copy, 4, {**options, "lr": 1e-3}, resume=True)


# ------------------------------------------------------------------ options, no Ray needed
@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True])
def test_checkpoint_every_iterations_is_checked(value):
    with pytest.raises(ConfigError, match="checkpoint_every_iterations must be None or an int"):
        rllib.resolve_options({"checkpoint_every_iterations": value})


def test_phantom_checkpoint_freq_maps_onto_the_backend_option(monkeypatch):
    seen = {}
    monkeypatch.setattr(ph_rllib, "_train", lambda *a, **kw: seen.update(kw))
    ph_rllib.train(env_class="models:DelayedTurnEnv", policies=POLICIES, iterations=3,
                   checkpoint_freq=2)  # fmt: skip
    assert seen["options"]["checkpoint_every_iterations"] == 2
    ph_rllib.train(env_class="models:DelayedTurnEnv", policies=POLICIES, iterations=3,
                   checkpoint_freq=0)  # fmt: skip
    assert "checkpoint_every_iterations" not in seen["options"]


@pytest.mark.parametrize("value", [-1, 2.0, "5", True])
def test_phantom_checkpoint_freq_must_be_a_count(value):
    with pytest.raises(ConfigError, match="checkpoint_freq must be an int >= 1"):
        ph_rllib.train(
            env_class="models:DelayedTurnEnv", policies=POLICIES, iterations=3,
            checkpoint_freq=value,
        )  # fmt: skip
