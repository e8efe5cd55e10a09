"""Seed 000 end to end: the tutorial's model, metrics, training call, rollouts and plots.

The code below follows the tutorial text (its training call through
``ph.utils.rllib.train``, its rollout call and its plotting loop) with a tiny training
budget so that it stays a smoke test.
"""

from __future__ import annotations

import pytest

pytest.importorskip("ray")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tutorial_supply_chain as tutorial  # noqa: E402

import phantomzoo as ph  # noqa: E402


def test_tutorial_training_rollouts_and_plots(tmp_path):
    metrics = {
        "SHOP/stock": ph.metrics.SimpleAgentMetric("SHOP", "stock", "mean"),
        "SHOP/sales": ph.metrics.SimpleAgentMetric("SHOP", "sales", "mean"),
        "SHOP/missed_sales": ph.metrics.SimpleAgentMetric("SHOP", "missed_sales", "mean"),
    }

    ph.utils.rllib.train(
        algorithm="PPO",
        env_class=tutorial.SupplyChainEnv,
        policies={"shop_policy": ["SHOP"]},
        rllib_config={"seed": 0, "train_batch_size": 200, "minibatch_size": 100, "num_epochs": 1},
        iterations=1,
        metrics=metrics,
        results_dir=tmp_path / "supply_chain_1",
    )

    results = ph.utils.rllib.rollout(
        directory=tmp_path / "supply_chain_1",
        env_class=tutorial.SupplyChainEnv,
        num_repeats=3,
        metrics=metrics,
    )
    results = list(results)

    shop_actions = []
    shop_stock = []
    shop_sales = []
    shop_missed_sales = []

    for rollout in results:
        shop_actions += list(int(round(x[0])) for x in rollout.actions_for_agent("SHOP"))
        shop_stock += list(rollout.metrics["SHOP/stock"])
        shop_sales += list(rollout.metrics["SHOP/sales"])
        shop_missed_sales += list(rollout.metrics["SHOP/missed_sales"])

    plt.hist(shop_actions, bins=20)
    plt.title("Distribution of Shop Action Values (Stock Requested Per Step)")
    plt.xlabel("Shop Action (Stock Requested Per Step)")
    plt.savefig(tmp_path / "actions.png")
    plt.close()

    plt.hist(shop_sales, bins=20)
    plt.axvline(np.mean(shop_sales), c="k")
    plt.title("Distribution of Shop Sales Made")
    plt.savefig(tmp_path / "sales.png")
    plt.close()

    assert len(results) == 3
    assert len(shop_actions) == len(shop_stock) == len(shop_sales) == len(shop_missed_sales) == 300
    assert all(0 <= a <= 100 for a in shop_actions)
    assert (tmp_path / "actions.png").stat().st_size > 5_000
