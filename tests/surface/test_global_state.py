"""An opt-in global state for centralised critics (PettingZoo's state() / state_space)."""

from __future__ import annotations

import numpy as np
import pytest
from models import PingEnv
from pettingzoo.test import state_test

import phantomzoo as ph
from phantomzoo.envs import supply_chain_v0
from phantomzoo.errors import ConfigError


@pytest.mark.parametrize("num_shops", [1, 3])
def test_supply_chain_passes_pettingzoo_state_test(num_shops: int) -> None:
    state_test(
        supply_chain_v0.env(num_shops=num_shops), supply_chain_v0.parallel_env(num_shops=num_shops)
    )


def test_state_follows_the_shops_and_the_clock() -> None:
    env = ph.make("supply_chain_v0", num_shops=2)
    env.reset(seed=1)
    assert env.state().shape == env.state_space.shape == (7,)
    for _ in range(5):
        env.step({a: np.array([20.0], np.float32) for a in env.agents})
        state = env.state()
        assert env.state_space.contains(state)
        for n, shop in enumerate(env.shop_ids):  # each shop's block is its own view
            assert np.array_equal(
                state[3 * n : 3 * n + 3], env.network[shop].encode_observation(None)
            )
    assert state[-1] == pytest.approx(5 / env.num_steps)


def test_state_is_opt_in() -> None:
    env = PingEnv()
    env.reset(seed=0)
    with pytest.raises(NotImplementedError, match="defines no global state: override global_state"):
        env.state()
    assert not hasattr(env, "state_space")


class _NoSpace(PingEnv):
    def global_state(self):
        return np.zeros(2)


def test_a_global_state_needs_a_state_space() -> None:
    env = _NoSpace()
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="no state_space: set self.state_space"):
        env.state()
