from __future__ import annotations

import math

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.metrics import (
    AggregatedAgentMetric,
    LambdaMetric,
    MetricRecorder,
    SimpleAgentMetric,
    SimpleEnvMetric,
)


def test_metrics_record_and_reduce_over_an_episode():
    env = ph.make("supply_chain_v0", num_shops=2)
    recorder = MetricRecorder(
        {
            "stock_last": SimpleAgentMetric("SHOP1", "stock", "last"),
            "stock_max": SimpleAgentMetric("SHOP1", "stock", "max"),
            "sales_sum": AggregatedAgentMetric(["SHOP1", "SHOP2"], "sales", "sum", "sum"),
            "step": SimpleEnvMetric("current_step", "max"),
            "twice": LambdaMetric(lambda e: 2 * e.current_step, "sum"),
        }
    )
    env.reset(seed=0)
    sales, stocks = 0, []
    for _ in range(5):
        env.step({s: np.array([10.0], dtype=np.float32) for s in env.agents})
        recorder.record(env)
        sales += env.network["SHOP1"].sales + env.network["SHOP2"].sales
        stocks.append(env.network["SHOP1"].stock)
    summary = recorder.summary()
    assert summary == {
        "stock_last": stocks[-1],
        "stock_max": max(stocks),
        "sales_sum": sales,
        "step": 5.0,
        "twice": 30.0,
    }
    recorder.reset()
    assert math.isnan(recorder.summary()["step"])


def test_stage_restricted_metrics():
    recorder = MetricRecorder({"m": SimpleEnvMetric("current_step", "sum", fsm_stages=["sale"])})
    env = ph.make("supply_chain_v0")
    env.reset(seed=0)
    recorder.record(env, stage="restock")
    assert recorder.values["m"] == []
    recorder.record(env, stage="sale")
    assert recorder.values["m"] == [0.0]


def test_metric_errors():
    with pytest.raises(ConfigError, match="unknown reduce 'median'"):
        SimpleAgentMetric("SHOP", "stock", "median")
    env = ph.make("supply_chain_v0")
    env.reset(seed=0)
    with pytest.raises(ConfigError, match="'SHOP' has no attribute 'stok'"):
        SimpleAgentMetric("SHOP", "stok").extract(env)
    with pytest.raises(ConfigError, match="is not a number"):
        SimpleAgentMetric("SHOP", "factory_id").extract(env)
    with pytest.raises(ConfigError, match="must be a ph.metrics.Metric"):
        MetricRecorder({"x": 3})
    with pytest.raises(ConfigError, match="needs at least one agent id"):
        AggregatedAgentMetric([], "stock")
