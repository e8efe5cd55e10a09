"""ph.train's own checks, before any backend runs."""

from __future__ import annotations

import pytest

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import ConfigError, PolicyMappingError, RegistryError
from phantomzoo.training import resolve_env


def test_unknown_backend_lists_the_available_ones():
    with pytest.raises(
        RegistryError,
        match=r"unknown backend 'tf'.*Available backends: \['cleanrl', 'rllib', 'sb3'\]",
    ):
        ph.train("supply_chain_v0", {"p": ["SHOP"]}, backend="tf", timesteps=10)


def test_budget_is_required_and_checked():
    with pytest.raises(ConfigError, match="give a training budget"):
        ph.train("supply_chain_v0", {"p": ["SHOP"]})
    with pytest.raises(ConfigError, match="timesteps must be an int >= 1"):
        ph.train("supply_chain_v0", {"p": ["SHOP"]}, timesteps=0)


def test_env_resolution():
    assert resolve_env("supply_chain_v0", {"num_shops": 2}).make().possible_agents == [
        "SHOP1",
        "SHOP2",
    ]
    source = resolve_env(ph.envs.supply_chain.SupplyChainEnv)
    assert source.kind == "import" and source.name.endswith(":SupplyChainEnv")
    with pytest.raises(RegistryError, match="Did you mean 'supply_chain_v0'"):
        resolve_env("supply_chian_v0")
    with pytest.raises(ConfigError, match="does not accept 'shops'"):
        resolve_env("supply_chain_v0", {"shops": 3})
    with pytest.raises(ConfigError, match="module-level factory"):
        resolve_env(lambda: None)


def test_nothing_to_train_when_every_policy_is_fixed():
    pytest.importorskip("torch")
    with pytest.raises(PolicyMappingError, match="nothing to train"):
        ph.train("supply_chain_v0", {"h": (OrderUpToPolicy, ["SHOP"], {"level": 25})}, timesteps=10)


def test_missing_optional_dependency_names_the_extra(tmp_path, monkeypatch):
    from phantomzoo import backends

    (tmp_path / "needs_missing_dep.py").write_text("import phantomzoo_no_such_package_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(backends.BACKENDS, "fancy", ("needs_missing_dep", "fancy"))
    with pytest.raises(
        RegistryError,
        match=r"needs packages that are not installed \(phantomzoo_no_such_package_xyz\); "
        r"install them with: pip install 'phantomzoo\[fancy\]'",
    ):
        backends.load_backend("fancy")
