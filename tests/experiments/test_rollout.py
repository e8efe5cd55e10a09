from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from models import ConstantPolicy, MortalEnv, PingEnv, TurnEnv

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import ConfigError
from phantomzoo.experiments.rollout import expand_ranges
from phantomzoo.metrics import SimpleAgentMetric
from phantomzoo.ranges import LinspaceRange, ListRange
from phantomzoo.samplers import UniformFloatSampler

HEURISTIC = {"SHOP": (OrderUpToPolicy, {"level": 25})}


@dataclass
class Family(ph.Supertype):
    skill: float
    size: int = 1


def test_ranges_expand_into_a_grid_including_supertypes():
    grid = expand_ranges(
        {"a": ListRange([1, 2]), "b": 3, "types": {"X": Family(LinspaceRange(0.0, 1.0, 3))}}
    )
    assert len(grid) == 6
    params, config = grid[-1]
    assert params == {"a": 2, "types.X.skill": 1.0}
    assert config["b"] == 3 and config["types"]["X"] == Family(1.0)
    assert expand_ranges({"a": 1}) == [({}, {"a": 1})]


def test_rollout_over_a_range_with_repeats_and_metrics():
    rollouts = ph.rollout(
        "supply_chain_v0",
        env_config={"cost_of_carry": ListRange([0.1, 0.5])},
        custom_policy_mapping=HEURISTIC,
        num_repeats=3,
        metrics={"SHOP/stock": SimpleAgentMetric("SHOP", "stock", "mean")},
        show_progress_bar=False,
    )
    assert [(r.rollout_id, r.repeat_id) for r in rollouts] == [
        (i, j) for i in range(2) for j in range(3)
    ]
    assert rollouts[3].rollout_params == {"cost_of_carry": 0.5}
    first = rollouts[0]
    assert len(first.steps) == 100 and first.metrics["SHOP/stock"].shape == (100,)
    # Repeats differ (different seeds); the same repeat of two configs shares its seed.
    assert first.rewards_for_agent("SHOP") != rollouts[1].rewards_for_agent("SHOP")
    sales_low = [
        s.rewards["SHOP"] + 0.1 * st for s, st in zip(first.steps, first.metrics["SHOP/stock"])
    ]
    sales_high = [
        s.rewards["SHOP"] + 0.5 * st
        for s, st in zip(rollouts[3].steps, rollouts[3].metrics["SHOP/stock"])
    ]
    np.testing.assert_allclose(sales_low, sales_high)
    actions = first.actions_for_agent("SHOP")
    assert float(actions[0][0]) == 25.0  # order up to 25 from an empty shop


def test_episodes_that_end_early_are_not_padded():
    (rollout,) = ph.rollout(
        MortalEnv,
        custom_policy_mapping={"A": (ConstantPolicy, {"value": 3})},
        show_progress_bar=False,
    )
    assert len(rollout.steps) == 1
    assert rollout.terminations_for_agent("A") == [True]


def test_helpers_filter_by_stage_and_drop_nones():
    (rollout,) = ph.rollout(
        TurnEnv,
        custom_policy_mapping={"A": (ConstantPolicy, {"value": 2}), "B": ConstantPolicy},
        show_progress_bar=False,
    )
    assert len(rollout.steps) == 6
    assert rollout.actions_for_agent("A") == [2, None, 2, None, 2, None]
    assert rollout.actions_for_agent("A", drop_nones=True) == [2, 2, 2]
    assert rollout.actions_for_agent("B", stages=["b"]) == [1, 1, 1]
    assert rollout.count_actions() == [(2, 3), (1, 3)]
    assert rollout.count_agent_actions("B") == [(1, 3)]
    steps = rollout.steps_for_agent("A", stages=["a"])
    assert [s.action for s in steps] == [2, 2, 2] and all(s.stage == "a" for s in steps)
    assert rollout.observations_for_agent("B", drop_nones=True)[0].tolist() == [0.0]
    assert rollout.infos_for_agent("A")[0] == {}


def test_record_messages():
    (rollout,) = ph.rollout(
        PingEnv,
        custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
        record_messages=True,
        show_progress_bar=False,
    )
    first = rollout.steps[0].messages
    assert [(m.sender_id, m.receiver_id, type(m.payload).__name__) for m in first] == [
        ("A", "EA", "Ping"),
        ("B", "EB", "Ping"),
        ("EA", "A", "Pong"),
        ("EB", "B", "Pong"),
    ]
    (plain,) = ph.rollout(
        PingEnv,
        custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
        show_progress_bar=False,
    )
    assert plain.steps[0].messages is None


def test_exports(tmp_path):
    (rollout,) = ph.rollout(
        "supply_chain_v0", custom_policy_mapping=HEURISTIC, show_progress_bar=False
    )
    path = rollout.to_json_lines(tmp_path / "r.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 100 and rows[0]["agent_id"] == "SHOP" and rows[0]["action"] == [25.0]
    pd = pytest.importorskip("pandas")
    frame = rollout.to_dataframe()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 100
    assert frame["reward"].sum() == pytest.approx(sum(rollout.rewards_for_agent("SHOP")))


def test_saved_policies_roll_out_through_the_phantom_alias(tmp_path):
    env = ph.make("supply_chain_v0")
    policy = OrderUpToPolicy(env.observation_space("SHOP"), env.action_space("SHOP"), level=25)
    ph.TrainedPolicies(
        {"shop_policy": policy},
        {"SHOP": "shop_policy"},
        {"kind": "registered", "name": "supply_chain_v0", "config": {}},
    ).save(tmp_path / "run" / "policies")
    results = list(
        ph.utils.rllib.rollout(
            directory=tmp_path / "run",
            num_repeats=2,
            metrics={"SHOP/stock": SimpleAgentMetric("SHOP", "stock", "mean")},
        )
    )
    assert len(results) == 2
    shop_actions = [int(round(x[0])) for r in results for x in r.actions_for_agent("SHOP")]
    assert shop_actions[0] == 25 and len(shop_actions) == 200
    assert list(results[0].metrics["SHOP/stock"])[:1] == [25.0]
    with pytest.raises(ConfigError, match="no trained policies found"):
        ph.utils.rllib.rollout(directory=tmp_path / "nowhere")


def test_evaluate_policy_sweeps_ranges_in_the_observation(tmp_path):
    env = ph.make("supply_chain_v0")
    policy = OrderUpToPolicy(env.observation_space("SHOP"), env.action_space("SHOP"), level=30)
    trained = ph.TrainedPolicies({"shop": policy}, {"SHOP": "shop"})
    rows = ph.evaluate_policy(trained, "shop", [LinspaceRange(0.0, 0.3, 4), 0.5, 0.0])
    assert [round(float(a[0])) for _, _, a in rows] == [30, 20, 10, 0]
    assert rows[1][0] == {"0": pytest.approx(0.1)}
    with pytest.raises(ConfigError, match="no policy 'nope'"):
        ph.evaluate_policy(trained, "nope", [0.0, 0.0, 0.0])


def test_rollout_errors():
    with pytest.raises(ConfigError, match="num_repeats must be an int >= 1"):
        ph.rollout("supply_chain_v0", custom_policy_mapping=HEURISTIC, num_repeats=0)
    with pytest.raises(ConfigError, match=r"no policy for agent\(s\) \['SHOP'\]"):
        ph.rollout("supply_chain_v0")
    with pytest.raises(ConfigError, match="'WAREHOUSE', which is not a strategic agent"):
        ph.rollout("supply_chain_v0", custom_policy_mapping={"WAREHOUSE": ConstantPolicy})


def test_supertype_ranges_reach_the_agents():
    rollouts = ph.rollout(
        PingEnv,
        env_config={"supertype": Family(ListRange([0.25, 0.75]))},
        custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
        show_progress_bar=False,
    )
    assert [r.rollout_params for r in rollouts] == [
        {"supertype.skill": 0.25},
        {"supertype.skill": 0.75},
    ]
    assert rollouts[1].observations_for_agent("A")[0][1] == pytest.approx(0.75)
    assert isinstance(UniformFloatSampler(0, 1).sample(np.random.default_rng(0)), float)
