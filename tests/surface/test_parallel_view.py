"""The parallel view of staged models (``ph.StagedParallelEnv``): who acts, when rewards
arrive, what waiting agents observe, how the episode ends, and PettingZoo's own tests."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from models import DelayedTurnEnv, PingEnv, TurnEnv
from pettingzoo.test import parallel_api_test, parallel_seed_test
from pettingzoo.utils.conversions import aec_to_parallel, parallel_to_aec

import phantomzoo as ph
from phantomzoo.errors import ActionError, ConfigError, EpisodeOverError, NotResetError


def view(env_class=TurnEnv, **kwargs):
    return ph.StagedParallelEnv(env_class(**kwargs))


def play(env, choose, seed=0):
    """Rewards per step and the acting flags seen, with ``choose(agent, step)`` actions."""
    observations, infos = env.reset(seed=seed)
    history = []
    step = 0
    while env.agents:
        actions = {i: choose(i, step) for i in env.agents}
        observations, rewards, terms, truncs, infos = env.step(actions)
        history.append((rewards, {i: info["acting"] for i, info in infos.items()}))
        step += 1
    return history


def test_every_live_agent_appears_every_step_and_acting_says_whose_action_counts():
    env = view()
    observations, infos = env.reset(seed=0)
    assert env.agents == ["A", "B"] and set(observations) == {"A", "B"}
    assert {i: info["acting"] for i, info in infos.items()} == {"A": True, "B": False}
    assert env.acting_agents == ["A"]
    observations, rewards, terms, truncs, infos = env.step({"A": 2, "B": 3})
    assert set(observations) == set(rewards) == set(terms) == set(truncs) == {"A", "B"}
    assert {i: info["acting"] for i, info in infos.items()} == {"A": False, "B": True}
    assert env.acting_agents == ["B"]


def test_actions_of_waiting_agents_are_ignored_and_may_be_left_out():
    def fixed(agent, step):
        return 2

    def noisy(agent, step):  # B's actions differ only on A's steps, where B waits
        return 2 if (agent == "A" or step % 2 == 1) else 3

    assert play(view(), fixed) == play(view(), noisy)
    env = view()
    env.reset(seed=0)
    env.step({"A": 1})  # B is not acting: its action may be omitted
    env.step({"B": 1})


def test_waiting_agents_observe_their_own_current_observation():
    env = view()
    env.reset(seed=0)
    observations = env.step({"A": 3, "B": 0})[0]
    assert observations["A"][0] == 3.0  # A's own Pong, although A waits now
    assert observations["B"][0] == 0.0  # B has not pinged yet
    observations = env.step({"A": 0, "B": 2})[0]
    assert observations["A"][0] == 3.0 and observations["B"][0] == 2.0


def test_rewards_arrive_as_they_accrue_and_sum_to_the_aec_totals():
    env = view(DelayedTurnEnv)
    env.reset(seed=0)
    # stage "a" rewards nobody; "b" rewards A and B for their latest actions
    assert env.step({"A": 3})[1] == {"A": 0.0, "B": 0.0}
    assert env.step({"B": 2})[1] == {"A": 3.0, "B": 2.0}  # A's reward while B acts
    history = play(view(DelayedTurnEnv), lambda agent, step: 1 + step % 3)
    totals = {i: sum(rewards[i] for rewards, _ in history) for i in ("A", "B")}

    aec = DelayedTurnEnv()
    aec.reset(seed=0)
    aec_totals = dict.fromkeys(("A", "B"), 0.0)
    step = 0
    while aec.agents:
        agent = aec.agent_selection
        _, reward, term, trunc, _ = aec.last()
        aec_totals[agent] += reward
        if term or trunc:
            aec.step(None)
            continue
        aec.step(1 + step % 3)
        if aec.agent_selection != agent or not aec.agents:
            step += 1
    assert totals == aec_totals


def test_the_episode_ends_with_every_agent_truncated_and_then_refuses_steps():
    env = view(num_steps=4)
    env.reset(seed=0)
    for _ in range(3):
        *_, truncs, _ = env.step({"A": 1, "B": 1})
        assert not any(truncs.values())
    observations, _, terms, truncs, _ = env.step({"A": 1, "B": 1})
    assert truncs == {"A": True, "B": True} and terms == {"A": False, "B": False}
    assert set(observations) == {"A", "B"} and env.agents == []
    with pytest.raises(EpisodeOverError):
        env.step({})


def test_bad_actions_and_misuse_get_typed_errors():
    env = view()
    with pytest.raises(NotResetError, match="reset"):
        env.step({"A": 1})
    env.reset(seed=0)
    with pytest.raises(ActionError, match=r"no action for acting agents \['A'\]"):
        env.step({"B": 1})
    with pytest.raises(ActionError, match=r"not live agents.*live agents are \['A', 'B'\]"):
        env.step({"A": 1, "EA": 1})
    with pytest.raises(ActionError, match="dict of actions"):
        env.step([1, 1])
    with pytest.raises(ConfigError, match="already is a ParallelEnv"):
        ph.StagedParallelEnv(PingEnv())
    with pytest.raises(ConfigError, match="pass a ph.FiniteStateMachineEnv"):
        ph.StagedParallelEnv("TurnEnv")


def test_model_attributes_render_and_spaces_come_from_the_staged_env():
    staged = TurnEnv()
    env = ph.StagedParallelEnv(staged)
    env.reset(seed=0)
    assert env.network is staged.network and env.current_stage == "a"
    assert env.observation_space("A") is staged.observation_space("A")
    assert env.action_space("B") is staged.action_space("B")
    assert env.metadata["is_parallelizable"] and not staged.metadata["is_parallelizable"]
    with pytest.raises(AttributeError):
        _ = env.no_such_attribute
    with pytest.raises(NotImplementedError, match="defines no global state"):
        env.state()


@pytest.mark.parametrize("env_class", [TurnEnv, DelayedTurnEnv])
def test_pettingzoo_parallel_tests_pass_on_the_view(env_class):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(view(env_class), num_cycles=20)
        parallel_seed_test(lambda: view(env_class), num_cycles=20)
        # and back to AEC, through PettingZoo's own converter
        aec = parallel_to_aec(view(env_class))
        aec.reset(seed=0)
        for agent in aec.agent_iter(max_iter=10):
            *_, term, trunc, _ = aec.last()
            aec.step(None if term or trunc else aec.action_space(agent).sample())


def test_pettingzoos_aec_to_parallel_refuses_staged_envs_by_design():
    """A stage's acting agents are a subset of the live ones, so PettingZoo's converter
    (one turn per live agent per cycle) would misplay them; the view is the parallel form."""
    with pytest.raises(AssertionError, match="not generally safe"):
        aec_to_parallel(TurnEnv())


def test_the_bundled_staged_views_train_through_supersuit_vector_envs():
    supersuit = pytest.importorskip("supersuit")
    from phantomzoo.envs import supply_chain_paper_v0

    env = supply_chain_paper_v0.parallel_env(num_shops=2, customers_per_shop=2, max_cycles=5)
    vec = supersuit.pettingzoo_env_to_vec_env_v1(env)
    observations, _ = vec.reset(seed=0)
    assert observations.shape[0] == 2
    actions = np.stack([env.action_space(i).sample() for i in env.possible_agents])
    observations, rewards, terms, truncs, _ = vec.step(actions)
    assert rewards.shape == (2,) and np.isfinite(rewards).all()


def test_telemetry_set_on_the_view_logs_the_staged_envs_episode(tmp_path):
    staged = TurnEnv()
    env = ph.StagedParallelEnv(staged)
    env.telemetry = ph.Telemetry(tmp_path / "log.jsonl")
    assert staged.telemetry is env.telemetry
    env.reset(seed=0)
    while env.agents:
        env.step({i: 1 for i in env.agents})
    env.telemetry.close()
    kinds = [r["kind"] for r in ph.telemetry.read_records(tmp_path / "log.jsonl")]
    assert kinds.count("step") == 6 and "message" in kinds and "stage" in kinds
