"""AEC turn bookkeeping (phantomzoo.turns): same state after every call as PettingZoo's
own helpers, which scan every agent, and a typed error for a dead agent's action."""

from __future__ import annotations

import types

import numpy as np
import pytest
from pettingzoo import AECEnv

import phantomzoo as ph
from phantomzoo.errors import ActionError

#: Small budgets: advertisers run out at different impressions (terminate mid-episode).
SMALL_BUDGETS = dict(travel_budget=(0.5, 1.0), tech_budget=(0.5, 1.5), sport_budget=(1.0, 2.0))
HELPERS = ("_clear_rewards", "_accumulate_rewards", "_deads_step_first", "_was_dead_step")


def ads_env(reference: bool, budgets: dict | None = None):
    """The ads market; ``reference`` swaps in PettingZoo's own bookkeeping helpers."""
    budgets = SMALL_BUDGETS if budgets is None else budgets
    env = ph.make("digital_ads_v0", advertisers_per_family=2, num_steps=12, **budgets)
    if reference:
        for name in HELPERS:
            setattr(env, name, types.MethodType(getattr(AECEnv, name), env))
            if name == "_accumulate_rewards":  # PettingZoo's adds every entry of rewards
                env._record_stage = types.MethodType(_reference_record, env)
    return env


def _reference_record(env, rewards, terminations, truncations):
    """What the env did before phantomzoo.turns: rebuild rewards over every agent."""
    env.rewards = {i: 0.0 for i in env.agents}
    env.rewards.update(rewards)
    env._accumulate_rewards()


def trace(env, seed: int) -> list:
    """Every turn of one episode: who is selected, what last() says, and the whole
    per-agent state after the step."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    turns = []
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        dead = terminated or truncated
        env.step(None if dead else rng.uniform(0.0, 1.0, size=(1,)).astype(np.float32))
        turns.append(
            (
                agent,
                obs.tolist(),
                reward,
                dead,
                {k: float(v) for k, v in env.rewards.items()},
                dict(env._cumulative_rewards),
                dict(env.terminations),
                dict(env.truncations),
                list(env.agents),
                env.agent_selection,
            )
        )
    return turns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_turns_as_pettingzoos_helpers(seed):
    ours, reference = trace(ads_env(False), seed), trace(ads_env(True), seed)
    assert ours == reference
    # The trace is worth comparing: rewards were paid and advertisers ended mid-episode.
    assert any(turn[2] > 0 for turn in ours)
    steps_out = [i for i, turn in enumerate(ours) if turn[3]]
    assert steps_out and steps_out[0] < len(ours) - 6


def test_same_turns_when_everyone_ends_at_once():
    """Large budgets: every advertiser is truncated at the last impression, together."""
    budgets = dict(travel_budget=(50, 60), tech_budget=(50, 60), sport_budget=(50, 60))
    ours = trace(ads_env(False, budgets), 3)
    assert ours == trace(ads_env(True, budgets), 3)
    assert sum(turn[3] for turn in ours[-6:]) == 6  # six step(None) calls in a row


def test_dead_agent_stepped_out_first_and_selection_restored():
    env = ads_env(False)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in env.agent_iter():
        if env.terminations[env.agent_selection] and len(env._dead) < len(env.agents):
            dead = list(env._dead)
            assert env.agent_selection == dead[0]
            skipped = env._skip_agent_selection
            for agent in dead:
                assert env.agent_selection == agent
                env.step(None)
                assert agent not in env.agents and agent not in env.rewards
            assert env.agent_selection == skipped and env._skip_agent_selection is None
            return
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else rng.uniform(0, 1, (1,)).astype(np.float32))
    pytest.fail("no advertiser terminated mid-episode")


def test_action_for_dead_agent_is_refused():
    env = ads_env(False)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in env.agent_iter():
        _, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            agent = env.agent_selection
            with pytest.raises(ActionError, match=r"only valid action is None.*step\(None\)"):
                env.step(np.array([0.5], dtype=np.float32))
            assert agent in env.agents  # refused before anything changed
            return
        env.step(rng.uniform(0, 1, (1,)).astype(np.float32))
    pytest.fail("no advertiser ended")


def test_agent_iter_stops_at_max_iter_and_when_agents_leave():
    env = ads_env(False)
    env.reset(seed=0)
    turns = env.agent_iter(max_iter=4)
    seen = []
    for agent in turns:
        seen.append(agent)
        env.step(np.array([0.0], dtype=np.float32))  # abstain: nobody ends early
    assert seen == env.possible_agents[:4]
    assert next(iter(turns)) == env.possible_agents[4]  # a new iteration starts afresh
    # To the end: every agent is stepped out, then the iteration stops by itself.
    reference = ads_env(True)
    for e in (env, reference):
        e.reset(seed=1)
        for _ in e.agent_iter():
            _, _, terminated, truncated, _ = e.last()
            e.step(None if terminated or truncated else np.array([0.0], dtype=np.float32))
    assert env.agents == reference.agents == []
