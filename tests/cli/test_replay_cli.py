"""``phantomzoo replay DIR --episode N`` and ``phantomzoo branch DIR --at-step K --set
AGENT.type.FIELD=VALUE``: on saved trained (MLP) and fixed policies, staged and parallel
models, with every user mistake reported on one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from models import ConstantPolicy
from replay_models import LeakyEnv

import phantomzoo as ph
from phantomzoo import registry
from phantomzoo.cli.commands import main
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.training.api import resolve_env

pytest_plugins = ["cli_helpers"]

PAPER = {"num_shops": 2, "customers_per_shop": 2, "num_cycles": 10}


def _save(directory: Path, name: str, config: dict, policy_for) -> Path:
    env = resolve_env(name, config).make()
    first = env.possible_agents[0]
    policy = policy_for(env.observation_space(first), env.action_space(first))
    record = {"kind": "registered", "name": name, "config": config}
    mapping = dict.fromkeys(env.possible_agents, "p")
    ph.TrainedPolicies({"p": policy}, mapping, record).save(directory / "policies")
    return directory


def _mlp(obs, act):
    """A trained-looking policy: an MLP with seeded weights (what every backend saves)."""
    rng = np.random.default_rng(0)
    n, m = obs.shape[0], act.shape[0]
    return ph.MLPPolicy(
        obs, act, [(rng.normal(size=(n, 8)), np.zeros(8))], (rng.normal(size=(8, m)), np.zeros(m))
    )


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory) -> Path:
    return _save(tmp_path_factory.mktemp("paper"), "supply_chain_paper_v0", PAPER, _mlp)


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory) -> Path:
    return _save(
        tmp_path_factory.mktemp("shop"),
        "supply_chain_v0",
        {"num_steps": 20},
        lambda obs, act: OrderUpToPolicy(obs, act, level=25),
    )


def test_replay_prints_that_the_episode_is_the_same(paper_run, shop_run, capsys):
    assert main(["replay", str(paper_run), "--episode", "2"]) == 0
    out = capsys.readouterr().out
    assert "supply_chain_paper_v0: episode 2 (seed 2) replayed" in out
    assert "identical (10 steps," in out and "SHOP1:" in out and "SHOP2:" in out
    assert main(["replay", str(shop_run), "--episode", "1", "--seed", "10"]) == 0
    out = capsys.readouterr().out
    assert "episode 1 (seed 11)" in out and "identical (20 steps" in out


def test_branch_on_a_type_field_prints_the_diff(paper_run, capsys):
    argv = ["branch", str(paper_run), "--at-step", "3", "--set", "SHOP1.type.cost_of_carry=0.9"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "branched at step 3" in out and "changes: SHOP1.type.cost_of_carry=0.9" in out
    assert "The episodes diverge at step 3" in out
    assert "first difference: step 3, agent 'SHOP1': observations" in out
    assert "return differences (b - a):" in out and "SHOP1:" in out


def test_branch_with_a_forced_action_of_a_parallel_model(shop_run, capsys):
    argv = ["branch", str(shop_run), "--at-step", "4", "--set", "SHOP.action=[90]"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "diverge at step 4" in out and "agent 'SHOP': actions" in out and "b=[90.0]" in out
    assert "SHOP -> WAREHOUSE" in out  # the order carries the forced action


def test_set_pairs_are_parsed_into_types_and_actions():
    from phantomzoo.cli.replay import parse_changes

    assert parse_changes(["SHOP1.type.cost_of_carry=0.5", "SHOP2.action=3"]) == (
        {"SHOP1": {"cost_of_carry": 0.5}},
        {"SHOP2": 3},
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], "branch needs a change"),
        (["--set", "SHOP1.cost_of_carry=1"], "expected AGENT.type.FIELD=VALUE"),
        (["--set", "SHOP1.type.cost_of_carry"], "expected KEY=VALUE"),
        (
            ["--set", "SHOP1.type.cost_of_carry=1", "SHOP1.type.cost_of_carry=2"],
            "given twice",
        ),
        (["--set", "SHOP1.type.price=1"], r"\['price'\] that ShopSupertype does not have"),
        (["--set", "NOBODY.type.cost_of_carry=1"], "'NOBODY', which is not an agent"),
        (["--set", "SHOP1.action=[1, 2]"], r"SHOP1's actions are arrays of shape \(1,\)"),
        (["--config", "no_such_attribute=1"], "'no_such_attribute', which is not an attribute"),
    ],
)
def test_branch_mistakes_are_one_line(paper_run, capsys, error_line, extra, expected):
    import re

    line = error_line(capsys, 2, ["branch", str(paper_run), "--at-step", "2", *extra])
    assert re.search(expected, line), line


def test_at_step_outside_the_episode_and_other_flag_mistakes(paper_run, capsys, error_line):
    argv = ["branch", str(paper_run), "--at-step", "10", "--set", "SHOP1.type.cost_of_carry=1"]
    assert "at_step=10 is outside this rollout, which has 10 step(s)" in error_line(capsys, 2, argv)
    line = error_line(capsys, 2, ["branch", str(paper_run), "--set", "SHOP1.action=1"])
    assert "--at-step" in line and "required" in line
    line = error_line(capsys, 2, ["replay", str(paper_run), "--episode", "-1"])
    assert "--episode" in line
    line = error_line(capsys, 2, ["replay", str(paper_run.parent / "missing")])
    assert "does not exist" in line


def test_a_nondeterministic_model_is_reported_on_one_line(
    tmp_path, monkeypatch, capsys, error_line
):
    monkeypatch.setitem(registry._REGISTRY, "leaky_v0", registry.EnvSpec("leaky_v0", LeakyEnv))
    env = LeakyEnv()
    policy = ConstantPolicy(env.observation_space("A"), env.action_space("A"), value=2)
    record = {"kind": "registered", "name": "leaky_v0", "config": {}}
    ph.TrainedPolicies({"p": policy}, {"A": "p", "B": "p"}, record).save(tmp_path / "policies")
    line = error_line(capsys, 2, ["replay", str(tmp_path), "--episode", "1"])
    assert "differs from the recording at step 0, agent 'B': rewards" in line
