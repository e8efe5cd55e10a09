"""ph.replay: a recorded episode played again from its seed and actions is the same
episode (every bundled model, parallel and staged); a model that is not deterministic
given them, or a tampered recording, raises ReplayMismatchError naming step and agent."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from models import ConstantPolicy, PingEnv, TurnEnv
from replay_models import BUNDLED, STAGED, LeakyEnv, bundled_rollouts

import phantomzoo as ph
from phantomzoo.errors import ConfigError, RegistryError, ReplayMismatchError
from phantomzoo.experiments.trajectories import Step
from phantomzoo.metrics import SimpleAgentMetric

CONSTANT = {"A": (ConstantPolicy, {"value": 2}), "B": (ConstantPolicy, {"value": 3})}


def _ping(env=PingEnv, **kwargs) -> ph.Rollout:
    kwargs.setdefault("custom_policy_mapping", CONSTANT)
    return ph.rollout(env, show_progress_bar=False, record_messages=True, **kwargs)[0]


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_replay_of_every_bundled_model_equals_the_recording(name):
    rollouts = bundled_rollouts(name, num_repeats=2)
    for recorded in rollouts:
        assert recorded.seed == 7 + recorded.repeat_id
        replayed = ph.replay(recorded)
        assert replayed == recorded
        assert replayed is not recorded and replayed.steps[0] is not recorded.steps[0]
        assert ph.diff(recorded, replayed).first_divergent_step is None
    staged = all(s.stage is not None for s in rollouts[0].steps)
    assert staged == (name in STAGED)  # both kinds of model are covered
    if name not in ("type_toy_v0", "mask_toy_v0"):  # the toys send no messages
        assert sum(len(s.messages) for s in rollouts[0].steps) > 0


def test_replay_compares_and_records_metrics():
    metrics = {"A/last": SimpleAgentMetric("A", "last", "mean")}
    recorded = _ping(metrics=metrics)
    replayed = ph.replay(recorded)
    assert replayed == recorded
    np.testing.assert_array_equal(replayed.metrics["A/last"], [2.0] * 5)


def test_replay_of_a_replay_and_of_a_staged_toy():
    recorded = _ping(TurnEnv)
    assert [sorted(s.actions) for s in recorded.steps[:2]] == [["A"], ["B"]]
    again = ph.replay(ph.replay(recorded))
    assert again == recorded


def test_a_pickled_rollout_replays_with_the_env_given():
    recorded = _ping()
    loaded = pickle.loads(pickle.dumps(recorded))
    assert loaded.source is None and loaded.seed == recorded.seed and loaded == recorded
    with pytest.raises(ConfigError, match="does not carry the env that played it"):
        ph.replay(loaded)
    assert ph.replay(loaded, env=PingEnv) == recorded


def test_a_model_with_global_state_raises_naming_step_and_agent():
    recorded = _ping(LeakyEnv)
    with pytest.raises(ReplayMismatchError, match=r"at step 0, agent 'B': rewards") as info:
        ph.replay(recorded)
    assert (info.value.step, info.value.agent_id, info.value.field) == (0, "B", "rewards")
    assert "not deterministic" in str(info.value) and "ctx.rng" in str(info.value)


def test_a_tampered_reward_is_found_at_its_step():
    recorded = _ping()
    recorded.steps[3].rewards["A"] = 99.0
    with pytest.raises(
        ReplayMismatchError, match=r"step 3, agent 'A': rewards recorded=99.0"
    ) as info:
        ph.replay(recorded)
    assert info.value.step == 3


def test_a_tampered_message_is_found_and_names_its_sender():
    recorded = _ping()
    recorded.steps[2].messages.pop()
    with pytest.raises(ReplayMismatchError, match=r"step 2, agent '\w+': messages"):
        ph.replay(recorded)


def test_a_recording_cut_short_is_refused():
    recorded = _ping()
    recorded.steps = recorded.steps[:3]
    with pytest.raises(ReplayMismatchError, match="goes on after the 3 recorded step") as info:
        ph.replay(recorded)
    assert (info.value.step, info.value.field) == (3, "length")


def test_a_recording_longer_than_the_episode_is_refused():
    recorded = _ping()
    recorded.steps.append(recorded.steps[-1])
    with pytest.raises(ReplayMismatchError, match=r"step 5: length recorded=6, replayed=5"):
        ph.replay(recorded)


def test_other_acting_agents_than_recorded_are_refused():
    recorded = _ping(TurnEnv)
    recorded.steps[1].actions = {"A": 1}  # B acts at step 1
    with pytest.raises(ReplayMismatchError, match="step 1 of the replay has other acting agents"):
        ph.replay(recorded)


def test_bad_arguments_are_refused():
    with pytest.raises(ConfigError, match="expected a ph.Rollout"):
        ph.replay([_ping()])
    by_hand = ph.Rollout(0, 0, {}, {}, [Step(0, {}, {}, {}, {}, {}, {})])
    with pytest.raises(ConfigError, match="records no seed"):
        ph.replay(by_hand)
    recorded = _ping()
    with pytest.raises(RegistryError, match="nope_v0"):
        ph.replay(recorded, env="nope_v0")


def test_replaying_with_another_env_than_the_recording_is_a_mismatch():
    recorded = _ping()  # A and B act together in PingEnv; one at a time in TurnEnv
    with pytest.raises(ReplayMismatchError, match=r"recorded but not acting now: \['B'\]"):
        ph.replay(recorded, env=TurnEnv)


def test_copies_keep_the_source_and_replay():
    import copy

    recorded = _ping()
    deep = copy.deepcopy(recorded)
    assert deep == recorded and deep.source is recorded.source
    assert deep.steps[0] is not recorded.steps[0]
    assert ph.replay(deep) == recorded
    assert copy.copy(recorded).source is recorded.source


def test_sampled_actions_replay_from_the_recording():
    env = PingEnv()
    rng = np.random.default_rng(1)
    mlp = ph.MLPPolicy(
        env.observation_space("A"),
        env.action_space("A"),
        [],
        (rng.normal(size=(1, 4)), np.zeros(4)),
    )
    policies = ph.TrainedPolicies({"p": mlp}, {"A": "p", "B": "p"})
    recorded = ph.rollout(PingEnv, policies, explore=True, seed=4, show_progress_bar=False)[0]
    assert len({s.actions["A"] for s in recorded.steps}) > 1  # sampled, not greedy
    assert ph.replay(recorded) == recorded
