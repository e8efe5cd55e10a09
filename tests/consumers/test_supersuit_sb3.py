"""SuperSuit's usual wrappers and a plain Stable-Baselines3 PPO on every registered env.

Each env's parallel form (staged models through their parallel view) goes through
``pad_observations_v0``, ``pad_action_space_v0`` and ``normalize_obs_v0`` into
``pettingzoo_env_to_vec_env_v1`` and ``concat_vec_envs_v1(base_class=
"stable_baselines3")``, and SB3's PPO trains on it for a few thousand steps, with no
phantomzoo code in between. The consumers' known bugs and limitations that the README's
compatibility table lists are pinned here too, each with its workaround.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

ss = pytest.importorskip("supersuit")
sb3 = pytest.importorskip("stable_baselines3")

import torch  # noqa: E402
from consumer_envs import (  # noqa: E402
    CYCLES,
    IGNORE_MASKS,
    REGISTERED,
    aec_env,
    is_masked,
    parallel_env,
)
from stable_baselines3.common.vec_env import VecMonitor  # noqa: E402

from phantomzoo.errors import ActionError, EpisodeOverError  # noqa: E402

#: Envs whose agents can end before the others (advertisers run out of budget): the
#: vector env needs ``black_death_v3`` for them.
AGENTS_LEAVE_EARLY = {"digital_ads_v0"}
TIMESTEPS = 2048  # agent-steps of PPO per env
COPIES = 2  # env copies in the vector env


@pytest.fixture(autouse=True)
def _quiet_and_one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small MLPs on 2 shared cores (STACK.md)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SuperSuit's vector env reports no render_mode
        yield
    torch.set_num_threads(threads)


def _has_constant_bounds(par_env: Any) -> bool:
    """Whether an observation Box has an entry with ``low == high`` (normalize_obs_v0
    divides by ``high - low``)."""
    return any(
        np.any(par_env.observation_space(agent).low == par_env.observation_space(agent).high)
        for agent in par_env.possible_agents
    )


def _usual_wrappers(name: str, **overrides: Any) -> Any:
    """SuperSuit's usual stack on ``name``'s parallel form (see the module docs)."""
    par = parallel_env(name, **overrides)
    wrapped = ss.pad_action_space_v0(ss.pad_observations_v0(par))
    if not _has_constant_bounds(par):
        wrapped = ss.normalize_obs_v0(wrapped)
    if name in AGENTS_LEAVE_EARLY:
        wrapped = ss.black_death_v3(wrapped)
    return wrapped


def _vec_env(par_env: Any) -> Any:
    """SuperSuit's SB3 vector env (one slot per agent per copy) under VecMonitor."""
    vec = ss.pettingzoo_env_to_vec_env_v1(par_env)
    vec = ss.concat_vec_envs_v1(vec, COPIES, num_cpus=0, base_class="stable_baselines3")
    return VecMonitor(vec)


def _learn(vec: Any, timesteps: int) -> Any:
    # PPO(seed=...) would call vec.seed(), which SuperSuit's ConcatVecEnv lacks
    # (test_sb3_ppo_seed_is_missing_on_supersuits_vec_env): seed SB3 globally and the
    # copies' first reset ourselves.
    sb3.common.utils.set_random_seed(0)
    vec.venv.venv.reset(seed=0)
    model = sb3.PPO("MlpPolicy", vec, n_steps=64, batch_size=128, n_epochs=2, device="cpu")
    return model.learn(total_timesteps=timesteps)


@pytest.mark.parametrize("name", REGISTERED)
def test_usual_supersuit_wrappers_into_plain_sb3_ppo(name):
    overrides = IGNORE_MASKS if is_masked(name) else {}  # SB3's PPO ignores masks
    wrapped = _usual_wrappers(name, **overrides)
    agents = wrapped.possible_agents
    vec = _vec_env(wrapped)
    assert vec.num_envs == COPIES * len(agents)
    model = _learn(vec, TIMESTEPS)
    assert model.num_timesteps >= TIMESTEPS
    lengths = [episode["l"] for episode in model.ep_info_buffer]
    assert len(lengths) == model.ep_info_buffer.maxlen  # >= 100 whole episodes seen
    if name in AGENTS_LEAVE_EARLY:  # black_death_v3 ends every episode one step late
        assert max(lengths) == CYCLES + 1
    else:
        assert set(lengths) == {CYCLES}
    assert all(np.isfinite(episode["r"]) for episode in model.ep_info_buffer)
    observation = np.stack([wrapped.observation_space(agents[0]).sample()])
    action = model.predict(observation, deterministic=True)[0][0]
    assert wrapped.action_space(agents[0]).shape == np.shape(action)


@pytest.mark.parametrize("name", [n for n in REGISTERED if is_masked(n)])
def test_masked_envs_refuse_sb3s_unmasked_ppo_with_the_action_error(name):
    vec = _vec_env(_usual_wrappers(name))  # default checks: illegal actions refused
    with pytest.raises(ActionError, match=r"illegal: its action mask rules it out"):
        _learn(vec, TIMESTEPS)


# ------------------------------------------------------------- consumer bugs, pinned
def test_black_death_v3_reports_no_end_when_agents_are_truncated():
    """SuperSuit's black_death_v3 ends the episode on ``terminations & truncations``
    (``|`` is meant): a truncated episode is not over for it. Over the AEC round trip of
    the pad wrappers it ends one empty step late; on a bare ParallelEnv the next step
    meets our typed EpisodeOverError."""
    padded = ss.black_death_v3(ss.pad_observations_v0(parallel_env("supply_chain_v0")))
    bare = ss.black_death_v3(parallel_env("supply_chain_v0"))
    for env in (padded, bare):
        env.reset(seed=0)
        for _ in range(CYCLES):
            actions = {agent: env.action_space(agent).sample() for agent in env.possible_agents}
            truncations = env.step(actions)[3]
        assert not any(truncations.values())  # the episode ended; black_death says no
    empty = padded.step({agent: np.zeros(1, np.float32) for agent in padded.possible_agents})
    assert all(empty[3].values()) and not np.any(empty[0]["SHOP1"])  # the extra zero step
    with pytest.raises(EpisodeOverError, match="after the episode ended"):
        bare.step({agent: np.zeros(1, np.float32) for agent in bare.possible_agents})


def test_normalize_obs_v0_makes_nan_of_an_entry_with_equal_bounds():
    """type_toy's first observation entry is the constant 0 in ``Box(0, 0)``: SuperSuit's
    normalize_obs_v0 divides by ``high - low`` and returns NaN. Workaround: leave it out
    (the observation is already in [-1, 1])."""
    par = parallel_env("type_toy_v0")
    assert _has_constant_bounds(par)
    observations = ss.normalize_obs_v0(par).reset(seed=0)[0]
    assert all(np.isnan(obs[0]) for obs in observations.values())


def test_sb3_ppo_seed_is_missing_on_supersuits_vec_env():
    """SB3's ``PPO(seed=...)`` calls ``env.seed()``, which SuperSuit's ConcatVecEnv lacks.
    Workaround (``_learn``): ``set_random_seed`` and a seeded first reset of the copies."""
    vec = _vec_env(_usual_wrappers("supply_chain_v0"))
    with pytest.raises(AttributeError, match="seed"):
        sb3.PPO("MlpPolicy", vec, n_steps=64, batch_size=128, seed=0, device="cpu")


def test_seeded_sb3_runs_through_supersuit_repeat():
    def returns() -> list[float]:
        model = _learn(_vec_env(_usual_wrappers("supply_chain_v0")), 256)
        return [episode["r"] for episode in model.ep_info_buffer]

    assert returns() == returns()


@pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros")
def test_aec_form_accepts_supersuit_aec_wrappers():
    from pettingzoo.test import api_test

    aec = ss.clip_actions_v0(ss.pad_observations_v0(aec_env("supply_chain_v0", num_shops=3)))
    api_test(aec, num_cycles=5)
