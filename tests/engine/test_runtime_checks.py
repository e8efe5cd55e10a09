"""Runtime checks of observations, rewards and actions (``checks="off"|"first"|"full"``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.engine.spaces import reward_problem, space_mismatch
from phantomzoo.errors import (
    ActionError,
    ConfigError,
    EpisodeOverError,
    NetworkError,
    ObservationError,
    RewardError,
)

NAN, INF = float("nan"), float("inf")


class Puppet(ph.StrategicAgent):
    """A strategic agent whose observation and reward at each step are scripted.

    ``observations[t]`` / ``rewards[t]`` are used at step ``t`` (0 = reset), the last
    entry repeating; ``decoded`` records every action that reached ``decode_action``.
    """

    def __init__(self, agent_id, observations=None, rewards=None, obs_space=None, act_space=None):
        super().__init__(agent_id)
        self.observations = observations or [np.zeros(1, dtype=np.float32)]
        self.rewards = rewards or [0.0]
        self.observation_space = obs_space or gym.spaces.Box(0.0, 10.0, shape=(1,))
        self.action_space = act_space or gym.spaces.Box(0.0, 1.0, shape=(1,))
        self.decoded = []

    def _at(self, values, ctx):
        return values[min(ctx.env_view.current_step, len(values) - 1)]

    def decode_action(self, ctx, action):
        self.decoded.append(action)

    def encode_observation(self, ctx):
        return self._at(self.observations, ctx)

    def compute_reward(self, ctx):
        return self._at(self.rewards, ctx)


def make_env(checks=None, num_steps=5, **puppet):
    agent = Puppet("A", **puppet)
    kwargs = {} if checks is None else {"checks": checks}
    return ph.PhantomEnv(num_steps=num_steps, network=ph.Network([agent]), **kwargs), agent


def ok_action():
    return {"A": np.array([0.5], dtype=np.float32)}


# ------------------------------------------------------------------- observations
@pytest.mark.parametrize(
    ("obs", "match"),
    [
        (None, r"agent 'A' at step 0 .*encode_observation returned None"),
        (np.zeros(2, dtype=np.float32), r"has shape \(2,\), expected \(1,\)"),
        (np.zeros((1, 1), dtype=np.float32), r"has shape \(1, 1\), expected \(1,\)"),
        ("abc", r"cannot be read as float32 numbers"),
        ([object()], r"cannot be read as float32 numbers|not numbers"),
        (np.array([NAN]), r"contains NaN at index 0"),
        (np.array([INF]), r"contains inf at index 0 where the space is bounded"),
    ],
)
def test_bad_first_observation_is_refused_at_reset(obs, match):
    env, _ = make_env(observations=[obs])
    with pytest.raises(ObservationError, match=match):
        env.reset(seed=0)


def test_observation_error_names_space_and_value():
    env, _ = make_env(observations=[np.zeros(3, dtype=np.float32)])
    with pytest.raises(ObservationError, match=r"Box\(0.0, 10.0, \(1,\), float32\).*got array"):
        env.reset(seed=0)


def test_out_of_bounds_observation_passes_first_but_not_full_checks():
    obs = [np.array([42.0], dtype=np.float32)]
    make_env(observations=obs)[0].reset(seed=0)
    env, _ = make_env("full", observations=obs)
    with pytest.raises(ObservationError, match=r"has 42.0 at index 0, outside \[0.0, 10.0\]"):
        env.reset(seed=0)


def test_later_bad_observation_is_caught_by_full_checks_only():
    good, bad = np.zeros(1, dtype=np.float32), np.zeros(2, dtype=np.float32)
    env, _ = make_env(observations=[good, good, bad])
    env.reset(seed=0)
    env.step(ok_action())
    env.step(ok_action())  # structure checked on the first observation of an episode only
    env, _ = make_env("full", observations=[good, good, bad])
    env.reset(seed=0)
    env.step(ok_action())
    with pytest.raises(ObservationError, match=r"agent 'A' at step 2 .*has shape \(2,\)"):
        env.step(ok_action())


def test_first_check_runs_again_every_episode():
    env, agent = make_env(observations=[np.zeros(1, dtype=np.float32)])
    env.reset(seed=0)
    agent.observations = [None]
    with pytest.raises(ObservationError, match="returned None"):
        env.reset(seed=1)


def test_none_observation_is_refused_even_with_checks_off():
    env, _ = make_env("off", observations=[None])
    with pytest.raises(ObservationError, match="returned None"):
        env.reset(seed=0)


# ------------------------------------------------------------------------ rewards
@pytest.mark.parametrize(
    ("reward", "match"),
    [
        (NAN, r"reward of agent 'A' at step 1 is not finite: got nan"),
        (INF, r"at step 1 is not finite: got inf"),
        (-INF, r"is not finite: got -inf"),
        (None, r"at step 1 is None"),
        ("1.5", r"is a string \('1.5'\), not a number"),
        (np.array([1.0, 2.0]), r"is an array of shape \(2,\); a reward is one number"),
        (np.array(["a"]), r"is an array of dtype <U1, not a number"),
        ([1.0], r"is a list, not a number"),
        (1 + 2j, r"is a complex, not a number"),
    ],
)
def test_bad_first_reward_is_refused(reward, match):
    env, _ = make_env(rewards=[reward])
    env.reset(seed=0)
    with pytest.raises(RewardError, match=match):
        env.step(ok_action())


@pytest.mark.parametrize(
    ("later", "match"),
    [
        (NAN, r"reward of agent 'A' at step 3 is not finite"),
        (None, r"reward of agent 'A' at step 3 is None"),
        ("x", r"at step 3 is a string"),
        (np.zeros(3), r"at step 3 is an array of shape \(3,\)"),
    ],
)
def test_later_bad_reward_is_refused_too(later, match):
    env, _ = make_env(rewards=[0.0, 1.0, 2.0, later])
    env.reset(seed=0)
    env.step(ok_action())
    env.step(ok_action())
    with pytest.raises(RewardError, match=match):
        env.step(ok_action())


@pytest.mark.parametrize("reward", [3, np.float32(1.5), np.int64(2), np.array([2.5]), True])
def test_numeric_rewards_are_accepted_as_floats(reward):
    env, _ = make_env(rewards=[reward])
    env.reset(seed=0)
    _, rewards, *_ = env.step(ok_action())
    assert isinstance(rewards["A"], float) and rewards["A"] == float(np.asarray(reward).item())


def test_checks_off_lets_nan_rewards_through():
    env, _ = make_env("off", rewards=[NAN])
    env.reset(seed=0)
    _, rewards, *_ = env.step(ok_action())
    assert np.isnan(rewards["A"])


def test_reward_error_is_raised_for_the_agent_at_fault():
    agents = [Puppet("A"), Puppet("B", rewards=[0.0, 0.0, NAN]), Puppet("C")]
    env = ph.PhantomEnv(num_steps=5, network=ph.Network(agents))
    env.reset(seed=0)
    actions = {i: np.array([0.5], dtype=np.float32) for i in "ABC"}
    env.step(actions)
    with pytest.raises(RewardError, match=r"agent 'B' at step 2 is not finite"):
        env.step(actions)


def test_compute_rewards_is_public_for_staged_envs():
    env, _ = make_env(rewards=[0.0, 1.5])
    env.reset(seed=0)
    env.step(ok_action())
    assert env.compute_rewards(["A"]) == {"A": 1.5}


# ------------------------------------------------------------------------ actions
DISCRETE = gym.spaces.Discrete(5)


@pytest.mark.parametrize(
    ("space", "action", "match"),
    [
        (DISCRETE, 99, r"99 is outside 0..4"),
        (DISCRETE, -1, r"-1 is outside 0..4"),
        (gym.spaces.Discrete(3, start=1), 0, r"0 is outside 1..3"),
        (DISCRETE, 2.5, r"2.5 is not an integer"),
        (DISCRETE, NAN, r"nan is not an integer"),
        (DISCRETE, "2", r"is a str, not an integer"),
        (DISCRETE, None, r"got None"),
        (DISCRETE, np.array([1, 2]), r"has shape \(2,\), expected a single integer"),
        (None, np.array([0.1, 0.2, 0.3]), r"has shape \(3,\), expected \(1,\)"),
        (None, np.zeros((0,)), r"has shape \(0,\), expected \(1,\)"),
        (None, np.array([NAN]), r"contains NaN at index 0"),
        (None, np.array([INF]), r"contains inf at index 0 where the space is bounded"),
        (None, None, r"got None"),
        (None, "0.5", r"is a string \('0.5'\), not numbers"),
        (None, np.array(["a"]), r"has dtype <U1, not numbers"),
        (gym.spaces.MultiDiscrete([2, 3]), [1, 3], r"values outside start..start \+ nvec - 1"),
        (gym.spaces.MultiDiscrete([2, 3]), [1], r"has shape \(1,\), expected \(2,\)"),
        (gym.spaces.MultiBinary(2), [0, 2], r"values other than 0 and 1"),
        (
            gym.spaces.Dict({"x": gym.spaces.Discrete(2)}),
            {"y": 0},
            r"has keys \['y'\], expected \['x'\]",
        ),
        (gym.spaces.Dict({"x": gym.spaces.Discrete(2)}), {"x": 7}, r"\['x'\] 7 is outside 0..1"),
        (gym.spaces.Tuple([DISCRETE, DISCRETE]), (1,), r"has 1 entries, expected 2"),
    ],
)
def test_bad_first_action_is_refused_before_decoding(space, action, match):
    env, agent = make_env(act_space=space)
    env.reset(seed=0)
    with pytest.raises(ActionError, match=r"action of agent 'A' for step 1 lies outside"):
        env.step({"A": action})
    with pytest.raises(ActionError, match=match):
        env.step({"A": action})
    assert agent.decoded == []  # the bad action never reached decode_action


@pytest.mark.parametrize(
    ("space", "action"),
    [
        (DISCRETE, 4),
        (DISCRETE, np.int64(3)),
        (DISCRETE, 2.0),
        (DISCRETE, np.array(1)),
        (DISCRETE, np.array([1])),
        (None, [0.5]),
        (None, np.array([0.5], dtype=np.float64)),
        (None, np.array([7.0], dtype=np.float32)),  # out of bounds: a policy's job to clip
        (gym.spaces.MultiDiscrete([2, 3]), np.array([1, 2])),
        (gym.spaces.Dict({"x": gym.spaces.Discrete(2)}), {"x": 1}),
    ],
)
def test_valid_first_actions_reach_decode_action(space, action):
    env, agent = make_env(act_space=space)
    env.reset(seed=0)
    env.step({"A": action})
    assert len(agent.decoded) == 1 and agent.decoded[0] is action


def test_out_of_bounds_box_action_is_refused_by_full_checks():
    env, _ = make_env("full")
    env.reset(seed=0)
    with pytest.raises(ActionError, match=r"has 7.0 at index 0, outside \[0.0, 1.0\]"):
        env.step({"A": np.array([7.0], dtype=np.float32)})


def test_later_actions_are_checked_only_by_full_checks():
    env, agent = make_env(act_space=DISCRETE)
    env.reset(seed=0)
    env.step({"A": 1})
    env.step({"A": 99})  # documented trade-off: only each episode's first action is checked
    assert agent.decoded == [1, 99]
    env, _ = make_env("full", act_space=DISCRETE)
    env.reset(seed=0)
    env.step({"A": 1})
    with pytest.raises(ActionError, match=r"for step 2 .*99 is outside 0..4"):
        env.step({"A": 99})


def test_checks_off_passes_actions_through():
    env, agent = make_env("off", act_space=DISCRETE)
    env.reset(seed=0)
    env.step({"A": 99})
    assert agent.decoded == [99]


@pytest.mark.parametrize("actions", [[0.5], "A", None, 3])
def test_actions_that_are_not_a_dict(actions):
    env, _ = make_env()
    env.reset(seed=0)
    with pytest.raises(ActionError, match=r"step\(\) expects a dict \{agent_id: action\}"):
        env.step(actions)


def test_staged_env_checks_actions_too():
    env = ph.make("digital_ads_v0", advertisers_per_family=1)
    env.acting_reset(seed=0)
    acting = env.acting_agents
    actions = {a: np.array([0.1, 0.2], dtype=np.float32) for a in acting}
    with pytest.raises(ActionError, match=r"agent 'TRAVEL1' for step 2 .*has shape \(2,\)"):
        env.acting_step(actions)


# ------------------------------------------------------------------ construction
def test_step_before_reset_says_call_reset():
    env, _ = make_env()
    with pytest.raises(EpisodeOverError, match=r"call env.reset\(seed=\.\.\.\) first"):
        env.step(ok_action())


@pytest.mark.parametrize(
    "agents",
    [[], [ph.Agent("X")], [ph.Agent("X"), ph.Agent("Y")]],
)
def test_network_without_strategic_agents_is_refused(agents):
    with pytest.raises(NetworkError, match=r"no strategic agents.*add one to the network"):
        ph.PhantomEnv(num_steps=3, network=ph.Network(agents))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"checks": "some"}, r"checks must be one of \['off', 'first', 'full'\], got 'some'"),
        ({"checks": True}, r"checks must be one of"),
        ({"check_observations": "yes"}, r"check_observations must be True or False"),
        ({"check_observations": True, "checks": "off"}, r"contradicts checks='off'"),
    ],
)
def test_bad_check_levels(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.PhantomEnv(num_steps=3, network=ph.Network([Puppet("A")]), **kwargs)


def test_check_level_can_be_changed_and_read():
    env, _ = make_env()
    assert env.checks == "first" and env.check_observations is False
    env.check_observations = True
    assert env.checks == "full"
    env.checks = "off"
    assert env.check_observations is False
    with pytest.raises(ConfigError, match="checks must be one of"):
        env.checks = "everything"


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True, [1]])
def test_bad_seeds_are_config_errors(seed):
    env, _ = make_env()
    with pytest.raises(ConfigError, match=r"seed must be an int >= 0 or None"):
        env.reset(seed=seed)


def test_numpy_integer_seed_is_accepted():
    env, _ = make_env()
    env.reset(seed=np.int64(3))


# ---------------------------------------------------------------- spacecheck unit
def test_space_mismatch_small_and_large_boxes_agree():
    small, large = gym.spaces.Box(0, 1, (4,)), gym.spaces.Box(0, 1, (40,))
    for space in (small, large):
        values = np.full(space.shape, 0.5)
        assert space_mismatch(space, values, bounds=True) is None
        values[2] = NAN
        assert "NaN at index 2" in space_mismatch(space, values, bounds=False)
        values[2] = 3.0
        assert space_mismatch(space, values, bounds=False) is None
        assert "outside" in space_mismatch(space, values, bounds=True)


def test_space_mismatch_integer_box_and_unbounded_infinity():
    ints = gym.spaces.Box(0, 10, (2,), dtype=np.int64)
    assert "non-integral" in space_mismatch(ints, [1.5, 2.0], bounds=False)
    assert space_mismatch(ints, [1.0, 2.0], bounds=False) is None
    open_box = gym.spaces.Box(-np.inf, np.inf, (1,))
    assert space_mismatch(open_box, [INF], bounds=True) is None


def test_reward_problem():
    assert reward_problem(1.0) is None and reward_problem(np.float64(2)) is None
    assert reward_problem(None) == "is None"


# ------------------------------------------------------------------ conformance
def test_check_env_refuses_bad_arguments():
    from phantomzoo.testing import check_env

    with pytest.raises(ConfigError, match=r"check_env needs a function that builds a fresh env"):
        check_env(make_env()[0])
    with pytest.raises(ConfigError, match=r"env_fn\(\) returned 3, not an environment"):
        check_env(lambda: 3)
    with pytest.raises(ConfigError, match=r"check_env: num_cycles must be an int >= 1"):
        check_env(lambda: make_env()[0], num_cycles=0)


def test_check_env_finds_a_bad_reward_mid_episode():
    from phantomzoo.errors import ConformanceError
    from phantomzoo.testing import check_observations_in_space

    env, _ = make_env(rewards=[0.0, 0.0, 0.0, "oops"])
    with pytest.raises(ConformanceError, match=r"reward of agent 'A' at step 3 is a string"):
        check_observations_in_space(env)
    assert env.checks == "first"  # restored


@pytest.mark.parametrize("agent", [["A"], "Z", None])
def test_space_of_unknown_or_unhashable_agent(agent):
    env, _ = make_env()
    with pytest.raises(ActionError, match=r"unknown agent"):
        env.observation_space(agent)
    with pytest.raises(ActionError, match=r"unknown agent"):
        env.action_space(agent)


def test_staged_env_rewards_are_checked_too() -> None:
    import phantomzoo as ph
    from phantomzoo.errors import RewardError

    env = ph.make("supply_chain_paper_v0")
    shop_id = env.shop_ids[0]
    shop = env.network[shop_id]
    shop.compute_reward = lambda ctx: float("nan")
    env.acting_reset(seed=0)
    with pytest.raises(RewardError, match=f"{shop_id}.*not finite"):
        for _ in range(4):
            env.acting_step({a: env.action_space(a).sample() for a in env.acting_agents})


def test_a_squeezed_box_action_with_the_right_number_of_values_is_accepted():
    """Consumers such as AgileRL squeeze a (1,) action to a 0-d array: it holds the one
    value the space needs, so the first-action check accepts it (a wrong count is not)."""
    from phantomzoo.engine.spaces import space_mismatch

    box = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    for action in (np.float32(0.5), np.array(0.5), 0.5, np.array([[0.5]])):
        assert space_mismatch(box, action, bounds=False, any_shape=True) is None
    assert "has shape ()" in space_mismatch(box, np.array(0.5), bounds=False)
    assert "expected (1,)" in space_mismatch(box, np.ones(3), bounds=False, any_shape=True)


class _ScalarObserver(ph.StrategicAgent):
    """Phantom's test models return a plain float for a one-value Box observation."""

    def __init__(self, agent_id, value=1.0):
        super().__init__(agent_id)
        self.value = value
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (1,))
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,))

    def encode_observation(self, ctx):
        return self.value

    def decode_action(self, ctx, action):
        return []

    def compute_reward(self, ctx):
        return 0.0


@pytest.mark.parametrize("value", [1.0, 2, np.float64(3.0), np.array(4.0), np.float32(5.0)])
def test_a_single_number_for_a_one_value_box_is_read_as_that_observation(value):
    env = ph.PhantomEnv(num_steps=3, network=ph.Network([_ScalarObserver("A", value)]))
    observations, _ = env.reset(seed=0)
    for _ in range(2):
        assert observations["A"].shape == (1,) and observations["A"].dtype == np.float32
        assert env.observation_space("A").contains(observations["A"])
        observations = env.step({"A": np.zeros(1, dtype=np.float32)})[0]


def test_a_single_number_for_a_wider_box_is_still_refused():
    agent = _ScalarObserver("A")
    agent.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,))
    env = ph.PhantomEnv(num_steps=3, network=ph.Network([agent]))
    with pytest.raises(ObservationError, match="shape"):
        env.reset(seed=0)
