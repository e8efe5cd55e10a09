"""The supply chain's batched twins play the same episodes as its per-agent agents."""

from __future__ import annotations

import importlib
import json
import stat
import sys
from pathlib import Path

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


BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def throughput_script():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("throughput")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture
def fake_phantom(tmp_path) -> str:
    """A stand-in Phantom interpreter: whatever it is asked, 1,000 agent-steps/s."""
    result = {
        "phantom": "fake",
        "python": "3",
        "agent_steps_per_s": 1000.0,
        "agent_steps_per_cpu_s": 1000.0,
        "cpu_over_wall": 1.0,
        "other_cores": 0.0,
        "acting_per_acting_step": 1.0,
    }
    path = tmp_path / "fake_python"
    path.write_text(f"#!/bin/sh\necho 'SIDE_RESULT {json.dumps(result)}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_throughput_batched_switch_measures_both_paths_side_by_side(
    throughput_script, fake_phantom, tmp_path, capsys
):
    out = tmp_path / "r.json"
    argv = ["--shops", "1,2", "--min-seconds", "0.05", "--repeats", "1", "--batched"]
    argv += ["--out", str(out), "--phantom-python", fake_phantom, "--pairs", "3"]
    assert throughput_script.main(argv) == 0
    text = capsys.readouterr().out
    assert "Batched path, shop-steps/s" in text and "x per-agent" in text
    report = json.loads(out.read_text())
    paths = [(r["shops"], r["path"]) for r in report["batched_rows"]]
    assert paths == [(1, "per-agent"), (1, "batched"), (2, "per-agent"), (2, "batched")]
    row = report["side_by_side"]["rows"][0]
    assert set(row["sides"]) == {"phantom", "ours", "ours_batched"}
    assert row["sides"]["ours_batched"]["messages"] == row["sides"]["ours"]["messages"]
    goals = {g["name"]: g for g in report["goals"]}
    assert goals["50x Phantom 2.2 at 1,000 shops (ours_batched)"]["status"] == "SKIP"
    assert goals["cost per shop-step (batched) does not grow with shops"]["status"] in (
        "PASS",
        "MISS",
    )
