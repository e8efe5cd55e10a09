"""First observations of many agents checked together (RuntimeChecks._observe_checked):
the same acceptances and the same errors, naming the agent at fault, as one by one."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import ObservationError

NAN, INF = float("nan"), float("inf")


class Scripted(ph.StrategicAgent):
    """Observes ``first`` right after reset and zeros afterwards."""

    def __init__(self, agent_id, first, space=None):
        super().__init__(agent_id)
        self.first = np.asarray(first, dtype=np.float32)
        self.observation_space = space or gym.spaces.Box(0.0, 10.0, shape=self.first.shape)
        self.action_space = gym.spaces.Box(0.0, 1.0, shape=(1,))

    def encode_observation(self, ctx):
        if ctx.env_view.current_step == 0:
            return self.first
        return np.zeros(self.first.shape, np.float32)

    def decode_action(self, ctx, action):
        return None

    def compute_reward(self, ctx):
        return 0.0


def make_env(firsts, spaces=None, checks=None):
    spaces = spaces or {}
    agents = [Scripted(f"A{k}", first, spaces.get(k)) for k, first in enumerate(firsts)]
    kwargs = {} if checks is None else {"checks": checks}
    return ph.PhantomEnv(num_steps=3, network=ph.Network(agents), **kwargs)


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_the_agent_at_fault_is_named_among_many(bad):
    firsts = [[1.0, 2.0]] * 6
    firsts[4] = [1.0, bad]
    with pytest.raises(ObservationError, match=r"agent 'A4' at step 0 .* contains"):
        make_env(firsts).reset(seed=0)


def test_the_first_agent_at_fault_in_order_is_named():
    firsts = [[1.0]] * 5
    firsts[1] = firsts[3] = [NAN]
    with pytest.raises(ObservationError, match=r"agent 'A1'.*NaN"):
        make_env(firsts).reset(seed=0)


def test_an_infinity_at_an_unbounded_end_is_accepted_together():
    unbounded = gym.spaces.Box(0.0, np.inf, shape=(2,))
    firsts = [[1.0, 2.0]] * 4
    firsts[2] = [1.0, INF]
    env = make_env(firsts, spaces={2: unbounded})
    observations, _ = env.reset(seed=0)
    assert observations["A2"].tolist() == [1.0, INF]
    assert not env.engine._unchecked_obs  # every first observation was checked


def test_a_wrong_shape_among_many_is_refused():
    firsts = [[1.0, 2.0]] * 4
    spaces = {3: gym.spaces.Box(0.0, 10.0, shape=(3,))}
    with pytest.raises(ObservationError, match=r"agent 'A3'.*shape \(2,\), expected \(3,\)"):
        make_env(firsts, spaces=spaces).reset(seed=0)


def test_only_first_observations_are_checked_at_first_level():
    env = make_env([[1.0]] * 3)
    env.reset(seed=0)
    assert not env.engine._unchecked_obs
    env.engine._unchecked_obs = {"A1"}  # as if A1's first observation were still due
    bad = env.network["A1"]
    bad.encode_observation = lambda ctx: np.array([NAN], np.float32)
    with pytest.raises(ObservationError, match=r"agent 'A1' at step 1"):
        env.step({a: np.array([0.5], np.float32) for a in env.agents})
