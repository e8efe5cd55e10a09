"""PettingZoo's own test suite (``pettingzoo.test``) on every registered env.

Every env found in the registry gets PettingZoo's api_test (AEC, through its module's
``env()``), parallel_api_test, seed_test / parallel_seed_test, max_cycles_test and
render_test, on small configurations so the module runs in seconds. A test that cannot
apply to an env is skipped with the reason. Also checked here: the PettingZoo module
convention (``phantomzoo.envs.<name>`` with ``env``, ``parallel_env``, ``raw_env``),
``metadata["name"]``, ``render_mode`` and ``max_cycles`` handling and their errors.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pettingzoo import ParallelEnv
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
    state_test,
)

import phantomzoo as ph
from phantomzoo.errors import ConfigError

REGISTERED = sorted(ph.registered_envs())
#: Small configurations by env name (episode length left to ``max_cycles``).
SMALL: dict[str, dict[str, Any]] = {
    "supply_chain_v0": {"num_shops": 2, "num_customers": 2},
    "supply_chain_paper_v0": {"num_shops": 2, "customers_per_shop": 2},
    "digital_ads_v0": {"advertisers_per_family": 1},
    "type_toy_v0": {"num_agents": 2},
    # masks in observations (parallel_api_test reads them there); max_cycles_test samples
    # without masks, so the engine's illegal-action check is off (envs/mask_toy docs)
    "mask_toy_v0": {"num_shops": 2, "dict_observations": True, "checks": "off"},
}
CYCLES = 12  # episode length used unless a test passes max_cycles itself


def module(name: str) -> ModuleType:
    """The PettingZoo-style module of registered env ``name``."""
    return importlib.import_module(f"phantomzoo.envs.{name}")


def small(name: str) -> SimpleNamespace:
    """``env`` / ``parallel_env`` factories of ``name`` with its small configuration."""
    mod = module(name)

    def config(kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**SMALL.get(name, {}), "max_cycles": CYCLES, **kwargs}

    return SimpleNamespace(
        env=lambda **kw: mod.env(**config(kw)),
        parallel_env=lambda **kw: mod.parallel_env(**config(kw)),
    )


def is_staged(name: str) -> bool:
    return isinstance(module(name).raw_env(**SMALL.get(name, {})), ph.FiniteStateMachineEnv)


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PettingZoo's advisory warnings (e.g. Box bounds)
        yield


# ----------------------------------------------------------------- module convention
@pytest.mark.parametrize("name", REGISTERED)
def test_every_registered_env_has_its_pettingzoo_module(name):
    mod = module(name)
    for attribute in ("env", "parallel_env", "raw_env"):
        assert callable(getattr(mod, attribute, None)), f"{mod.__name__} lacks {attribute}"
    assert mod.raw_env is type(ph.make(name, **SMALL.get(name, {})))
    assert mod.raw_env.metadata["name"] == name
    assert mod.env(**SMALL.get(name, {})).metadata["name"] == name


def test_the_registry_lists_every_bundled_env():
    assert {"supply_chain_v0", "supply_chain_paper_v0", "digital_ads_v0", "type_toy_v0"} <= set(
        REGISTERED
    )


@pytest.mark.parametrize("name", REGISTERED)
def test_parallel_env_is_a_parallel_env_and_staged_ones_are_their_parallel_view(name):
    parallel = module(name).parallel_env(**SMALL.get(name, {}))
    assert isinstance(parallel, ParallelEnv)
    if is_staged(name):
        assert isinstance(parallel, ph.StagedParallelEnv)
        assert isinstance(parallel.env, module(name).raw_env)
    else:
        assert isinstance(parallel, ph.PhantomEnv)


# ----------------------------------------------------------------- PettingZoo's tests
@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_api_test(name):
    api_test(small(name).env(), num_cycles=2 * CYCLES)


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_parallel_api_test(name):
    parallel_api_test(small(name).parallel_env(), num_cycles=2 * CYCLES)


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_seed_test(name):
    seed_test(small(name).env, num_cycles=2 * CYCLES)


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_parallel_seed_test(name):
    parallel_seed_test(small(name).parallel_env, num_cycles=2 * CYCLES)


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_max_cycles_test(name):
    max_cycles_test(small(name))


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_render_test(name):
    render_test(small(name).env)


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_state_test(name):
    """On every env that opts in to a global state (``state_space``); the others refuse
    ``state()`` naming the opt-in."""
    factories = small(name)
    if getattr(module(name).raw_env(**SMALL.get(name, {})), "state_space", None) is None:
        with pytest.raises(NotImplementedError, match="defines no global state"):
            env = factories.env()
            env.reset(seed=0)
            env.state()
        return
    state_test(factories.env(), factories.parallel_env())


# ----------------------------------------------------------------- max_cycles
@pytest.mark.parametrize("name", REGISTERED)
def test_max_cycles_sets_the_episode_length_of_every_factory(name):
    mod, config = module(name), SMALL.get(name, {})
    aec = mod.env(max_cycles=3, **config)
    assert aec.unwrapped.num_steps in (3, 6)  # staged models play two stages a cycle
    raw = mod.raw_env(max_cycles=3, **config)
    observations = raw.acting_reset(seed=0)[0]
    cycles = 0
    while raw.acting_agents:
        actions = {i: raw.action_space(i).sample() for i in raw.acting_agents}
        raw.acting_step(actions)
        cycles += 1
    assert observations and cycles == 3


@pytest.mark.parametrize(
    ("name", "length"),
    [
        ("supply_chain_v0", "num_steps"),
        ("supply_chain_paper_v0", "num_cycles"),
        ("digital_ads_v0", "num_steps"),
        ("type_toy_v0", "num_steps"),
    ],
)
def test_max_cycles_disagreeing_with_the_length_argument_is_refused(name, length):
    mod = module(name)
    with pytest.raises(ConfigError, match=rf"max_cycles=3 and {length}=7 disagree"):
        mod.raw_env(max_cycles=3, **{length: 7})
    assert mod.raw_env(max_cycles=7, **{length: 7}).num_steps in (7, 14)  # agreeing is fine


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True])
def test_max_cycles_must_be_a_positive_int(bad):
    with pytest.raises(ConfigError, match="max_cycles"):
        module("supply_chain_v0").parallel_env(max_cycles=bad)


# ----------------------------------------------------------------- rendering
@pytest.mark.parametrize("name", REGISTERED)
def test_render_modes_are_declared_and_unknown_modes_refused(name):
    mod = module(name)
    assert mod.raw_env.metadata["render_modes"] == ["ansi", "human"]
    assert mod.raw_env(**SMALL.get(name, {})).render() is None  # no render mode
    with pytest.raises(ConfigError, match=r"render_mode='rgb_array'.*\['ansi', 'human'\]"):
        mod.raw_env(render_mode="rgb_array", **SMALL.get(name, {}))
    with pytest.raises(ConfigError, match="render_mode=3 is not supported"):
        mod.env(render_mode=3, **SMALL.get(name, {}))
    before_reset = mod.raw_env(render_mode="ansi", **SMALL.get(name, {})).render()
    assert before_reset.endswith("(no episode yet: call env.reset(seed=...) first)")


def test_ansi_render_of_the_supply_chain_shows_step_and_each_shops_stock():
    env = module("supply_chain_v0").parallel_env(num_shops=2, max_cycles=5, render_mode="ansi")
    env.reset(seed=1)
    env.step({i: np.array([30.0], dtype=np.float32) for i in env.agents})
    env.step({i: np.array([0.0], dtype=np.float32) for i in env.agents})
    text = env.render()
    lines = text.splitlines()
    assert lines[0] == "step 2/5"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["SHOP1", "SHOP2"]
    shop = env.network["SHOP1"]
    assert f"stock {shop.stock}/100" in lines[1] and "orders" in lines[1]
    assert shop.stock > 0  # the delivery of 30 units arrived
    for _ in range(3):
        env.step({i: np.array([0.0], dtype=np.float32) for i in env.agents})
    assert env.render().splitlines()[1].startswith("x SHOP1: ")  # truncated agents marked


def test_ansi_render_of_a_staged_model_names_the_stage():
    env = module("supply_chain_paper_v0").raw_env(num_shops=2, max_cycles=4, render_mode="ansi")
    env.reset(seed=0)
    assert env.render().splitlines()[0] == "step 0/8  stage 'restock'"
    ads = module("digital_ads_v0").raw_env(advertisers_per_family=1, render_mode="ansi")
    ads.reset(seed=0)
    text = ads.render()
    assert "stage 'advertiser'" in text and "TRAVEL1: budget" in text and "bid" in text


def test_human_render_prints_the_text_and_returns_none(capsys):
    env = module("type_toy_v0").parallel_env(num_agents=2, render_mode="human")
    env.reset(seed=0)
    assert env.render() is None
    printed = capsys.readouterr().out
    assert printed.startswith("step 0/4") and "GUESSER2: guess" in printed


class Plain(ph.StrategicAgent):
    """An agent without ``render_state``: rendered with its reward and observation."""

    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id)
        import gymnasium as gym

        self.observation_space = gym.spaces.Box(0.0, 10.0, (8,))
        self.action_space = gym.spaces.Discrete(2)

    def encode_observation(self, ctx: ph.Context) -> np.ndarray:
        return np.arange(8, dtype=np.float32)

    def decode_action(self, ctx: ph.Context, action: Any) -> None:
        return None

    def compute_reward(self, ctx: ph.Context) -> float:
        return 0.5


class PlainEnv(ph.PhantomEnv):
    def __init__(self, num_agents: int = 2, render_mode: str | None = None) -> None:
        agents = [Plain(f"A{i}") for i in range(num_agents)]
        super().__init__(num_steps=3, network=ph.Network(agents), render_mode=render_mode)


def test_default_render_line_shows_latest_reward_and_observation_summary():
    env = PlainEnv(render_mode="ansi")
    env.reset(seed=0)
    assert env.render().splitlines()[1] == "  A0: reward -  obs [0 1 2 3 4 5 ...]"
    env.step({"A0": 0, "A1": 1})
    assert env.render().splitlines()[1] == "  A0: reward 0.5  obs [0 1 2 3 4 5 ...]"


def test_render_fits_one_screen_with_many_agents():
    env = PlainEnv(num_agents=50, render_mode="ansi")
    env.reset(seed=0)
    lines = env.render().splitlines()
    assert len(lines) == 22 and lines[-1] == "  ... and 30 more agents"


def test_render_mode_is_checked_by_the_base_classes():
    with pytest.raises(ConfigError, match=r"PlainEnv: render_mode='video'"):
        PlainEnv(render_mode="video")
