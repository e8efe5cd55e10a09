"""ph.branch / ph.branch_many: an episode played identically up to step k, then changed
(policies, agents' types, env attributes, forced actions); every bundled model, parallel
and staged; the steps before k never differ; every bad argument is a typed error."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from models import ConstantPolicy, PingEnv, TurnEnv
from replay_models import BUNDLED, STAGED, BonusPingEnv, SkillPolicy, bundled_rollouts

import phantomzoo as ph
from phantomzoo.errors import ConfigError, StepIndexError, SupertypeError, TrainingError
from phantomzoo.experiments.branch import Branch

SKILLED = {"A": SkillPolicy, "B": SkillPolicy}


def _bonus(**kwargs) -> ph.Rollout:
    return ph.rollout(
        BonusPingEnv,
        custom_policy_mapping=SKILLED,
        record_messages=True,
        show_progress_bar=False,
        **kwargs,
    )[0]


def _first_acting(rollout: ph.Rollout, k: int):
    return next(iter(rollout.steps[k].actions))


def _other_action(env, agent_id, action):
    """An action of ``agent_id`` different from ``action`` (and legal for the toys)."""
    space = env.action_space(agent_id)
    if hasattr(space, "n"):  # ordering nothing is always legal in the mask toy
        return 0 if int(action) != 0 else 1
    low, high = space.low.astype(float), space.high.astype(float)
    value = np.asarray(action, dtype=float)
    return np.where(value > (low + high) / 2, low, high).astype(space.dtype)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_a_branch_without_change_plays_the_recording_again(name):
    (recorded,) = bundled_rollouts(name)
    k = len(recorded.steps) // 2
    same = ph.branch(recorded, at_step=k)
    assert same == recorded
    assert ph.diff(recorded, same).first_divergent_step is None


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_a_forced_action_diverges_at_k_and_not_before(name):
    (recorded,) = bundled_rollouts(name)
    k = 3
    agent = _first_acting(recorded, k)
    model = _model(name)
    forced = _other_action(model, agent, recorded.steps[k].actions[agent])
    branched = ph.branch(recorded, at_step=k, actions={agent: forced})
    assert branched.steps[:k] == recorded.steps[:k]
    diff = ph.diff(recorded, branched)
    assert diff.first_divergent_step == k
    assert diff.first_difference.field == "actions" and diff.first_difference.agent_id == agent
    assert np.array_equal(np.asarray(branched.steps[k].actions[agent]), np.asarray(forced))
    assert (all(s.stage is not None for s in branched.steps)) == (name in STAGED)


def _model(name):
    from phantomzoo.training.api import resolve_env

    return resolve_env(name, BUNDLED[name][0]).make()


def test_branching_a_staged_model_at_each_step_keeps_the_prefix():
    (recorded,) = bundled_rollouts("supply_chain_paper_v0")
    model = _model("supply_chain_paper_v0")
    specs = []
    for k in range(0, len(recorded.steps), 3):
        agent = _first_acting(recorded, k)
        action = _other_action(model, agent, recorded.steps[k].actions[agent])
        specs.append(Branch(k, actions={agent: action}))
    for spec, branched in zip(specs, ph.branch_many(recorded, specs)):
        assert branched.steps[: spec.at_step] == recorded.steps[: spec.at_step]
        assert ph.diff(recorded, branched).first_divergent_step == spec.at_step


def test_agent_types_change_what_the_agents_observe_and_do_from_k():
    recorded = _bonus()
    skills = {a: float(recorded.steps[0].observations[a][-1]) for a in ("A", "B")}
    flipped = {a: {"skill": 0.1 if s > 0.5 else 0.9} for a, s in skills.items()}
    branched = ph.branch(recorded, at_step=2, agent_types=flipped)
    assert branched.steps[:2] == recorded.steps[:2]
    for step in branched.steps[2:]:
        for agent_id, fields in flipped.items():
            assert step.observations[agent_id][-1] == pytest.approx(fields["skill"])
            assert step.actions[agent_id] == (3 if fields["skill"] > 0.5 else 1)
    diff = ph.diff(recorded, branched)
    assert diff.first_divergent_step == 2 and diff.first_difference.field == "observations"
    assert diff.return_differences != {"A": 0.0, "B": 0.0}


def test_agent_types_of_a_staged_bundled_model():
    (recorded,) = bundled_rollouts("supply_chain_paper_v0")
    agent = "SHOP1"
    branched = ph.branch(recorded, at_step=4, agent_types={agent: {"cost_of_carry": 5.0}})
    assert branched.steps[:4] == recorded.steps[:4]
    diff = ph.diff(recorded, branched)
    assert diff.first_divergent_step == 4
    later = [s for s in branched.steps[4:] if agent in s.observations]
    assert later and all(s.observations[agent][-1] == pytest.approx(5.0) for s in later)


def test_env_config_changes_an_env_attribute_from_k():
    recorded = _bonus()
    branched = ph.branch(recorded, at_step=3, env_config={"bonus": 10.0})
    assert [s.rewards for s in branched.steps[:3]] == [s.rewards for s in recorded.steps[:3]]
    for a, b in zip(recorded.steps[3:], branched.steps[3:]):
        assert b.rewards == {agent: r + 10.0 for agent, r in a.rewards.items()}
    diff = ph.diff(recorded, branched)
    assert diff.return_differences == {"A": 30.0, "B": 30.0}  # 3 steps of +10
    assert diff.first_difference.field == "rewards"


def test_policies_replace_an_agents_policy_from_k():
    recorded = _bonus()
    branched = ph.branch(recorded, at_step=2, policies={"A": (ConstantPolicy, {"value": 0})})
    assert [s.actions["A"] for s in branched.steps[2:]] == [0] * 4
    assert [s.actions["B"] for s in branched.steps] == [s.actions["B"] for s in recorded.steps]
    env = BonusPingEnv()
    trained = ph.MLPPolicy(  # a trained policy (every backend's load as MLPPolicy)
        env.observation_space("B"),
        env.action_space("B"),
        layers=[],
        head=(np.zeros((2, 4)), np.array([0.0, 0.0, 5.0, 0.0])),  # always action 2
    )
    with_mlp = ph.branch(recorded, at_step=1, policies={"B": trained})
    assert [s.actions["B"] for s in with_mlp.steps[1:]] == [2] * 5


def test_branch_many_equals_the_branches_one_by_one():
    recorded = _bonus()
    specs = [
        Branch(1, env_config={"bonus": 1.0}),
        Branch(2, agent_types={"A": {"skill": 0.95}}),
        Branch(3, actions={"B": 0}, policies={"A": (ConstantPolicy, {"value": 2})}),
        Branch(0),
    ]
    together = ph.branch_many(recorded, specs)
    alone = [
        ph.branch(
            recorded,
            s.at_step,
            policies=s.policies,
            agent_types=s.agent_types,
            env_config=s.env_config,
            actions=s.actions,
        )
        for s in specs
    ]
    assert together == alone
    assert together[3] == recorded


def test_a_branch_replays_and_branches_again():
    recorded = _bonus()
    first = ph.branch(recorded, at_step=2, env_config={"bonus": 5.0})
    assert ph.replay(first) == first  # the change is replayed at its step
    second = ph.branch(first, at_step=4, actions={"A": 0})
    assert second.steps[:4] == first.steps[:4]
    assert second.steps[4].rewards["A"] == 5.0  # the earlier change still holds


def test_a_pickled_rollout_branches_with_env_and_policies_given():
    loaded = pickle.loads(pickle.dumps(_bonus()))
    with pytest.raises(ConfigError, match="does not carry the env"):
        ph.branch(loaded, at_step=1)
    with pytest.raises(ConfigError, match=r"no policy for agent\(s\) \['A', 'B'\]"):
        ph.branch(loaded, at_step=1, env=BonusPingEnv)
    branched = ph.branch(loaded, at_step=1, env=BonusPingEnv, policies=SKILLED)
    assert branched == loaded


def test_a_staged_toy_forces_only_the_agents_acting_at_k():
    recorded = ph.rollout(
        TurnEnv,
        custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
        show_progress_bar=False,
    )[0]
    branched = ph.branch(recorded, at_step=1, actions={"B": 3})
    assert branched.steps[1].actions == {"B": 3}
    with pytest.raises(ConfigError, match=r"'A', which does not act at step 1 .*\['B'\]"):
        ph.branch(recorded, at_step=1, actions={"A": 3})


# ------------------------------------------------------------------ errors
@pytest.fixture(scope="module")
def recorded() -> ph.Rollout:
    return _bonus()


@pytest.mark.parametrize("at_step", [-1, 6, 100])
def test_at_step_outside_the_episode(recorded, at_step):
    with pytest.raises(StepIndexError, match=rf"at_step={at_step} is outside .* 6 step\(s\)"):
        ph.branch(recorded, at_step=at_step)


def test_a_numpy_integer_step_is_accepted(recorded):
    assert ph.branch(recorded, at_step=np.int64(2)) == recorded


@pytest.mark.parametrize("at_step", [1.0, "2", True, None])
def test_at_step_not_an_int(recorded, at_step):
    with pytest.raises(ConfigError, match="at_step must be an int"):
        ph.branch(recorded, at_step=at_step)


def test_agent_types_errors(recorded):
    with pytest.raises(ConfigError, match="agent_types names 'Z', which is not an agent"):
        ph.branch(recorded, 1, agent_types={"Z": {"skill": 1.0}})
    with pytest.raises(SupertypeError, match="agent 'EA' has no supertype"):
        ph.branch(recorded, 1, agent_types={"EA": {"skill": 1.0}})
    with pytest.raises(SupertypeError, match=r"\['level'\] that TalkerType does not have.*'skill'"):
        ph.branch(recorded, 1, agent_types={"A": {"level": 1.0}})
    with pytest.raises(SupertypeError, match="cannot be read as numbers"):
        ph.branch(recorded, 1, agent_types={"A": {"skill": "high"}})
    with pytest.raises(ConfigError, match=r"agent_types\['A'\] must be a dict"):
        ph.branch(recorded, 1, agent_types={"A": 0.5})
    with pytest.raises(ConfigError, match="agent_types must be a dict"):
        ph.branch(recorded, 1, agent_types=[("A", {"skill": 1.0})])


def test_env_config_errors(recorded):
    with pytest.raises(ConfigError, match="'bonsu', which is not an attribute of BonusPingEnv"):
        ph.branch(recorded, 1, env_config={"bonsu": 1.0})
    with pytest.raises(ConfigError, match="'_private', which is not an attribute"):
        ph.branch(recorded, 1, env_config={"_private": 1.0})


def test_actions_and_policies_errors(recorded):
    with pytest.raises(ConfigError, match="actions names 'EA', which is not a strategic agent"):
        ph.branch(recorded, 1, actions={"EA": 1})
    with pytest.raises(ConfigError, match="custom_policy_mapping names 'EA'|'EA'.*not a strategic"):
        ph.branch(recorded, 1, policies={"EA": ConstantPolicy})
    with pytest.raises(ConfigError, match="must be a ph.Policy subclass"):
        ph.branch(recorded, 1, policies={"A": "greedy"})
    wrong = ph.MLPPolicy(
        PingEnv().observation_space("A"),
        PingEnv().action_space("A"),
        [],
        (np.zeros((1, 4)), np.zeros(4)),
    )
    with pytest.raises(TrainingError, match="other spaces for agent 'A'"):
        ph.branch(recorded, 1, policies={"A": wrong})


def test_branch_many_errors(recorded):
    with pytest.raises(ConfigError, match="non-empty list"):
        ph.branch_many(recorded, [])
    with pytest.raises(ConfigError, match="non-empty list"):
        ph.branch_many(recorded, Branch(1))
    with pytest.raises(ConfigError, match=r"branches\[1\] must be a Branch"):
        ph.branch_many(recorded, [Branch(1), {"at_step": 2}])
    with pytest.raises(ConfigError, match="expected a ph.Rollout"):
        ph.branch("rollout", 1)
