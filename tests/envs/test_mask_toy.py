"""The mask toy: masks follow free space, illegal orders are refused, the heuristic beats
the uniform-legal baseline, bad configuration is refused."""

from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs import mask_toy_v0
from phantomzoo.envs.mask_toy import MaskToyEnv, RefillPolicy, uniform_legal_returns
from phantomzoo.errors import ActionError, ConfigError
from phantomzoo.experiments.evaluation import episode_returns


def test_registered_with_its_module_and_name():
    env = ph.make("mask_toy_v0")
    assert isinstance(env, MaskToyEnv) and env.metadata["name"] == "mask_toy_v0"
    assert mask_toy_v0.raw_env is MaskToyEnv
    assert env.engine.masked_agents == frozenset(env.possible_agents)


def test_the_mask_is_the_free_space_after_the_step():
    env = MaskToyEnv(num_shops=1, capacity=4)
    _, infos = env.reset(seed=0)
    assert infos["SHOP1"]["action_mask"].tolist() == [1, 1, 1, 1, 1]
    for _ in range(5):
        _, _, _, _, infos = env.step({"SHOP1": 4 - env.network["SHOP1"].stock})
        stock = env.network["SHOP1"].stock
        free = 4 - stock
        assert infos["SHOP1"]["action_mask"].tolist() == [1] * (free + 1) + [0] * (4 - free)


def test_an_order_past_the_free_space_raises_naming_the_legal_orders():
    env = MaskToyEnv(num_shops=1, capacity=4)
    env.reset(seed=0)
    while env.network["SHOP1"].stock == 0:
        env.step({"SHOP1": 4 - env.network["SHOP1"].stock})
    free = 4 - env.network["SHOP1"].stock
    legal = ", ".join(str(k) for k in range(free + 1))
    with pytest.raises(ActionError, match=rf"'SHOP1'.*illegal.*\[{legal}\]"):
        env.step({"SHOP1": 4})


def test_with_checks_off_the_shop_orders_only_what_fits():
    env = MaskToyEnv(num_shops=1, capacity=4, checks="off")
    env.reset(seed=0)
    for _ in range(10):
        env.step({"SHOP1": 4})
        assert 0 <= env.network["SHOP1"].stock <= 4


def test_dict_observations_carry_the_mask():
    env = mask_toy_v0.parallel_env(dict_observations=True)
    obs, _ = env.reset(seed=0)
    assert set(obs["SHOP1"]) == {"observation", "action_mask"}
    assert env.observation_space("SHOP1").contains(obs["SHOP1"])


def test_refill_beats_uniform_legal_orders_and_is_reproducible():
    env = MaskToyEnv(num_shops=2)
    refill = RefillPolicy(env.observation_space("SHOP1"), env.action_space("SHOP1"), capacity=4)
    heuristic = np.mean(list(episode_returns(env, refill, 50).values()))
    uniform = uniform_legal_returns(env, 50).mean()
    assert heuristic > 1.2 * uniform > 0
    assert np.array_equal(uniform_legal_returns(env, 5, seed=3), uniform_legal_returns(env, 5, 3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity": 0}, "capacity must be an int"),
        ({"num_shops": 1.5}, "num_shops must be an int"),
        ({"price": float("nan")}, "price"),
        ({"holding_cost": -1.0}, "holding_cost"),
        ({"dict_observations": "yes"}, "dict_observations must be True or False"),
        ({"num_steps": 5, "max_cycles": 6}, "disagree"),
    ],
)
def test_bad_configuration_is_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        MaskToyEnv(**kwargs)
