"""ph.diff: first divergent step, per-agent return differences, messages added and
removed per step and edge, the readable summary and the per-(step, agent) table."""

from __future__ import annotations

from collections import Counter

import pytest
from models import ConstantPolicy, PingEnv, Pong
from replay_models import bundled_rollouts

import phantomzoo as ph
from phantomzoo.errors import ConfigError

CONSTANT = {"A": (ConstantPolicy, {"value": 2}), "B": (ConstantPolicy, {"value": 3})}


def _ping(record_messages: bool = True, **kwargs) -> ph.Rollout:
    return ph.rollout(
        PingEnv,
        custom_policy_mapping=CONSTANT,
        record_messages=record_messages,
        show_progress_bar=False,
        **kwargs,
    )[0]


def test_equal_rollouts():
    a = _ping()
    d = ph.diff(a, ph.replay(a))
    assert d.equal and d.first_divergent_step is None and d.first_difference is None
    assert d.return_differences == {"A": 0.0, "B": 0.0}
    assert d.message_changes == [] and d.messages_added == {} and d.messages_removed == {}
    text = str(d)
    assert "identical (5 steps)" in text and "the same for every agent" in text
    assert "messages: the same in every step" in text


def test_a_forced_action_is_diffed_step_agent_and_edge():
    a = _ping()
    b = ph.branch(a, at_step=2, actions={"A": 0})
    d = ph.diff(a, b)
    assert d.first_divergent_step == 2
    first = d.first_difference
    assert (first.step, first.agent_id, first.field, first.a, first.b) == (2, "A", "actions", 2, 0)
    # A gets the Pong of its own Ping as reward: 0 instead of 2 at step 2 only (the
    # constant policy sends 2 again afterwards).
    assert d.returns_a == {"A": 10.0, "B": 15.0} and d.returns_b == {"A": 8.0, "B": 15.0}
    assert d.return_differences == {"A": -2.0, "B": 0.0}
    # At step 2 the Ping(0)/Pong(0) pair replaced Ping(2)/Pong(2) on both directions.
    assert d.messages_added == {(2, "A", "EA"): 1, (2, "EA", "A"): 1}
    assert d.messages_removed == {(2, "A", "EA"): 1, (2, "EA", "A"): 1}
    back = [c for c in d.message_changes if c.sender_id == "EA"]
    assert back[0].added == (Pong(0),) and back[0].removed == (Pong(2),)
    text = str(d)
    assert "diverge at step 2 (a: 5 steps, b: 5 steps)" in text
    assert "step 2, agent 'A': actions a=2, b=0" in text
    assert "A: -2 (10 -> 8)" in text and "B:" not in text.split("messages")[0].split("(b - a)")[1]
    assert "messages: +2 / -2 over 1 step(s)" in text and "A -> EA: +1 / -1" in text


def test_to_dataframe_has_one_row_per_step_and_agent():
    pytest.importorskip("pandas")
    a = _ping()
    d = ph.diff(a, ph.branch(a, at_step=2, actions={"A": 0}))
    frame = d.to_dataframe()
    assert len(frame) == 10 and set(frame["agent_id"]) == {"A", "B"}
    row = frame[(frame.step == 2) & (frame.agent_id == "A")].iloc[0]
    assert (row.reward_a, row.reward_b, row.reward_diff) == (2.0, 0.0, -2.0)
    assert bool(row.action_changed) and (row.action_a, row.action_b) == (2, 0)
    assert (row.messages_sent_added, row.messages_received_removed) == (1, 1)
    assert frame.action_changed.sum() == 1 and frame.reward_diff.abs().sum() == 2.0
    assert d.records()[0]["step"] == 0


def test_without_recorded_messages_messages_are_not_compared():
    a = _ping(record_messages=False)
    d = ph.diff(a, ph.branch(a, at_step=1, actions={"B": 1}))
    assert not d.messages_compared and d.message_changes == []
    assert "messages: not compared (record them with" in str(d)


def test_episodes_of_other_lengths_and_seeds():
    a, b = ph.rollout(
        PingEnv,
        custom_policy_mapping=CONSTANT,
        show_progress_bar=False,
        num_repeats=2,
    )
    assert ph.diff(a, b).equal  # constant policies, nothing random: the same episode
    short = ph.Rollout(0, 0, {}, {}, a.steps[:3])
    d = ph.diff(a, short)
    assert d.first_divergent_step == 3 and d.first_difference.field == "length"
    assert d.num_steps == (5, 3) and "(a: 5 steps, b: 3 steps)" in str(d)


def test_a_bundled_model_diff_summary_lists_edges():
    (a,) = bundled_rollouts("supply_chain_v0")
    b = ph.branch(a, at_step=5, actions={"SHOP": a.steps[5].actions["SHOP"] * 0 + 90})
    d = ph.diff(a, b)
    assert d.first_divergent_step == 5
    changes = Counter((c.sender_id, c.receiver_id) for c in d.message_changes)
    assert changes[("SHOP", "WAREHOUSE")] >= 1  # the stock request carries the order
    assert all(c.step >= 5 for c in d.message_changes)
    assert "SHOP -> WAREHOUSE" in str(d)


def test_diff_refuses_non_rollouts():
    with pytest.raises(ConfigError, match="b is list"):
        ph.diff(_ping(), [])
    with pytest.raises(ConfigError, match="a is NoneType"):
        ph.diff(None, _ping())
