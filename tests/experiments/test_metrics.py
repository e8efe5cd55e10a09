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


# ------------------------------------------------------------ Phantom's behaviour
class _Agent:
    def __init__(self, inc):
        self.inc = inc
        self.test_property = 0.0

    def step(self):
        self.test_property += self.inc


class _Nested:
    def __init__(self):
        self.sub_property = 1.0


class _PlainEnv:
    """A Phantom-test style env: an `agents` dict, no network."""

    def __init__(self):
        self.test_property = 0.0
        self.nested_property = _Nested()
        self.agents = {"agent1": _Agent(1.0), "agent2": _Agent(2.0)}

    def step(self):
        self.test_property += 1.0
        for agent in self.agents.values():
            agent.step()


def _five_steps(metric):
    env, values = _PlainEnv(), []
    for _ in range(5):
        env.step()
        values.append(metric.extract(env))
    return values


@pytest.mark.parametrize(("action", "expected"), [("last", 5.0), ("mean", 3.0), ("sum", 15.0)])
def test_simple_metrics_train_reduce(action, expected):
    env_metric = SimpleEnvMetric(env_property="test_property", train_reduce_action=action)
    assert env_metric.reduce(_five_steps(env_metric), mode="train") == expected
    agent_metric = SimpleAgentMetric("agent1", "test_property", train_reduce_action=action)
    assert agent_metric.reduce(_five_steps(agent_metric), mode="train") == expected


def test_eval_reduce_none_keeps_every_step_and_is_the_default():
    metric = SimpleEnvMetric("test_property", "last", "none")
    values = _five_steps(metric)
    assert metric.reduce(values, mode="train") == 5.0
    assert metric.reduce(values, mode="evaluate").tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    default = SimpleEnvMetric("test_property", "sum")
    assert default.reduce(values, mode="evaluate").tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert SimpleEnvMetric("test_property", "sum", "mean").reduce(values, "evaluate") == 3.0


@pytest.mark.parametrize(("group", "expected"), [("min", 5.0), ("max", 10.0), ("mean", 7.5)])
def test_aggregated_metric_group_reduce(group, expected):
    metric = AggregatedAgentMetric(
        agent_ids=["agent1", "agent2"],
        agent_property="test_property",
        group_reduce_action=group,
        train_reduce_action="last",
    )
    assert metric.reduce(_five_steps(metric), mode="train") == expected


def test_dotted_paths_read_nested_attributes():
    metric = SimpleEnvMetric(
        env_property="nested_property.sub_property", train_reduce_action="last"
    )
    env = _PlainEnv()
    env.step()
    assert metric.extract(env) == 1.0
    real = ph.make("supply_chain_paper_v0")
    recorder = MetricRecorder({"cost": SimpleAgentMetric("SHOP1", "type.cost_of_carry", "last")})
    real.reset(seed=0)
    recorder.record(real)
    assert recorder.summary()["cost"] == real.network["SHOP1"].type.cost_of_carry
    real.reset(seed=1)  # a new draw of the type is read, not a stale one
    recorder.record(real)
    assert recorder.summary()["cost"] == real.network["SHOP1"].type.cost_of_carry


def test_custom_reduce_functions_for_train_and_evaluate():
    metric = LambdaMetric(
        extract_fn=lambda env: env.test_property,
        train_reduce_fn=lambda values: np.sum(values),
        eval_reduce_fn=lambda values: np.sum(values) * 2,
    )
    values = _five_steps(metric)
    assert metric.reduce(values, mode="train") == 15.0
    assert metric.reduce(values, mode="evaluate") == 30.0
    median = SimpleEnvMetric("test_property", train_reduce_action=np.median)
    assert median.reduce(values) == 3.0
    spread = AggregatedAgentMetric(["agent1", "agent2"], "test_property", np.ptp, "last")
    assert spread.reduce(_five_steps(spread)) == 5.0


def test_not_recorded_steps_are_skipped():
    metric = SimpleEnvMetric("test_property", "mean", "none")
    values = [1.0, ph.metrics.not_recorded, 3.0]
    assert metric.reduce(values) == 2.0
    assert metric.reduce(values, "evaluate").tolist() == [1.0, 3.0]
    assert ph.metrics.NotRecorded() is ph.metrics.not_recorded


def test_recorder_summary_in_both_modes():
    recorder = MetricRecorder(
        {
            "sum": SimpleEnvMetric("test_property", "sum"),
            "median": LambdaMetric(lambda e: e.test_property, np.median),
        }
    )
    env = _PlainEnv()
    for _ in range(3):
        env.step()
        recorder.record(env)
    assert recorder.summary() == {"sum": 6.0, "median": 2.0}
    evaluated = recorder.summary("evaluate")
    assert evaluated["sum"].tolist() == [1.0, 2.0, 3.0] and evaluated["median"] == 2.0


def test_the_old_keywords_still_work():
    metric = SimpleAgentMetric("agent1", "test_property", reduce="sum")
    assert metric.reduce(_five_steps(metric)) == 15.0
    grouped = AggregatedAgentMetric(["agent1", "agent2"], "test_property", group_reduce="max")
    assert grouped.reduce_values(_five_steps(grouped)) == 6.0  # mean of 2, 4, ..., 10


def test_phantom_style_metric_errors():
    env = _PlainEnv()
    with pytest.raises(ConfigError, match=r"'none' keeps every value, but training logs"):
        SimpleEnvMetric("test_property", "none")
    with pytest.raises(ConfigError, match="unknown reduce 'median' for eval_reduce_action"):
        SimpleEnvMetric("test_property", "sum", "median")
    with pytest.raises(ConfigError, match="give train_reduce_action= or reduce=, not both"):
        SimpleEnvMetric("test_property", "sum", reduce="mean")
    with pytest.raises(ConfigError, match="unknown metric reduce mode 'eval'"):
        SimpleEnvMetric("test_property").reduce([1.0], mode="eval")
    with pytest.raises(
        ConfigError, match=r"the environment.nested_property has no attribute 'nope'"
    ):
        SimpleEnvMetric("nested_property.nope").extract(env)
    with pytest.raises(ConfigError, match="dotted path such as 'type.cost'"):
        SimpleEnvMetric("nested_property..sub_property")
    with pytest.raises(ConfigError, match="no agent 'agent9'"):
        SimpleAgentMetric("agent9", "test_property").extract(env)
    with pytest.raises(ConfigError, match=r"fsm_stages must be a list of stage ids"):
        SimpleEnvMetric("test_property", fsm_stages="sale")
    with pytest.raises(ConfigError, match="extract_fn: the value 'x' is not a number"):
        LambdaMetric(lambda e: "x").extract(env)
    recorder = MetricRecorder({"m": LambdaMetric(lambda e: 1.0, lambda v: "bad")})
    recorder.record(env)
    with pytest.raises(ConfigError, match="metric 'm': its train reduce: the value 'bad'"):
        recorder.summary()
