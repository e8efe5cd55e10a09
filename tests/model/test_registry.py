"""``ph.register`` / ``ph.make``: registration rules, bench modules and hooks, and the
``phantomzoo.models`` entry-point group through which model packages register."""

from __future__ import annotations

import sys
import types

import pytest
from models import PingEnv

import phantomzoo as ph
from phantomzoo import registry
from phantomzoo.errors import ConfigError, RegistryError


@pytest.fixture
def fresh(monkeypatch):
    """An empty registry whose entry-point group is read again (from ``points``)."""
    points: list = []
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry, "entry_points", lambda group: list(points))
    return points


@pytest.fixture
def scratch(monkeypatch):
    """Registrations made by a test are dropped afterwards."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry.registered_envs()))


def _module(monkeypatch, name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    monkeypatch.setitem(sys.modules, name, module)
    return module


class _Point:
    def __init__(self, name, value, target):
        self.name, self.value, self.target = name, value, target

    def load(self):
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


# --------------------------------------------------------------------------- register
def test_register_and_make_with_defaults(scratch):
    ph.register("ping_v0", PingEnv, description="ping")
    assert isinstance(ph.make("ping_v0"), PingEnv)
    assert ph.spec("ping_v0").description == "ping"
    assert "ping_v0" in ph.registered_envs()


def test_registering_an_id_twice_needs_override(scratch):
    ph.register("ping_v0", PingEnv)
    with pytest.raises(RegistryError, match=r"'ping_v0' is already registered.*override=True"):
        ph.register("ping_v0", PingEnv)
    ph.register("ping_v0", PingEnv, description="second", override=True)
    assert ph.spec("ping_v0").description == "second"


def test_a_bundled_id_cannot_be_taken_by_accident(scratch):
    with pytest.raises(RegistryError, match="'supply_chain_v0' is already registered"):
        ph.register("supply_chain_v0", PingEnv)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "", "entry_point": PingEnv}, "environment id must be a non-empty string"),
        ({"id": 3, "entry_point": PingEnv}, "environment id must be a non-empty string"),
        ({"id": "x_v0", "entry_point": "no_colon"}, "must be a 'module:attribute' string"),
        ({"id": "x_v0", "entry_point": 42}, "must be a 'module:attribute' string or a callable"),
        ({"id": "x_v0", "entry_point": PingEnv, "hooks": {"nope": "a:b"}}, "unknown hook 'nope'"),
        ({"id": "x_v0", "entry_point": PingEnv, "hooks": {"plots": "a"}}, "'module:attribute'"),
        ({"id": "x_v0", "entry_point": PingEnv, "bench": "a:b"}, "bench of 'x_v0' must be"),
    ],
)
def test_malformed_registrations_are_refused(scratch, kwargs, message):
    with pytest.raises(RegistryError, match=message):
        ph.register(**kwargs)
    assert "x_v0" not in ph.registered_envs()


def test_unknown_ids_get_a_suggestion():
    with pytest.raises(RegistryError, match="Did you mean 'supply_chain_v0'"):
        ph.spec("supply_chian_v0")


def test_missing_entry_point_attribute_is_named(scratch):
    ph.register("gone_v0", "phantomzoo.policy:NoSuchEnv")
    with pytest.raises(RegistryError, match="module 'phantomzoo.policy' has no attribute"):
        ph.make("gone_v0")


def test_unknown_keywords_are_refused_with_a_hint(scratch):
    with pytest.raises(ConfigError, match="did you mean 'num_shops'"):
        ph.make("supply_chain_v0", num_shop=2)


# --------------------------------------------------------------------------- bench hooks
def test_bundled_envs_find_their_bench_module_by_convention():
    sc = ph.spec("supply_chain_v0")
    assert sc.bench_module().__name__.endswith("supply_chain.bench")
    for name in registry.BENCH_HOOKS:
        assert callable(sc.hook(name)), name
    assert ph.spec("supply_chain_paper_v0").hook("throughput") is None
    assert ph.spec("type_toy_v0").bench_module() is None  # no bench module: no hooks
    assert ph.spec("type_toy_v0").hook("baselines") is None


def test_an_explicit_bench_module_and_hook_overrides(scratch, monkeypatch):
    def my_policies(env):
        return {"p": ["a"]}

    def old_plots(*args):
        return []

    _module(monkeypatch, "my_bench_mod", policies=my_policies)
    _module(monkeypatch, "my_old_hooks", plots=old_plots)
    ph.register("mine_v0", PingEnv, bench="my_bench_mod", hooks={"plots": "my_old_hooks:plots"})
    spec = ph.spec("mine_v0")
    assert spec.hook("policies") is my_policies
    assert spec.hook("plots") is old_plots  # hooks= (the older way) still works
    assert spec.hook("baselines") is None
    assert ph.spec("mine_v0").bench_module().__name__ == "my_bench_mod"


def test_a_callable_entry_point_has_no_bench_module_by_default(scratch):
    ph.register("ping_v0", PingEnv)
    assert ph.spec("ping_v0").bench_module() is None


def test_broken_bench_paths_and_hook_targets_are_named(scratch):
    ph.register("a_v0", PingEnv, bench="no_such_module_anywhere")
    with pytest.raises(RegistryError, match="bench module 'no_such_module_anywhere' of 'a_v0'"):
        ph.spec("a_v0").hook("policies")
    ph.register("b_v0", PingEnv, hooks={"policies": "phantomzoo.policy:nothing_here"})
    with pytest.raises(RegistryError, match="module 'phantomzoo.policy' has no attribute"):
        ph.spec("b_v0").hook("policies")


def test_unknown_hook_names_are_refused():
    with pytest.raises(RegistryError, match="unknown bench hook 'polices'"):
        ph.spec("supply_chain_v0").hook("polices")


# --------------------------------------------------------------------------- entry points
def test_entry_point_modules_register_on_first_look_up(fresh, monkeypatch):
    calls = []

    def register_mine():
        calls.append(1)
        ph.register("plugin_v0", PingEnv)

    fresh.append(_Point("mine", "my_pkg.registrations:register_mine", register_mine))
    assert calls == []  # nothing read yet
    assert isinstance(ph.make("plugin_v0"), PingEnv)
    assert sorted(ph.registered_envs()) == ["plugin_v0"]
    assert calls == [1]  # read once


def test_a_failing_entry_point_is_named(fresh):
    fresh.append(_Point("broken", "broken_pkg.registrations", ImportError("no broken_pkg")))
    with pytest.raises(RegistryError, match=r"entry point 'broken' = 'broken_pkg.registrations'"):
        ph.registered_envs()


def test_two_packages_claiming_one_id_are_refused(fresh):
    fresh.append(_Point("a", "a:reg", lambda: ph.register("dup_v0", PingEnv)))
    fresh.append(_Point("b", "b:reg", lambda: ph.register("dup_v0", PingEnv)))
    with pytest.raises(RegistryError, match="'dup_v0' is already registered"):
        ph.spec("dup_v0")
