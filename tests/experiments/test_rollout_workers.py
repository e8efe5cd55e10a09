"""ph.rollout(num_workers=N): the same episodes, in the same order, on workers as here."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from models import ConstantPolicy, PingEnv, TurnEnv

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import ActionError, ConfigError, DependencyNotInstalled
from phantomzoo.experiments import ray_workers
from phantomzoo.experiments.units import RolloutPlan, WorkUnit, plan_units
from phantomzoo.experiments.workers import RolloutWorkerError, run_units
from phantomzoo.metrics import SimpleAgentMetric
from phantomzoo.ranges import ListRange
from phantomzoo.training import ray_local

HEURISTIC = {"SHOP": (OrderUpToPolicy, {"level": 25})}
STOCK = {"SHOP/stock": SimpleAgentMetric("SHOP", "stock", "mean")}
GRID = {"cost_of_carry": ListRange([0.1, 0.5])}


class NoisyPolicy(ph.Policy):
    """Samples its action from the rollout's generator when exploring (else 0)."""

    def compute_actions(self, observations, rng=None):
        return [0 if rng is None else int(rng.integers(4)) for _ in observations]


class BadPolicy(ph.Policy):
    """Returns no action at all: the worker's ActionError must reach the caller."""

    def compute_actions(self, observations, rng=None):
        return []


class DyingPolicy(ph.Policy):
    """Kills its process: the pool breaks and the caller gets a RolloutWorkerError."""

    def compute_actions(self, observations, rng=None):
        os._exit(3)


class LockedPolicy(ph.Policy):
    """Holds a lock, which cannot be pickled to a worker process."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()

    def compute_action(self, observation):
        return 1


def tag_with_pid(env, rollout):
    """Episode hook (the telemetry hook): runs where the episode was played."""
    rollout.metrics["pid"] = os.getpid()
    rollout.metrics["steps_seen"] = len(rollout.steps)


def _supply(**kwargs):
    return ph.rollout(
        "supply_chain_v0",
        env_config=GRID,
        custom_policy_mapping=HEURISTIC,
        num_repeats=3,
        metrics=STOCK,
        show_progress_bar=False,
        **kwargs,
    )


@pytest.mark.parametrize("batch_size", [None, 1, 2])
def test_process_pool_gives_the_in_process_rollouts_in_order(batch_size):
    here = _supply(batch_size=batch_size)
    there = _supply(batch_size=batch_size, num_workers=2, backend="processes")
    assert [(r.rollout_id, r.repeat_id) for r in there] == [
        (i, j) for i in range(2) for j in range(3)
    ]
    assert there == here
    assert there[0].metrics["SHOP/stock"].shape == (100,)
    assert there[1] != there[0]  # the check can fail: repeats differ


def test_batch_size_does_not_change_deterministic_episodes():
    assert _supply(batch_size=1) == _supply()


def test_staged_env_with_messages_on_workers():
    kwargs = dict(
        custom_policy_mapping={"A": (ConstantPolicy, {"value": 2}), "B": ConstantPolicy},
        num_repeats=2,
        record_messages=True,
        show_progress_bar=False,
    )
    here = ph.rollout(TurnEnv, **kwargs)
    there = ph.rollout(TurnEnv, num_workers=2, backend="processes", batch_size=1, **kwargs)
    assert there == here
    assert there[0].actions_for_agent("A") == [2, None, 2, None, 2, None]
    pings = ph.rollout(PingEnv, custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
                       record_messages=True, num_workers=1, backend="processes",
                       show_progress_bar=False)  # fmt: skip
    assert [type(m.payload).__name__ for m in pings[0].steps[0].messages] == [
        "Ping", "Ping", "Pong", "Pong",
    ]  # fmt: skip


def test_explore_draws_do_not_depend_on_the_workers():
    kwargs = dict(
        custom_policy_mapping={"A": NoisyPolicy, "B": NoisyPolicy},
        env_config={"num_steps": ListRange([6, 8])},
        num_repeats=2,
        explore=True,
        seed=5,
        batch_size=1,
        show_progress_bar=False,
    )
    here = ph.rollout(TurnEnv, **kwargs)
    there = ph.rollout(TurnEnv, num_workers=2, backend="processes", **kwargs)
    assert there == here
    actions = [tuple(r.actions_for_agent("A", drop_nones=True)) for r in here]
    assert len(set(actions)) > 1  # units draw from their own generators
    again = ph.rollout(TurnEnv, **{**kwargs, "seed": 6})
    assert again != here


def test_progress_bar_counts_finished_configurations(capsys):
    pytest.importorskip("tqdm")
    ph.rollout("supply_chain_v0", env_config=GRID, custom_policy_mapping=HEURISTIC,
               num_repeats=2, batch_size=1, num_workers=2, backend="processes")  # fmt: skip
    err = capsys.readouterr().err
    assert "rollouts" in err and "2/2" in err and "4/4" not in err


def test_episode_hook_runs_in_the_worker_and_travels_back():
    plan = RolloutPlan("supply_chain_v0", None, HEURISTIC, on_episode_end=tag_with_pid)
    units = plan_units([({}, {}), ({}, {})], num_repeats=1, batch_size=None)
    seen: list[WorkUnit] = []
    rollouts = run_units(plan, units, num_workers=2, backend="processes",
                         on_done=lambda unit, _: seen.append(unit))  # fmt: skip
    assert {r.metrics["pid"] for r in rollouts} != {os.getpid()}
    assert [r.metrics["steps_seen"] for r in rollouts] == [100, 100]
    assert sorted(u.rollout_id for u in seen) == [0, 1]


def test_a_worker_error_is_raised_here():
    with pytest.raises(ActionError, match="0 action"):
        ph.rollout(TurnEnv, custom_policy_mapping={"A": BadPolicy, "B": ConstantPolicy},
                   num_workers=1, backend="processes", show_progress_bar=False)  # fmt: skip


def test_a_dead_worker_is_a_rollout_worker_error():
    with pytest.raises(RolloutWorkerError, match="worker process died.*configuration 0"):
        ph.rollout(TurnEnv, custom_policy_mapping={"A": DyingPolicy, "B": ConstantPolicy},
                   num_workers=1, backend="processes", show_progress_bar=False)  # fmt: skip


def test_what_cannot_reach_a_worker_is_refused_before_it_starts(ping_env):
    policy = LockedPolicy(ping_env.observation_space("A"), ping_env.action_space("A"))
    with pytest.raises(ConfigError, match="cannot be sent to worker processes.*num_workers=0"):
        ph.rollout(PingEnv, custom_policy_mapping={"A": policy, "B": ConstantPolicy},
                   num_workers=2, backend="processes", show_progress_bar=False)  # fmt: skip
    (played,) = ph.rollout(PingEnv, custom_policy_mapping={"A": policy, "B": ConstantPolicy},
                           show_progress_bar=False)  # fmt: skip
    assert played.actions_for_agent("A")[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_workers": -1}, r"num_workers must be an int >= 0"),
        ({"num_workers": 1.5}, r"num_workers must be an int >= 0"),
        ({"num_workers": 2, "backend": "threads"}, r"backend must be one of \['auto', 'ray'"),
        ({"backend": "processes", "address": "auto"}, r"address= names a Ray cluster"),
        ({"address": ""}, r"address must be a Ray cluster address"),
        ({"batch_size": 0}, r"batch_size must be an int >= 1"),
        ({"seed": -1}, r"seed must be an int >= 0"),
    ],
)
def test_bad_worker_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.rollout("supply_chain_v0", custom_policy_mapping=HEURISTIC, **kwargs)


def test_missing_policies_are_refused_before_workers_start():
    with pytest.raises(ConfigError, match=r"no policy for agent\(s\) \['SHOP'\]"):
        ph.rollout("supply_chain_v0", num_workers=2, backend="processes")


def test_ray_backend_without_ray_names_the_extra(monkeypatch):
    real = ray_workers.importlib.import_module

    def no_ray(name, *args):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real(name, *args)

    monkeypatch.setattr(ray_workers.importlib, "import_module", no_ray)
    with pytest.raises(DependencyNotInstalled, match=r"phantomzoo\[rllib\].*backend='processes'"):
        ph.rollout("supply_chain_v0", custom_policy_mapping=HEURISTIC, num_workers=2,
                   backend="ray", show_progress_bar=False)  # fmt: skip


def test_importing_and_rolling_out_does_not_import_ray(tmp_path):
    program = (
        "import sys, phantomzoo as ph\n"
        "from phantomzoo.envs.supply_chain import OrderUpToPolicy\n"
        "ph.rollout('supply_chain_v0', custom_policy_mapping={'SHOP': (OrderUpToPolicy, "
        "{'level': 5})}, show_progress_bar=False)\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_ray_workers_give_the_in_process_rollouts(monkeypatch):
    """On a private Ray instance started (and stopped) by the rollout; when the test
    session already runs Ray (the rllib tests start one), in a fresh interpreter."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        program = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "import test_rollout_workers as t, ray\n"
            "assert t._supply(num_workers=2, backend='ray', batch_size=1) == t._supply()\n"
            "assert not ray.is_initialized()\n"
        )
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                              timeout=300, check=False, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return
    made: list[str] = []
    mkdtemp = ray_local.tempfile.mkdtemp

    def recorded(*args, **kwargs):
        made.append(mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ray_local.tempfile, "mkdtemp", recorded)
    there = _supply(num_workers=2, backend="ray", batch_size=1)
    assert there == _supply()
    assert not ray.is_initialized()  # the private instance stopped with the rollout
    assert len(made) == 1 and not Path(made[0]).exists()  # and its temp dir is gone


def test_ray_workers_reuse_the_callers_ray_session(monkeypatch):
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        pytest.skip("runs where the test session already started Ray (after the rllib tests)")
    assert _supply(num_workers=2, backend="ray") == _supply()
    assert ray.is_initialized()  # the caller's session is left running
