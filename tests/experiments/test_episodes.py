"""The one episode loop (phantomzoo.experiments.episodes.run_episodes), exercised directly."""

from __future__ import annotations

import numpy as np
import pytest
from models import Echo, PingEnv, Talker, TalkerType, TurnEnv

import phantomzoo as ph
from phantomzoo.errors import ActionError, ConfigError
from phantomzoo.experiments.episodes import (
    EpisodeRecord,
    StepRecord,
    each_copy,
    policies_act,
    run_episodes,
)
from phantomzoo.samplers import UniformFloatSampler


class Fading(Talker):
    """Terminates after ``10 * skill`` steps: episode lengths differ from seed to seed."""

    def is_terminated(self, ctx):
        return ctx.env_view.current_step >= 1 + int(10 * self.type.skill)


class FadingEnv(ph.PhantomEnv):
    """One talker whose episode length is drawn from its type at every reset."""

    def __init__(self):
        network = ph.Network(
            [
                Fading("A", "EA", TalkerType(UniformFloatSampler(0.0, 1.0))),
                Echo("EA"),
            ]
        )
        network.add_connection("A", "EA")
        super().__init__(num_steps=20, network=network)


def _count(value):
    """A one-env act playing ``value`` for every acting agent."""
    return lambda observations: dict.fromkeys(observations, value)


def _hand_loop(env, act, seed):
    """The reference: one episode played by hand over the acting protocol."""
    observations, _ = env.acting_reset(seed=seed)
    totals = dict.fromkeys(env.possible_agents, 0.0)
    steps = 0
    while env.acting_agents:
        actions = act({a: observations[a] for a in env.acting_agents})
        observations, rewards, *_ = env.acting_step(actions)
        for agent_id, reward in rewards.items():
            totals[agent_id] += float(reward)
        steps += 1
    return totals, steps


# ------------------------------------------------------------------ parallel env
def test_parallel_env_returns_match_a_hand_written_loop():
    env = PingEnv(num_steps=4)
    records = run_episodes(env, each_copy(_count(2)), seeds=[3, 4])
    assert [type(r) for r in records] == [EpisodeRecord, EpisodeRecord]
    assert [(r.episode, r.seed, r.copy, r.num_steps) for r in records] == [
        (0, 3, 0, 4),
        (1, 4, 0, 4),
    ]
    totals, steps = _hand_loop(PingEnv(num_steps=4), _count(2), 3)
    assert records[0].returns == totals and steps == 4
    assert records[0].returns == {"A": 2.0 * 4, "B": 2.0 * 4}


def test_supply_chain_returns_match_a_hand_written_loop_bit_for_bit():
    env = ph.make("supply_chain_v0", num_shops=3)
    policy = ph.policy.RandomPolicy(
        env.observation_space("SHOP1"), env.action_space("SHOP1"), seed=5
    )

    def act(observations):
        return dict(zip(observations, policy.compute_actions(list(observations.values()))))

    (record,) = run_episodes(env, each_copy(act), seeds=[11])
    policy.action_space.seed(5)
    totals, steps = _hand_loop(ph.make("supply_chain_v0", num_shops=3), act, 11)
    assert record.returns == totals and record.num_steps == steps == 100


# -------------------------------------------------------------------- staged env
def test_staged_env_steps_carry_their_stage_and_only_the_actors():
    seen: list[StepRecord] = []
    (record,) = run_episodes(TurnEnv(num_steps=6), each_copy(_count(1)), [0], seen.append)
    assert record.num_steps == 6
    assert [s.stage for s in seen] == ["a", "b"] * 3
    assert [list(s.actions) for s in seen] == [["A"], ["B"]] * 3
    assert [list(s.observations) for s in seen] == [["A"], ["B"]] * 3
    assert [s.step for s in seen] == list(range(6))
    totals, _ = _hand_loop(TurnEnv(num_steps=6), _count(1), 0)
    assert record.returns == totals


def test_paper_supply_chain_staged_returns_match_a_hand_written_loop():
    make = lambda: ph.make("supply_chain_paper_v0", num_shops=2, num_cycles=5)  # noqa: E731
    (record,) = run_episodes(make(), each_copy(_count(np.array([7.0], np.float32))), [2])
    totals, steps = _hand_loop(make(), _count(np.array([7.0], np.float32)), 2)
    assert record.returns == totals and record.num_steps == steps


# ---------------------------------------------------------------- lock-step copies
def test_copies_in_lock_step_equal_episodes_one_by_one():
    seeds = [0, 1, 2, 3, 4]
    lengths = {r.num_steps for r in run_episodes(FadingEnv(), each_copy(_count(1)), seeds)}
    assert len(lengths) > 1  # the episodes end at different steps
    one_by_one = run_episodes(FadingEnv(), each_copy(_count(1)), seeds)
    calls = []

    def act(per_copy):
        calls.append(len(per_copy))
        return [dict.fromkeys(obs, 1) for obs in per_copy]

    together = run_episodes([FadingEnv(), FadingEnv()], act, seeds)
    assert [(r.seed, r.returns, r.num_steps) for r in together] == [
        (r.seed, r.returns, r.num_steps) for r in one_by_one
    ]
    assert [r.copy for r in together] == [0, 1, 0, 1, 0]
    # One act call per lock-step step: as many as the longest episode of each wave, and
    # a copy that ended is no longer offered.
    waves = [seeds[0:2], seeds[2:4], seeds[4:5]]
    by_seed = {r.seed: r.num_steps for r in one_by_one}
    assert len(calls) == sum(max(by_seed[s] for s in wave) for wave in waves)
    assert set(calls) == {1, 2}


def test_trained_policies_serve_every_copy_in_one_call_per_policy():
    env = ph.make("supply_chain_v0", num_shops=2)
    spaces = env.observation_space("SHOP1"), env.action_space("SHOP1")
    sizes = []

    class Counting(ph.Policy):
        def compute_actions(self, observations, rng=None):
            sizes.append(len(observations))
            return [np.array([5.0], np.float32)] * len(observations)

    policies = ph.TrainedPolicies({"p": Counting(*spaces)}, {"SHOP1": "p", "SHOP2": "p"})
    copies = [ph.make("supply_chain_v0", num_shops=2) for _ in range(3)]
    records = run_episodes(copies, policies_act(policies), [0, 1, 2])
    assert sizes == [6] * 100  # 3 copies x 2 shops, one call per step
    alone = run_episodes(env, policies_act(policies), [0, 1, 2])
    assert [r.returns for r in records] == [r.returns for r in alone]


def test_exploring_policies_draw_in_copy_then_agent_order():
    env = PingEnv(num_steps=3)
    rng = np.random.default_rng(0)
    policy = _discrete_mlp(env)
    policies = ph.TrainedPolicies({"p": policy}, {"A": "p", "B": "p"})
    copies = [PingEnv(num_steps=3), PingEnv(num_steps=3)]
    actions: list[dict] = []
    run_episodes(
        copies, policies_act(policies, rng=rng), [0, 1], lambda s: actions.append(s.actions)
    )
    # The same draws, by hand: one batch per step over (copy 0: A, B; copy 1: A, B).
    replay = np.random.default_rng(0)
    observations = [c.acting_reset(seed=s)[0] for c, s in zip(copies, [0, 1])]
    expected = []
    for _ in range(3):
        batch = [observations[n][a] for n in range(2) for a in ("A", "B")]
        chosen = policy.compute_actions(batch, rng=replay)
        for n in range(2):
            step = {"A": chosen[2 * n], "B": chosen[2 * n + 1]}
            expected.append(step)
            observations[n] = copies[n].acting_step(step)[0]
    assert actions == expected


def _discrete_mlp(env):
    rng = np.random.default_rng(3)
    obs_space, action_space = env.observation_space("A"), env.action_space("A")
    layers = [(rng.normal(size=(obs_space.shape[0], 4)), rng.normal(size=4))]
    head = (rng.normal(size=(4, action_space.n)), rng.normal(size=action_space.n))
    return ph.MLPPolicy(obs_space, action_space, layers, head)


# ------------------------------------------------------------------------ on_step
def test_on_step_sees_each_step_right_after_it_with_the_env_state():
    stocks = []
    transitions: list[StepRecord] = []

    def on_step(record):
        transitions.append(record)
        stocks.append(record.env.network["SHOP"].stock)

    env = ph.make("supply_chain_v0")
    act = each_copy(_count(np.array([10.0], np.float32)))
    (record,) = run_episodes(env, act, [4], on_step)
    assert len(transitions) == record.num_steps == 100
    first = transitions[0]
    assert (first.copy, first.episode, first.seed, first.step, first.stage) == (0, 0, 4, 0, None)
    assert first.env is env and list(first.actions) == ["SHOP"]
    assert set(first.next_observations) == {"SHOP"} and set(first.rewards) == {"SHOP"}
    assert transitions[-1].truncations == {"SHOP": True}
    assert sum(t.rewards["SHOP"] for t in transitions) == pytest.approx(record.returns["SHOP"])
    assert stocks[0] > 0  # read after the first restock was delivered


def test_missing_actions_reach_the_env_which_refuses_them():
    with pytest.raises(ActionError):
        run_episodes(PingEnv(), lambda per_copy: [{} for _ in per_copy], [0])


# ------------------------------------------------------------------------ errors
def test_errors_name_what_was_wrong():
    act = each_copy(_count(1))
    with pytest.raises(ConfigError, match="needs at least one env"):
        run_episodes([], act, [0])
    with pytest.raises(ConfigError, match="needs phantomzoo envs .*got 'not an env'"):
        run_episodes("not an env", act, [0])
    env = PingEnv()
    with pytest.raises(ConfigError, match="same env object more than once"):
        run_episodes([env, env], act, [0, 1])
    with pytest.raises(ConfigError, match="needs at least one seed"):
        run_episodes(env, act, [])
    with pytest.raises(ConfigError, match="seeds must be a sequence of ints"):
        run_episodes(env, act, 3)
    for seed in (-1, 1.5, True, None, "0"):
        with pytest.raises(ConfigError, match="every seed must be an int >= 0"):
            run_episodes(env, act, [seed])


def test_act_returning_the_wrong_number_of_mappings_is_an_action_error():
    copies = [PingEnv(), PingEnv()]
    with pytest.raises(ActionError, match=r"act returned 1 action mapping\(s\) for 2 live"):
        run_episodes(copies, lambda per_copy: [{"A": 1, "B": 1}], [0, 1])
    with pytest.raises(ActionError, match="act returned NoneType; it must return a list"):
        run_episodes(PingEnv(), lambda per_copy: None, [0])


def test_a_policy_returning_too_few_actions_is_named():
    env = PingEnv()

    class Short(ph.Policy):
        def compute_actions(self, observations, rng=None):
            return [1]

    policies = ph.TrainedPolicies(
        {"short one": Short(*_spaces(env))}, {"A": "short one", "B": "short one"}
    )
    with pytest.raises(
        ActionError, match=r"policy 'short one' \(Short\).*returned 1 action\(s\) for 2"
    ):
        run_episodes(env, policies_act(policies), [0])


def _spaces(env):
    return env.observation_space("A"), env.action_space("A")
