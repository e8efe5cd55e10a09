"""One contract for every registered backend (parametrised by ``available_backends()``).

Each test runs once per backend through the ``backend``/``train_tiny`` fixtures of
``conftest.py``; a backend whose packages are not installed is skipped, and a backend
registered later is tested without editing this file.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from models import ConstantPolicy

import phantomzoo as ph
from phantomzoo.backends import load_backend, register_backend
from phantomzoo.backends._common import HISTORY_KEYS
from phantomzoo.errors import (
    ConfigError,
    DependencyNotInstalled,
    RegistryError,
    TrainingInterrupted,
)
from phantomzoo.training import api as training
from phantomzoo.training.trained import MLPPolicy

torch = pytest.importorskip("torch")

SHOP = {"shop": ["SHOP"]}
#: Seconds a backend may run past ``max_seconds`` (it finishes the update in progress;
#: RLlib's first train() call builds its learner).
OVERRUN = {"cleanrl": 2.0, "sb3": 3.0, "rllib": 20.0}


def _weights(result) -> dict[str, dict[str, np.ndarray]]:
    return {
        p: policy.arrays()
        for p, policy in result.policies.policies.items()
        if isinstance(policy, MLPPolicy)
    }


# ----------------------------------------------------------------- module contract
def test_module_declares_the_contract(backend):
    module = load_backend(backend)
    assert callable(module.train)
    assert isinstance(module.OPTIONS, frozenset) and "max_seconds" in module.OPTIONS
    assert callable(module.check_options)
    assert module.SUPPORTS_CHECKPOINTS is True
    with pytest.raises(ConfigError, match=r"max_seconds must be None or a number > 0, got -1"):
        module.check_options({"max_seconds": -1})


def test_bad_option_is_refused_before_the_results_directory(backend, train_tiny, tmp_path):
    with pytest.raises(ConfigError, match="max_seconds must be None or a number > 0"):
        train_tiny("supply_chain_v0", SHOP, options={"max_seconds": "soon"})
    with pytest.raises(ConfigError, match=r"does not accept option\(s\) \['no_such_option'\]"):
        train_tiny("supply_chain_v0", SHOP, options={"no_such_option": 1})
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------ manifest and history
def test_manifest_and_history_schema(backend, train_tiny, tmp_path):
    threads = torch.get_num_threads()
    metrics = {"SHOP/sales": ph.metrics.SimpleAgentMetric("SHOP", "sales", "sum")}
    result = train_tiny("supply_chain_v0", SHOP, iterations=3, metrics=metrics)
    assert torch.get_num_threads() == threads  # torch's settings are restored
    assert result.backend == backend and result.results_dir == tmp_path / "run"
    manifest = json.loads((tmp_path / "run" / "policies" / "manifest.json").read_text())
    assert manifest["format"] == "phantomzoo-policies"
    assert manifest["agent_to_policy"] == [["SHOP", "shop"]]
    record = json.loads((tmp_path / "run" / "training.json").read_text())
    assert record["status"] == "finished" and record["backend"] == backend
    assert len(record["history"]) == len(result.history)
    assert isinstance(result.policies["shop"], MLPPolicy)
    rows = result.history
    assert [row["iteration"] for row in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["iteration"] >= 3 or backend == "sb3"  # sb3 counts rollouts per policy
    for before, row in zip([None, *rows], rows):
        assert set(row) >= HISTORY_KEYS, sorted(HISTORY_KEYS - set(row))
        assert isinstance(row["episodes"], int) and row["episodes"] >= 0
        assert row["timesteps"] > (before["timesteps"] if before else 0)
        assert row["seconds"] > 0
        if row["episodes"]:
            assert row["episode_length"] == 100  # the supply chain's episodes
            assert row["metrics"]["SHOP/sales"] > 0 and "shop" in row["returns"]
        else:
            assert row["episode_length"] is None
    # ``episodes`` are those finished in each iteration, not a running total.
    finished = sum(row["episodes"] for row in rows)
    assert finished == pytest.approx(rows[-1]["timesteps"] / 100, abs=len(rows) * 4 + 4)


# ----------------------------------------------------------------------- budgets
def test_wall_time_budget_is_honoured(backend, train_tiny):
    started = time.perf_counter()
    result = train_tiny("supply_chain_v0", SHOP, iterations=10**6, options={"max_seconds": 1.0})
    wall = time.perf_counter() - started
    assert len(result.history) < 10**6
    assert result.history[-1]["seconds"] < 1.0 + OVERRUN[backend]
    assert wall < 1.0 + OVERRUN[backend] + 5.0  # plus setup: envs, models, Ray actors


def test_timesteps_budget_is_reached(backend, train_tiny):
    result = train_tiny("supply_chain_v0", SHOP, timesteps=300)
    assert result.history[-1]["timesteps"] >= 300


# ----------------------------------------------------------------- reproducibility
def test_same_seed_same_result(backend, train_tiny, tmp_path):
    if not getattr(load_backend(backend), "REPRODUCIBLE", False):
        pytest.skip(f"{backend} does not promise same seed -> same result")
    first, again, other = (
        train_tiny("supply_chain_v0", SHOP, seed=seed, results_dir=tmp_path / str(n))
        for n, seed in enumerate((3, 3, 4))
    )
    a, b, c = _weights(first), _weights(again), _weights(other)
    for name, array in a["shop"].items():
        np.testing.assert_array_equal(array, b["shop"][name], err_msg=name)
    assert any(not np.array_equal(a["shop"][n], c["shop"][n]) for n in a["shop"])
    assert [r["returns"] for r in first.history] == [r["returns"] for r in again.history]


# -------------------------------------------------------- mappings and env kinds
def test_fixed_and_learnt_policies_in_a_parallel_env(backend, train_tiny):
    from phantomzoo.envs.supply_chain import OrderUpToPolicy

    policies = {"learnt": ["SHOP1"], "fixed": (OrderUpToPolicy, ["SHOP2"], {"level": 25})}
    result = train_tiny("supply_chain_v0", policies, env_config={"num_shops": 2})
    assert isinstance(result.policies["learnt"], MLPPolicy)
    assert isinstance(result.policies["fixed"], OrderUpToPolicy)
    assert set(result.history[-1]["returns"]) <= {"learnt", "fixed"}
    loaded = ph.load_policies(result.results_dir / "policies")
    assert loaded.agent_to_policy == {"SHOP1": "learnt", "SHOP2": "fixed"}


def test_staged_env_with_a_fixed_policy(backend, train_tiny):
    policies = {"a": ["A"], "b": (ConstantPolicy, ["B"], {"value": 1})}
    result = train_tiny("models:DelayedTurnEnv", policies)
    assert isinstance(result.policies["a"], MLPPolicy)
    assert result.history[-1]["timesteps"] > 0
    assert sum(row["episodes"] for row in result.history) > 0


@pytest.mark.parametrize("env", ["models:LeaderFollowerEnv", "models:TurnEnv"])
def test_staged_game_with_one_learnt_policy_per_group(backend, train_tiny, env):
    """Leaders and followers (or one policy per stage) each learn their own policy; a
    rollout may end while one group waits for its turn."""
    result = train_tiny(env, {"leaders": ["A"], "followers": ["B"]})
    assert set(result.policies.policies) == {"leaders", "followers"}
    assert all(isinstance(result.policies[p], MLPPolicy) for p in ("leaders", "followers"))
    assert set(result.history[-1]["returns"]) == {"leaders", "followers"}
    assert result.history[-1]["timesteps"] > 0


# ------------------------------------------------------------- checkpoint, resume
def test_interrupt_then_resume_reaches_the_budget(backend, train_tiny, tmp_path, monkeypatch):
    original, seen = training.TrainingJob.checkpoint_due, {"n": 0}

    def due(job):
        seen["n"] += 1
        if seen["n"] == 2:
            job.stop.request("SIGINT")
        return original(job)

    monkeypatch.setattr(training.TrainingJob, "checkpoint_due", due)
    with pytest.raises(TrainingInterrupted, match="SIGINT"):
        train_tiny("supply_chain_v0", SHOP, iterations=4)
    record = json.loads((tmp_path / "run" / "training.json").read_text())
    assert record["status"] == "interrupted"
    monkeypatch.undo()
    resumed = train_tiny("supply_chain_v0", SHOP, iterations=4, resume=True)
    rows = resumed.history
    assert [row["iteration"] for row in rows] == list(range(1, len(rows) + 1))
    assert rows[-1]["iteration"] >= 4 or backend == "sb3"
    assert all(b["timesteps"] > a["timesteps"] for a, b in zip(rows, rows[1:]))


# --------------------------------------------------------------------- registry
def test_register_backend_and_missing_dependencies(tmp_path, monkeypatch):
    from phantomzoo import backends

    (tmp_path / "needs_missing_dep_xyz.py").write_text("import phantomzoo_missing_pkg_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(backends, "BACKENDS", dict(backends.BACKENDS))
    register_backend("fancy", "needs_missing_dep_xyz", "fancy-extra")
    assert "fancy" in backends.available_backends()
    with pytest.raises(DependencyNotInstalled, match=r"pip install 'phantomzoo\[fancy-extra\]'"):
        load_backend("fancy")
    with pytest.raises(ImportError):  # also an ImportError, and a RegistryError
        load_backend("fancy")
    register_backend("ghost", "no_such_module_xyz")
    with pytest.raises(RegistryError, match="'no_such_module_xyz' is missing from this install"):
        load_backend("ghost")
    with pytest.raises(ConfigError, match="name must be a non-empty string"):
        register_backend("", "x")
    with pytest.raises(ConfigError, match="module_path must be a non-empty string"):
        register_backend("x", 3)
    with pytest.raises(ConfigError, match="extra must be None or a pip extra"):
        register_backend("x", "x", "")


def test_builtin_backends_come_from_entry_points():
    from phantomzoo import backends

    found = backends._from_entry_points()
    assert found["cleanrl"] == ("phantomzoo.backends.cleanrl", "torch")
    assert found["sb3"] == ("phantomzoo.backends.sb3", "sb3")
    assert found["rllib"] == ("phantomzoo.backends.rllib", "rllib")
