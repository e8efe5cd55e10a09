"""The non-staged bundled models serve PettingZoo-aware tools beyond our own adapters.

SuperSuit's common wrappers and its PettingZoo-to-vector-env conversion take the models
as they are, and a plain Stable-Baselines3 PPO trains on the result, with no phantomzoo
code in between.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

ss = pytest.importorskip("supersuit")
sb3 = pytest.importorskip("stable_baselines3")

import phantomzoo as ph  # noqa: E402
from phantomzoo.envs import supply_chain_v0  # noqa: E402


def _vec_env(par_env, copies=2):
    """SuperSuit's SB3 vector env (one slot per agent per copy) under VecMonitor."""
    from stable_baselines3.common.vec_env import VecMonitor

    vec = ss.pettingzoo_env_to_vec_env_v1(par_env)
    vec = ss.concat_vec_envs_v1(vec, copies, num_cpus=0, base_class="stable_baselines3")
    with warnings.catch_warnings():  # SuperSuit's vector env reports no render_mode
        warnings.simplefilter("ignore")
        return VecMonitor(vec)


def _learn(vec, timesteps):
    # SB3's PPO(seed=...) would call vec.seed(), which SuperSuit's ConcatVecEnv lacks
    # (STACK.md): seed SB3 globally and seed the copies' first reset ourselves.
    sb3.common.utils.set_random_seed(0)
    vec.venv.venv.reset(seed=0)
    model = sb3.PPO("MlpPolicy", vec, n_steps=32, batch_size=64, n_epochs=1, device="cpu")
    model.learn(total_timesteps=timesteps)
    return model


def test_supply_chain_through_common_wrappers_into_plain_sb3_ppo():
    env = ph.make("supply_chain_v0", num_shops=3, num_steps=10)
    wrapped = ss.black_death_v3(ss.pad_action_space_v0(ss.pad_observations_v0(env)))
    for agent in env.possible_agents:
        assert wrapped.observation_space(agent) == env.observation_space(agent)
        assert wrapped.action_space(agent) == env.action_space(agent)
    vec = _vec_env(wrapped)
    assert vec.num_envs == 2 * 3
    model = _learn(vec, timesteps=600)
    assert model.num_timesteps >= 600
    assert len(model.ep_info_buffer) >= 6  # VecMonitor saw whole 10-step episodes
    obs = np.zeros((1, 3), dtype=np.float32)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space("SHOP1").contains(np.clip(action[0], 0, 100).astype(np.float32))


@pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros")
@pytest.mark.filterwarnings("ignore:We recommend agents to be named")
def test_aec_supply_chain_accepts_supersuit_wrappers():
    from pettingzoo.test import api_test

    aec = ss.clip_actions_v0(ss.pad_observations_v0(supply_chain_v0.env(num_shops=3)))
    api_test(aec, num_cycles=5)


def test_type_toy_through_supersuit_into_plain_sb3_ppo():
    env = ph.make("type_toy_v0", num_agents=4)
    vec = _vec_env(ss.pad_observations_v0(env))
    assert vec.observation_space.shape == (2,)  # the uninformative 0 plus the type
    model = _learn(vec, timesteps=256)
    assert model.num_timesteps >= 256
    assert len(model.ep_info_buffer) > 0
