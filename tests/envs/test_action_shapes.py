"""The bundled models read a one-number action of any shape, and refuse anything else.

Consumers reshape actions (AgileRL's vector worker squeezes a shape-(1,) ``Box`` action
into a 0-d array; others send a Python float or a ``(1, 1)`` array). Every bundled
model's ``decode_action`` reads the single value of any of them through
``phantomzoo.envs._pz.one_number`` and raises the typed ``ActionError`` otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs import digital_ads_v0, supply_chain_paper_v0, supply_chain_v0, type_toy_v0
from phantomzoo.envs._pz import one_number
from phantomzoo.errors import ActionError

#: One value, in the shapes consumers are known to send.
SHAPES = {
    "(1,) float32": np.array([3.0], dtype=np.float32),
    "0-d array": np.array(3.0),
    "numpy scalar": np.float32(3.0),
    "python float": 3.0,
    "python int": 3,
    "(1, 1) array": np.array([[3.0]]),
    "list": [3.0],
    "int array": np.array([3]),
}
#: Actions that do not hold exactly one number.
BAD = {
    "two values": (np.array([3.0, 4.0]), r"shape \(2,\)"),
    "empty": (np.array([]), r"shape \(0,\)"),
    "string": ("3", r"dtype <U1"),
    "None": (None, r"dtype object"),
    "bool": (True, r"dtype bool|exactly one number"),
    "nested objects": ([object()], r"dtype object"),
}


@pytest.mark.parametrize("action", SHAPES.values(), ids=SHAPES.keys())
def test_one_number_reads_every_shape_holding_one_value(action):
    assert one_number("A", action) == 3.0


@pytest.mark.parametrize(("action", "detail"), BAD.values(), ids=BAD.keys())
def test_one_number_refuses_anything_else_with_the_typed_error(action, detail):
    if isinstance(action, bool):
        assert one_number("A", np.array([True])) == 1.0  # a bool array is a number array
        return
    with pytest.raises(ActionError, match=rf"agent 'A' must hold exactly one number.*{detail}"):
        one_number("A", action)


def _envs(checks: str = "first"):
    """One small instance of each bundled model. With the default checks the engine
    accepts every one-number shape too; ``checks="off"`` reaches the models' own
    decode_action, whose refusals are what the refusal test checks."""
    return {
        "supply_chain_v0": supply_chain_v0.raw_env(num_customers=2, checks=checks),
        "supply_chain_paper_v0": supply_chain_paper_v0.raw_env(num_shops=2, checks=checks),
        "digital_ads_v0": digital_ads_v0.raw_env(
            advertisers_per_family=1, max_bid=5.0, checks=checks
        ),
        "type_toy_v0": type_toy_v0.raw_env(num_agents=2, checks=checks),
    }


def _first_rewards(env: ph.PhantomEnv | ph.FiniteStateMachineEnv, action: object) -> dict:
    env.acting_reset(seed=7)
    return env.acting_step({i: action for i in env.acting_agents})[1]


@pytest.mark.parametrize("name", sorted(_envs()))
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPES.keys())
def test_every_bundled_model_plays_the_same_step_for_every_shape(name, shape):
    reference = _first_rewards(_envs()[name], SHAPES["(1,) float32"])
    assert _first_rewards(_envs()[name], SHAPES[shape]) == reference


@pytest.mark.parametrize("name", sorted(_envs()))
@pytest.mark.parametrize(("action", "detail"), list(BAD.values())[:4], ids=list(BAD)[:4])
def test_every_bundled_model_refuses_actions_not_holding_one_number(name, action, detail):
    env = _envs(checks="off")[name]  # the model's own refusal (the engine's is tested too)
    env.acting_reset(seed=0)
    first = env.acting_agents[0]
    with pytest.raises(ActionError, match=rf"agent '{first}' must hold exactly one number"):
        env.acting_step({i: action for i in env.acting_agents})
    checked = _envs()[name]  # with the default checks the engine refuses it first
    checked.acting_reset(seed=0)
    with pytest.raises(ActionError, match=rf"action of agent '{first}' .* lies outside"):
        checked.acting_step({i: action for i in checked.acting_agents})


def test_the_squeezed_action_of_a_supply_chain_is_read_as_its_value():
    env = supply_chain_v0.raw_env(num_customers=2)
    env.reset(seed=0)
    env.step({"SHOP": np.array(30.0)})  # AgileRL's squeezed (1,) action
    assert env.network["SHOP"].delivered_stock == 30
