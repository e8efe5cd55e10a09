"""The supply chain's batched twins play the same episodes as its per-agent agents."""

from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import ActionError, ConfigError


def test_batched_supply_chain_equals_per_agent_play() -> None:
    ph.testing.check_batched(
        lambda: ph.make("supply_chain_v0", num_shops=4, num_steps=40), seed=0, steps=130
    )


def test_typed_shops_and_small_stock_limits_match() -> None:
    def build():
        return ph.make(
            "supply_chain_v0",
            num_shops=3,
            num_customers=7,
            shop_max_stock=9,
            num_steps=30,
            agent_supertypes={"SHOP1": {"cost_of_carry": (0.1, 0.5)}},
        )

    ph.testing.check_batched(build, seed=3, steps=70)


def test_customers_that_differ_draw_one_by_one() -> None:
    def build():
        env = ph.make("supply_chain_v0", num_shops=2, num_steps=25)
        env.network["SHOP1_CUST1"].max_order_size = 9
        env.network["SHOP2_CUST3"].block = 3
        return env

    ph.testing.check_batched(build, seed=1, steps=60)


def test_batched_env_passes_the_conformance_checks() -> None:
    ph.testing.check_env(
        lambda: ph.make("supply_chain_v0", num_shops=2, num_steps=20, batched=True),
        num_cycles=15,
    )


def test_batched_switch_and_bad_actions_are_refused() -> None:
    with pytest.raises(ConfigError, match="batched must be True or False"):
        ph.make("supply_chain_v0", batched="yes")
    env = ph.make("supply_chain_v0", num_shops=2, batched=True, checks="off")
    env.reset(seed=0)
    with pytest.raises(ActionError, match="finite number of units"):
        env.step({a: np.array([np.nan], np.float32) for a in env.agents})


def test_batched_messages_reach_the_log() -> None:
    env = ph.make("supply_chain_v0", num_shops=3, batched=True)
    env.network.message_log = log = []
    env.reset(seed=0)
    env.step({a: np.array([5.0], np.float32) for a in env.agents})
    kinds = sorted({type(m.payload).__name__ for m in log})
    assert kinds == ["OrderRequest", "OrderResponse", "StockRequest", "StockResponse"]
    assert len(log) == 3 * (2 * 5 + 2)  # per shop: 5 orders and replies, a restock and reply
    assert env.engine.grouping is not None
