"""The tutorial's model code (seed 000) runs unchanged with ``import phantomzoo as ph``."""

from __future__ import annotations

import numpy as np
import tutorial_supply_chain as tutorial
from pettingzoo.test import parallel_api_test


def test_tutorial_model_runs_a_full_episode():
    env = tutorial.SupplyChainEnv()
    assert env.possible_agents == ["SHOP"]
    obs, _ = env.reset(seed=0)
    total = 0.0
    while env.agents:
        stock = obs["SHOP"][0] * tutorial.SHOP_MAX_STOCK
        action = np.array([max(0.0, 25 - stock)], dtype=np.float32)
        obs, rewards, terminations, truncations, _ = env.step({"SHOP": action})
        total += rewards["SHOP"]
    assert truncations == {"SHOP": True}
    assert env.current_step == 100
    assert 600 < total < 1000  # an order-up-to-25 policy sells most of the demand


def test_tutorial_model_passes_the_parallel_api_test():
    parallel_api_test(tutorial.SupplyChainEnv(), num_cycles=120)
