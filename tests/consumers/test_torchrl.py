"""TorchRL's ``PettingZooWrapper`` on every registered env, through TorchRL's documented API.

Each env's parallel form (staged models through their parallel view) and AEC form (with
``use_mask=True``, which TorchRL requires for AEC envs) passes
``torchrl.envs.utils.check_env_specs`` and rolls out; a rollout with a fixed policy
reproduces the rewards of the same episode played directly on the PettingZoo env.
Phantom-style ids (``SHOP1``, ``TRAVEL1``) are grouped by kind with an explicit
``group_map`` (TorchRL's default groups only ``name_N`` ids).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

torchrl = pytest.importorskip(
    "torchrl", reason="torchrl is in the dev extra: pip install -c constraints.txt -e .[dev]"
)

import torch  # noqa: E402
from consumer_envs import (  # noqa: E402
    CYCLES,
    REGISTERED,
    aec_env,
    group_by_kind,
    is_masked,
    is_staged,
    parallel_env,
)
from torchrl.envs.libs.pettingzoo import PettingZooWrapper  # noqa: E402
from torchrl.envs.utils import MarlGroupMapType, check_env_specs  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "PettingZoo in TorchRL is tested using 1.24.3"
        yield


def _middle(space: Any) -> np.ndarray | int:
    """A fixed legal action: the middle of a Box, the first choice of a Discrete."""
    if hasattr(space, "low"):
        return ((space.low + space.high) / 2).astype(space.dtype)
    return 0


def _fixed_policy(env: PettingZooWrapper, pz_env: Any) -> Any:
    """A TorchRL policy writing every agent's ``_middle`` action into the tensordict."""
    actions = {
        group: torch.as_tensor(np.stack([_middle(pz_env.action_space(a)) for a in agents]))
        for group, agents in env.group_map.items()
    }

    def policy(td: Any) -> Any:
        for group, action in actions.items():
            td[group, "action"] = action.clone()
        return td

    return policy


def _direct_returns(pz_env: Any, seed: int) -> dict[str, float]:
    """Each agent's return over one episode of ``_middle`` actions on the PettingZoo env."""
    pz_env.reset(seed=seed)
    returns = dict.fromkeys(pz_env.possible_agents, 0.0)
    while pz_env.agents:
        actions = {a: _middle(pz_env.action_space(a)) for a in pz_env.agents}
        rewards = pz_env.step(actions)[1]
        for agent, reward in rewards.items():
            returns[agent] += float(reward)
    return returns


@pytest.mark.parametrize("name", REGISTERED)
def test_parallel_form_passes_check_env_specs_and_rolls_out(name):
    pz = parallel_env(name)
    env = PettingZooWrapper(pz, group_map=group_by_kind(pz.possible_agents), seed=0)
    check_env_specs(env)
    first = env.reset(seed=0)
    policy = _fixed_policy(env, pz)
    td = env.rollout(CYCLES, policy, auto_reset=False, tensordict=first)
    assert td.batch_size == torch.Size([CYCLES])
    returns = {}
    for group, agents in env.group_map.items():
        observations = td[group, "observation"]
        assert observations.shape[:2] == (CYCLES, len(agents))
        assert torch.isfinite(observations).all()
        for index, agent in enumerate(agents):
            returns[agent] = float(td["next", group, "reward"][:, index].sum())
        assert td["next", group, "done"][-1].all()  # the episode ends after CYCLES steps
        assert not td["next", group, "done"][:-1].any()
    expected = _direct_returns(parallel_env(name), seed=0)
    assert returns == pytest.approx(expected, rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("name", REGISTERED)
def test_aec_form_passes_check_env_specs_and_rolls_out_one_agent_at_a_time(name):
    pz = aec_env(name)
    env = PettingZooWrapper(pz, use_mask=True, seed=0)  # AEC: one group per agent
    assert env.group_map == {agent: [agent] for agent in pz.possible_agents}
    check_env_specs(env)
    steps = 2 * len(pz.possible_agents)
    td = env.rollout(steps, break_when_any_done=False)
    assert td.batch_size == torch.Size([steps])
    acting = sum(td["next", group, "mask"].long().sum(-1) for group in env.group_map)
    assert (acting == 1).all()  # exactly one agent acts in every AEC step


def test_phantom_style_ids_are_grouped_by_kind_with_a_group_map():
    pz = parallel_env("supply_chain_v0", num_shops=3)
    assert pz.possible_agents == ["SHOP1", "SHOP2", "SHOP3"]
    default = PettingZooWrapper(pz)  # TorchRL groups only `name_N` ids
    assert default.group_map == {"SHOP1": ["SHOP1"], "SHOP2": ["SHOP2"], "SHOP3": ["SHOP3"]}
    by_kind = PettingZooWrapper(
        parallel_env("supply_chain_v0", num_shops=3), group_map=(group_by_kind(pz.possible_agents))
    )
    assert by_kind.group_map == {"SHOP": ["SHOP1", "SHOP2", "SHOP3"]}
    assert by_kind.full_observation_spec["SHOP", "observation"].shape == (3, 3)


def test_advertisers_of_every_family_fit_one_group():
    pz = parallel_env("digital_ads_v0", advertisers_per_family=2)
    assert group_by_kind(pz.possible_agents) == {
        "TRAVEL": ["TRAVEL1", "TRAVEL2"],
        "TECH": ["TECH1", "TECH2"],
        "SPORT": ["SPORT1", "SPORT2"],
    }
    # The families' observation bounds differ, yet their specs stack into one group.
    env = PettingZooWrapper(pz, group_map=MarlGroupMapType.ALL_IN_ONE_GROUP)
    assert env.group_map == {"agents": pz.possible_agents}
    check_env_specs(env)
    assert env.full_observation_spec["agents", "observation"].shape == (6, 13)


@pytest.mark.parametrize("name", [n for n in REGISTERED if is_staged(n)])
def test_staged_parallel_view_reports_who_acts_in_torchrl_infos(name):
    pz = parallel_env(name)
    env = PettingZooWrapper(pz, group_map=MarlGroupMapType.ALL_IN_ONE_GROUP)
    first = env.reset(seed=0)
    td = env.rollout(CYCLES, _fixed_policy(env, pz), auto_reset=False, tensordict=first)
    acting = td["next", "agents", "info", "acting"].bool()  # infos[agent]["acting"]
    assert acting.shape == (CYCLES, len(pz.possible_agents))
    direct = parallel_env(name)
    direct.reset(seed=0)
    expected = []
    for _ in range(CYCLES):
        infos = direct.step({a: _middle(direct.action_space(a)) for a in direct.agents})[4]
        expected.append([bool(infos[a]["acting"]) for a in direct.possible_agents])
    assert acting.tolist() == expected


@pytest.mark.parametrize("name", [n for n in REGISTERED if is_masked(n)])
def test_torchrl_reads_masks_from_infos_and_samples_legal_actions(name):
    pz = parallel_env(name)  # default checks: an illegal action would raise ActionError
    env = PettingZooWrapper(pz, group_map=MarlGroupMapType.ALL_IN_ONE_GROUP, seed=0)
    td = env.rollout(3 * CYCLES, break_when_any_done=False)  # random actions, masked
    masks, actions = td["agents", "action_mask"], td["agents", "action"]
    assert masks.shape == (
        3 * CYCLES,
        len(pz.possible_agents),
        pz.action_space(pz.possible_agents[0]).n,
    )
    assert not masks.all()  # some actions were ruled out
    assert masks.gather(-1, actions.unsqueeze(-1)).all()  # and none of them was taken


def test_pettingzoo_style_ids_get_torchrls_default_groups():
    pz = parallel_env("digital_ads_v0", advertisers_per_family=2, agent_ids="pettingzoo")
    env = PettingZooWrapper(pz)  # no group_map: TorchRL groups `name_N` ids itself
    assert env.group_map == {
        "travel": ["travel_0", "travel_1"],
        "tech": ["tech_0", "tech_1"],
        "sport": ["sport_0", "sport_1"],
    }
    check_env_specs(env)
