"""Action masks in the engine: the hook, infos and Dict observations of who acts next,
malformed masks and illegal actions refused, staged models, type augmentation."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test

import phantomzoo as ph
from phantomzoo.engine.masks import split_mask
from phantomzoo.errors import ActionError, ConfigError
from phantomzoo.samplers import UniformFloatSampler


class Counter(ph.StrategicAgent):
    """Counts up to ``limit``; action k adds k; the mask forbids passing the limit."""

    def __init__(self, agent_id: str, limit: int = 3, obs: str = "box", **kw: Any) -> None:
        super().__init__(agent_id, **kw)
        self.limit, self.kind = limit, obs
        box = gym.spaces.Box(0.0, 10.0, (1,), np.float32)
        self.observation_space = gym.spaces.Dict({"count": box}) if obs == "dict" else box
        self.action_space = gym.spaces.Discrete(limit + 1)
        self.bad_mask: Any = None
        self.count = 0
        self.mask_calls = 0

    def reset(self) -> None:
        self.count = 0

    def action_mask(self, ctx: ph.Context) -> Any:
        self.mask_calls += 1
        if self.bad_mask is not None:
            return self.bad_mask
        mask = np.zeros(self.limit + 1, np.int8)
        mask[: self.limit - self.count + 1] = 1
        return mask

    def decode_action(self, ctx: ph.Context, action: Any) -> None:
        self.count += int(action)

    def encode_observation(self, ctx: ph.Context) -> Any:
        value = np.array([self.count], np.float32)
        return {"count": value} if self.kind == "dict" else value

    def compute_reward(self, ctx: ph.Context) -> float:
        return float(self.count)


class Plain(Counter):
    """The same agent without a mask."""

    action_mask = ph.StrategicAgent.action_mask  # type: ignore[assignment]


class Multi(Counter):
    """A MultiDiscrete([3, 2]) agent; sub-space 0's last action is never legal."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id)
        self.action_space = gym.spaces.MultiDiscrete([3, 2])

    def action_mask(self, ctx: ph.Context) -> Any:
        if self.bad_mask is not None:
            return self.bad_mask
        return np.array([1, 1, 0, 1, 1], np.int8)

    def decode_action(self, ctx: ph.Context, action: Any) -> None:
        self.count += int(np.sum(action))


class CounterEnv(ph.PhantomEnv):
    def __init__(self, agents: list[ph.StrategicAgent], num_steps: int = 4, **kw: Any) -> None:
        super().__init__(num_steps=num_steps, network=ph.Network(agents), **kw)


def test_only_overriding_agents_are_masked_and_infos_hold_masks_after_the_step():
    env = CounterEnv([Counter("A"), Plain("B")])
    assert env.engine.masked_agents == frozenset({"A"})
    _, infos = env.reset(seed=0)
    assert infos["A"]["action_mask"].tolist() == [1, 1, 1, 1]
    assert infos["A"]["action_mask"].dtype == np.int8
    assert "action_mask" not in infos["B"]
    _, _, _, _, infos = env.step({"A": 2, "B": 0})
    assert infos["A"]["action_mask"].tolist() == [1, 1, 0, 0]  # computed after the step
    assert np.array_equal(env.engine.action_mask("A"), [1, 1, 0, 0])
    assert env.engine.full_mask("A").tolist() == [1, 1, 1, 1]
    assert env.engine.full_mask("B").tolist() == [1, 1, 1, 1]


def test_unmasked_models_never_call_anything_and_have_no_mask_infos():
    env = CounterEnv([Plain("A")])
    _, infos = env.reset(seed=0)
    _, _, _, _, infos2 = env.step({"A": 3})
    assert infos == {"A": {}} and infos2 == {"A": {}}
    assert env.engine.masked_agents == frozenset()
    with pytest.raises(ActionError, match="has no action mask"):
        env.engine.action_mask("A")


def test_ended_agents_get_no_mask_in_their_final_infos():
    env = CounterEnv([Counter("A")], num_steps=1)
    env.reset(seed=0)
    _, _, _, truncations, infos = env.step({"A": 1})
    assert truncations["A"] and "action_mask" not in infos["A"]


def test_dict_observations_carry_the_mask_and_their_space_has_the_entry():
    env = CounterEnv([Counter("A", obs="dict")])
    space = env.observation_space("A")
    assert space["action_mask"] == gym.spaces.Box(0, 1, (4,), np.int8)
    obs, infos = env.reset(seed=0)
    assert obs["A"]["action_mask"].tolist() == [1, 1, 1, 1]
    assert space.contains(obs["A"])
    obs, *_ = env.step({"A": 3})
    assert obs["A"]["action_mask"].tolist() == [1, 0, 0, 0]
    assert env.engine.observe("A")["action_mask"].tolist() == [1, 0, 0, 0]


def test_the_mask_is_computed_once_per_step_for_obs_and_infos():
    agent = Counter("A", obs="dict")
    env = CounterEnv([agent])
    env.reset(seed=0)
    before = agent.mask_calls
    env.step({"A": 1})
    assert agent.mask_calls - before == 1  # observation, infos and the next check share it


def test_type_augmentation_and_masks_together():
    @dataclass
    class T(ph.Supertype):
        x: float

    boxed = Counter("A", supertype=T(UniformFloatSampler(0.0, 1.0)))
    dicted = Counter("B", obs="dict", supertype=T(UniformFloatSampler(0.0, 1.0)))
    env = CounterEnv([boxed, dicted])
    assert env.observation_space("A").shape == (2,)  # type appended, mask in infos only
    assert set(env.observation_space("B").spaces) == {"count", "type", "action_mask"}
    obs, infos = env.reset(seed=1)
    assert obs["A"].shape == (2,) and "action_mask" in infos["A"]
    assert set(obs["B"]) == {"count", "type", "action_mask"}
    assert env.observation_space("B").contains(obs["B"])


def test_pettingzoo_api_tests_honour_the_masks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(CounterEnv([Counter("A", obs="dict"), Counter("B", obs="dict")]), 20)
        from pettingzoo.utils.conversions import parallel_to_aec

        api_test(parallel_to_aec(CounterEnv([Counter("A"), Counter("B")])), num_cycles=20)


# ------------------------------------------------------------------ illegal actions
def test_an_illegal_action_names_the_agent_the_action_and_the_legal_ones():
    env = CounterEnv([Counter("A")])
    env.reset(seed=0)
    env.step({"A": 3})
    with pytest.raises(
        ActionError, match=r"action 1 of agent 'A' .* illegal.*Legal actions now: \[0\]"
    ):
        env.step({"A": 1})


@pytest.mark.parametrize("action", [np.int64(2), np.array(2), np.array([2]), 2.0])
def test_illegal_actions_are_caught_in_any_integer_form(action):
    env = CounterEnv([Counter("A")])
    env.reset(seed=0)
    env.step({"A": 2})
    with pytest.raises(ActionError, match="illegal"):
        env.step({"A": action})


def test_illegal_actions_are_refused_every_step_at_first_and_full_but_not_off():
    for level in ("first", "full"):
        env = CounterEnv([Counter("A")], checks=level)
        env.reset(seed=0)
        env.step({"A": 0})  # the first action is legal; later ones are still checked
        env.step({"A": 3})
        with pytest.raises(ActionError, match="illegal"):
            env.step({"A": 3})
    env = CounterEnv([Counter("A")], checks="off")
    env.reset(seed=0)
    env.step({"A": 3})
    env.step({"A": 3})  # not checked
    env.checks = "first"
    with pytest.raises(ActionError, match="illegal"):
        env.step({"A": 3})


def test_multidiscrete_masks_are_flat_and_checked_per_sub_space():
    env = CounterEnv([Multi("M")])
    _, infos = env.reset(seed=0)
    mask = infos["M"]["action_mask"]
    assert mask.tolist() == [1, 1, 0, 1, 1]
    parts = split_mask(env.action_space("M"), mask)
    assert [p.tolist() for p in parts] == [[1, 1, 0], [1, 1]]
    env.action_space("M").sample(mask=parts)  # gymnasium's form
    env.step({"M": np.array([1, 1])})
    with pytest.raises(ActionError, match=r"per sub-space \[0, 1\], \[0, 1\]"):
        env.step({"M": np.array([2, 0])})


# ------------------------------------------------------------------ bad masks
@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (np.ones(3), r"has shape \(3,\), expected \(4,\) for Discrete\(4\)"),
        (np.ones((2, 2)), r"has shape \(2, 2\)"),
        (np.array([1, 2, 0, 1]), "values other than 0"),
        (np.zeros(4), "allows no action"),
        (None, "not an array of numbers"),
        ("1111", "not an array of numbers"),
    ],
)
def test_malformed_masks_raise_naming_agent_method_and_problem(bad, problem):
    agent = Counter("A")
    env = CounterEnv([agent])
    agent.bad_mask = bad if bad is not None else object()
    with pytest.raises(ActionError, match=rf"Counter\.action_mask\(\) of agent 'A' .*{problem}"):
        env.reset(seed=0)


def test_a_multidiscrete_sub_space_without_a_legal_action_is_named():
    agent = Multi("M")
    agent.bad_mask = np.array([1, 1, 1, 0, 0])
    env = CounterEnv([agent])
    with pytest.raises(ActionError, match=r"allows no action \(sub-space\(s\) \[1\]\)"):
        env.reset(seed=0)


def test_masks_on_other_action_spaces_are_refused_at_construction():
    agent = Counter("A")
    agent.action_space = gym.spaces.Box(0.0, 1.0, (1,))
    with pytest.raises(ConfigError, match=r"'A' \(Counter\) defines action_mask\(\).*Discrete"):
        CounterEnv([agent])


def test_a_dict_space_with_its_own_mask_entry_is_refused():
    agent = Counter("A", obs="dict")
    agent.observation_space = gym.spaces.Dict(
        {"count": agent.observation_space["count"], "action_mask": gym.spaces.MultiBinary(4)}
    )
    with pytest.raises(ConfigError, match="already has an 'action_mask' entry"):
        CounterEnv([agent])


def test_full_mask_of_a_box_agent_and_of_an_unknown_agent():
    box = Plain("B")
    box.action_space = gym.spaces.Box(0.0, 1.0, (1,))
    env = CounterEnv([Counter("A"), box])
    with pytest.raises(ConfigError, match="neither|supported for Discrete"):
        env.engine.full_mask("B")
    with pytest.raises(ActionError, match="unknown agent 'Z'"):
        env.engine.full_mask("Z")


# ------------------------------------------------------------------ staged models
class StagedEnv(ph.FiniteStateMachineEnv):
    def __init__(self) -> None:
        agents = [Counter("A"), Counter("B", obs="dict")]
        stages = [
            ph.FSMStage("a", ["A"], ["A"], ["b"]),
            ph.FSMStage("b", ["B"], ["B"], ["a"]),
        ]
        super().__init__(6, ph.Network(agents), initial_stage="a", stages=stages)


def test_staged_envs_give_the_mask_to_the_agents_that_act_next():
    env = StagedEnv()
    _, infos = env.acting_reset(seed=0)
    assert list(infos) == ["A"] and infos["A"]["action_mask"].tolist() == [1, 1, 1, 1]
    obs, _, _, _, infos = env.acting_step({"A": 2})
    assert "action_mask" in infos["B"] and "action_mask" not in infos.get("A", {})
    assert obs["B"]["action_mask"].tolist() == [1, 1, 1, 1]
    _, _, _, _, infos = env.acting_step({"B": 1})
    assert infos["A"]["action_mask"].tolist() == [1, 1, 0, 0]
    with pytest.raises(ActionError, match="illegal"):
        env.acting_step({"A": 2})


def test_staged_env_passes_pettingzoo_api_test_with_masks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(StagedEnv(), num_cycles=20)


def test_a_staged_aec_envs_first_turn_carries_its_mask_in_last_infos():
    """The AEC form's first ``last()`` has the first actor's mask (from reset's infos)."""
    env = StagedEnv()
    env.reset(seed=0)
    assert env.agent_selection == "A"
    *_, info = env.last()
    assert info["action_mask"].tolist() == [1, 1, 1, 1]
    assert info["action_mask"].dtype == np.int8
