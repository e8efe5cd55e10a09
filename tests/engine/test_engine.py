"""The engine as an object with a PettingZoo-free API, under both environment adapters."""

from __future__ import annotations

import numpy as np
import pytest
from models import DelayedTurnEnv

import phantomzoo as ph
from phantomzoo.engine.clock import EpisodeClock
from phantomzoo.engine.core import Engine, StepOutcome
from phantomzoo.errors import ActionError, EpisodeOverError, NotResetError


def _supply_chain_network():
    return ph.make("supply_chain_v0", num_shops=2).network


def test_engine_runs_a_model_without_any_environment_class() -> None:
    engine = Engine(_supply_chain_network(), num_steps=5)
    observations, infos = engine.reset(seed=3)
    assert list(observations) == engine.acting_agents == engine.possible_agents
    steps = 0
    while engine.acting_agents:
        actions = {a: engine.action_space(a).sample() for a in engine.acting_agents}
        outcome = engine.step(actions)
        assert isinstance(outcome, StepOutcome)
        assert set(outcome.rewards) == set(actions)
        steps += 1
    assert steps == 5 and engine.episode_over
    assert all(outcome.truncations.values()) and not any(outcome.terminations.values())
    with pytest.raises(EpisodeOverError, match="call env.reset"):
        engine.step({})


def test_engine_before_reset_and_with_wrong_actions() -> None:
    engine = Engine(_supply_chain_network(), num_steps=3)
    with pytest.raises(NotResetError, match="reset"):
        engine.step({})
    engine.reset(seed=0)
    with pytest.raises(ActionError, match="no action given"):
        engine.step({})


def test_parallel_env_is_an_adapter_over_its_engine() -> None:
    env = ph.make("supply_chain_v0", num_shops=2)
    twin = Engine(ph.make("supply_chain_v0", num_shops=2).network, num_steps=env.num_steps)
    obs_env, _ = env.reset(seed=11)
    obs_engine, _ = twin.reset(seed=11)
    rng = np.random.default_rng(0)
    for _ in range(env.num_steps):
        actions = {a: env.action_space(a).sample() for a in env.agents}
        actions = {a: np.asarray(rng.uniform(0, 5, size=(1,)), np.float32) for a in actions}
        out_env = env.step(actions)
        out_engine = twin.step(actions)
        for mine, theirs in zip(out_env, out_engine):
            assert mine.keys() == theirs.keys()
        assert out_env[1] == out_engine[1]
    assert env.current_stage is None and env.engine.current_step == env.num_steps


def test_staged_env_is_an_adapter_over_its_engine() -> None:
    env = DelayedTurnEnv()
    env.acting_reset(seed=0)
    assert env.current_stage == env.engine.current_stage
    assert env.acting_agents == env.engine.acting_agents
    while env.acting_agents:
        outcome = env.acting_step({a: env.action_space(a).sample() for a in env.acting_agents})
        assert isinstance(outcome, StepOutcome)
        assert env.current_stage == env.engine.current_stage


def test_contexts_read_the_clock_not_the_environment() -> None:
    env = ph.make("supply_chain_v0")
    env.reset(seed=0)
    ctx = env.engine.context(env.possible_agents[0])
    assert isinstance(env.engine.clock, EpisodeClock)
    assert ctx.env_view is env.engine.clock.env_view and ctx.rng is env.np_random
    epoch = env.engine.clock.epoch
    env.step({a: env.action_space(a).sample() for a in env.agents})
    assert env.engine.clock.epoch > epoch and ctx.current_step == 1
    assert not hasattr(ctx, "_host")


def test_neighbour_ids_come_from_the_network_cache() -> None:
    network = ph.make("supply_chain_v0", num_shops=3).network
    engine = Engine(network, num_steps=2)
    engine.reset(seed=0)
    shop = engine.possible_agents[0]
    ctx = engine.context(shop)
    assert ctx.neighbour_ids == network.neighbours(shop)
    first = network.neighbours(shop)
    first.append("mutated")  # callers get a copy
    assert "mutated" not in network.neighbours(shop)
    assert network.by_id[shop] is network[shop]
    with pytest.raises(TypeError):
        network.by_id["X"] = None  # type: ignore[index]


@pytest.mark.parametrize("name", ["supply_chain_v0", "digital_ads_v0"])
def test_environments_pickle_and_copy_mid_episode(name: str) -> None:
    import copy
    import pickle

    env = ph.make(name)
    env.acting_reset(seed=4)
    twins = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]
    for _ in range(3):
        actions = {a: env.action_space(a).sample() for a in env.acting_agents}
        expected = env.acting_step(actions)
        for twin in twins:
            got = twin.acting_step(actions)
            assert got[1] == expected[1] and got[0].keys() == expected[0].keys()
