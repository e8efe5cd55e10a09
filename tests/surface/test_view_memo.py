"""Environment views built once per step (and stage) and shared by episodes: still the
right values at every step, and bounded by VIEW_MEMO_LIMIT."""

from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
import phantomzoo.adapter as adapter_module
import phantomzoo.fsm as fsm_module
from phantomzoo.stages import FSMEnvView
from phantomzoo.views import EnvView


def _play_parallel(env, seed):
    """The env view seen after every step of one episode."""
    env.reset(seed=seed)
    seen = [env.env_view]
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
        seen.append(env.env_view)
    return seen


def test_parallel_views_right_and_shared_between_episodes():
    env = ph.make("supply_chain_v0", num_shops=2, num_steps=7)
    first, second = _play_parallel(env, 0), _play_parallel(env, 1)
    assert first == [EnvView(t, t / 7) for t in range(8)]
    assert type(first[3]) is EnvView
    assert all(a is b for a, b in zip(first, second))


def _play_staged(env, seed):
    env.reset(seed=seed)
    seen = [env.env_view]
    for _ in env.agent_iter():
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else np.array([0.0], np.float32))
        seen.append(env.env_view)
    return seen


def test_staged_views_carry_step_and_stage_and_are_shared():
    env = ph.make("digital_ads_v0", advertisers_per_family=1, num_steps=3)
    first, second = _play_staged(env, 0), _play_staged(env, 1)
    assert first == second
    assert all(a is b for a, b in zip(first, second))
    stages = {(v.current_step, v.current_stage) for v in first}
    assert {(1, "advertiser"), (3, "advertiser"), (6, "publisher")} <= stages
    for view in first:
        assert type(view) is FSMEnvView
        assert view.proportion_time_elapsed == view.current_step / 6


@pytest.mark.parametrize("staged", [False, True])
def test_views_past_the_memo_limit_are_built_each_time(monkeypatch, staged):
    monkeypatch.setattr(adapter_module, "VIEW_MEMO_LIMIT", 2)
    monkeypatch.setattr(fsm_module, "VIEW_MEMO_LIMIT", 2)
    if staged:
        env = ph.make("digital_ads_v0", advertisers_per_family=1, num_steps=3)
        first, second = _play_staged(env, 0), _play_staged(env, 1)
        assert len(env._stage_views) == 2
    else:
        env = ph.make("supply_chain_v0", num_shops=1, num_steps=5)
        first, second = _play_parallel(env, 0), _play_parallel(env, 1)
        assert len(env._step_views) == 2
        assert first == [EnvView(t, t / 5) for t in range(6)]
    assert first == second
    assert first[-1] is not second[-1]  # past the limit: a new (equal) view each time
