"""RLlib 2.60's own PettingZoo wrappers on every registered env: one PPO iteration each.

``ray.rllib.env.wrappers.pettingzoo_env.PettingZooEnv`` takes the AEC form and
``ParallelPettingZooEnv`` the parallel form (staged models through their parallel view);
PPO on the new API stack (``config.build_algo()``) samples and trains every agent's
module once, with one module per agent, tiny batches and sampling in the driver
(``num_env_runners=0``). Ray runs as the tests' private local instance (conftest).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("ray.rllib", reason="RLlib tests need the rllib extra")

from consumer_envs import (  # noqa: E402
    IGNORE_MASKS,
    REGISTERED,
    aec_env,
    is_masked,
    parallel_env,
)
from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec  # noqa: E402
from ray.rllib.core.rl_module.rl_module import RLModuleSpec  # noqa: E402
from ray.rllib.env.wrappers.pettingzoo_env import (  # noqa: E402
    ParallelPettingZooEnv,
    PettingZooEnv,
)
from ray.tune.registry import register_env  # noqa: E402

from phantomzoo.errors import ActionError  # noqa: E402

BATCH = 64  # env steps per PPO iteration
pytestmark = pytest.mark.slow  # about 25 s for the module, most of it Ray start-up


@pytest.fixture(autouse=True)
def _ray(_ray_for_tests: Callable[[], None]) -> Any:
    _ray_for_tests()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RLlib's deprecation and gymnasium warnings
        yield


def _one_ppo_iteration(env_name: str, agent_ids: list[str]) -> dict[str, Any]:
    """The result dict of one PPO iteration on the registered RLlib env ``env_name``."""
    config = (
        PPOConfig()
        .environment(env_name)
        .env_runners(num_env_runners=0, rollout_fragment_length="auto")
        .training(train_batch_size=BATCH, minibatch_size=BATCH // 2, num_epochs=1)
        .multi_agent(policies=set(agent_ids), policy_mapping_fn=lambda agent, *_, **__: agent)
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={agent: RLModuleSpec() for agent in agent_ids}
            )
        )
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        return algo.train()
    finally:
        algo.stop()


def _check_trained(result: dict[str, Any], agent_ids: list[str]) -> None:
    assert result["env_runners"]["num_env_steps_sampled"] >= BATCH
    assert result["env_runners"]["num_episodes"] >= 1
    for agent in agent_ids:  # every agent's module took a gradient step
        assert result["learners"][agent]["num_module_steps_trained"] > 0


def _wrapped(name: str, form: str, **overrides: Any) -> Any:
    """RLlib's PettingZoo wrapper around ``name``'s ``form`` ("aec" or "parallel")."""
    if form == "aec":
        return PettingZooEnv(aec_env(name, **overrides))
    return ParallelPettingZooEnv(parallel_env(name, **overrides))


FORMS = ["aec", "parallel"]  # PettingZooEnv (AEC) and ParallelPettingZooEnv
UNMASKED = [name for name in REGISTERED if not is_masked(name)]
MASKED = [name for name in REGISTERED if is_masked(name)]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", UNMASKED)
def test_one_ppo_iteration_through_rllibs_pettingzoo_wrappers(name, form):
    agents = parallel_env(name).possible_agents
    register_env(f"pz-{form}-{name}", lambda _config: _wrapped(name, form))
    result = _one_ppo_iteration(f"pz-{form}-{name}", agents)
    _check_trained(result, agents)
    sampled = result["env_runners"]["num_agent_steps_sampled"]
    steps = result["env_runners"]["num_env_steps_sampled"]
    if form == "aec":  # agents take turns; each also gets its final step per episode
        episodes = result["env_runners"]["num_episodes"] + 1  # the last one may be open
        assert steps <= sum(sampled.values()) <= steps + len(agents) * episodes
    else:  # every live agent every step, staged views included
        assert max(sampled.values()) == steps


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", MASKED)
def test_masked_envs_refuse_rllibs_unmasked_ppo_and_train_with_checks_off(name, form):
    agents = parallel_env(name).possible_agents
    register_env(f"pz-{form}-{name}", lambda _config: _wrapped(name, form))
    with pytest.raises(RuntimeError) as failed:  # RLlib's env runner wraps the env error
        _one_ppo_iteration(f"pz-{form}-{name}", agents)
    assert isinstance(failed.value.__cause__, ActionError)
    assert re.search(r"illegal: its action mask rules it out", str(failed.value.__cause__))
    # Workaround (README): the model settles illegal actions itself when checks are off.
    register_env(f"pz-{form}-{name}-off", lambda _c: _wrapped(name, form, **IGNORE_MASKS))
    _check_trained(_one_ppo_iteration(f"pz-{form}-{name}-off", agents), agents)
