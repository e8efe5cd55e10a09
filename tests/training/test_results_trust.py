"""Loading a results directory is untrusted input: it never runs code unless opted in."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.cli import workflow
from phantomzoo.errors import ManifestError, TrustError
from phantomzoo.policy import RandomPolicy
from phantomzoo.training import EnvSource
from phantomzoo.training.trained import MLPPolicy, TrainedPolicies
from phantomzoo.training.trust import TrustPolicy

OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
ACT = gym.spaces.Discrete(2)


def _mlp(rng: np.random.Generator) -> MLPPolicy:
    layers = [(rng.normal(size=(3, 4)), np.zeros(4))]
    return MLPPolicy(OBS, ACT, layers, (rng.normal(size=(4, 2)), np.zeros(2)))


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A valid policy directory recording the registered supply chain env."""
    env = ph.make("supply_chain_v0")
    shop = env.possible_agents[0]
    obs, act = env.observation_space(shop), env.action_space(shop)
    rng = np.random.default_rng(0)
    n_in = int(np.prod(obs.shape))
    n_out = int(act.n) if isinstance(act, gym.spaces.Discrete) else int(np.prod(act.shape))
    policy = MLPPolicy(
        obs,
        act,
        [(rng.normal(size=(n_in, 4)), np.zeros(4))],
        (rng.normal(size=(4, n_out)), np.zeros(n_out)),
    )
    info = EnvSource("registered", "supply_chain_v0", {}).to_json()
    TrainedPolicies({"shop": policy}, {shop: "shop"}, info).save(tmp_path / "policies")
    return tmp_path


def _edit(directory: Path, change) -> None:
    path = directory / "policies" / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_valid_directory_rolls_out(saved: Path) -> None:
    report = workflow.rollout_results(saved, episodes=1)
    assert report["env"]["name"] == "supply_chain_v0"


# ----------------------------------------------------------------- no code is run
def test_import_env_factory_is_not_called_without_trust(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"

    def attack(manifest):
        manifest["env"] = {
            "kind": "import",
            "name": "os:system",
            "config": {"command": f"touch {marker}"},
        }

    _edit(saved, attack)
    with pytest.raises(TrustError, match="os:system.*Refused"):
        workflow.rollout_results(saved, episodes=1)
    assert not marker.exists()


def test_trust_requires_an_allow_list_that_covers_the_module(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    _edit(saved, lambda m: m.update(env={"kind": "import", "name": "os:system",
                                          "config": {"command": f"touch {marker}"}}))  # fmt: skip
    with pytest.raises(TrustError, match="needs allow"):
        workflow.rollout_results(saved, episodes=1, trust=True)
    with pytest.raises(TrustError, match="Refused"):
        workflow.rollout_results(saved, episodes=1, trust=True, allow=["my_pkg"])
    with pytest.raises(TrustError, match="no effect without trust"):
        workflow.rollout_results(saved, episodes=1, allow=["os"])
    assert not marker.exists()


def test_module_shipped_inside_the_directory_is_never_imported(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "IMPORTED"
    (saved / "evil_policy_mod.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nclass Evil: pass\n"
    )
    monkeypatch.syspath_prepend(str(saved))
    monkeypatch.delitem(sys.modules, "evil_policy_mod", raising=False)

    def attack(manifest):
        entry = manifest["policies"]["shop"]
        manifest["policies"]["shop"] = {
            "kind": "fixed",
            "class": "evil_policy_mod:Evil",
            "config": {},
            "observation_space": entry["observation_space"],
            "action_space": entry["action_space"],
        }

    _edit(saved, attack)
    with pytest.raises(TrustError, match="evil_policy_mod.*not imported"):
        ph.load_policies(saved / "policies")
    assert not marker.exists()
    assert "evil_policy_mod" not in sys.modules


def test_trusted_class_must_still_be_a_policy(saved: Path) -> None:
    def attack(manifest):
        entry = manifest["policies"]["shop"]
        entry.update(kind="fixed", **{"class": "os:system"}, config={"command": "true"})

    _edit(saved, attack)
    # os is imported already, so no import happens; the object is still refused.
    with pytest.raises(ManifestError, match="not a ph.Policy subclass"):
        ph.load_policies(saved / "policies")


def test_phantomzoo_fixed_policy_loads_without_trust(tmp_path: Path) -> None:
    policy = RandomPolicy(OBS, ACT, seed=3)
    TrainedPolicies({"r": policy}, {"a": "r"}).save(tmp_path)
    loaded = ph.load_policies(tmp_path)
    assert type(loaded["r"]) is type(policy)
    assert loaded["r"].config == {"seed": 3}


@pytest.mark.parametrize(
    "path",
    ["os", "os:", ":system", "os:__class__", "os:path.__dict__", "a b:c", "os:sys.modules.x-y", 7],
)
def test_malformed_import_paths_are_refused(path: object) -> None:
    with pytest.raises(ManifestError, match="import path"):
        TrustPolicy().policy_class(path, "manifest.json")  # type: ignore[arg-type]


def test_registered_entry_point_import_path_needs_no_trust(saved: Path) -> None:
    entry = ph.spec("supply_chain_v0").entry_point
    _edit(saved, lambda m: m.update(env={"kind": "import", "name": entry, "config": {}}))
    assert workflow.rollout_results(saved, episodes=1)["episodes"] == 1


# ----------------------------------------------------------------- file names
@pytest.mark.parametrize(
    "name", ["../../x.npz", "/etc/passwd", "sub/policy_0.npz", "..", "policy_0.npy", "", 3, None]
)
def test_weight_file_names_stay_inside_the_directory(saved: Path, name: object) -> None:
    _edit(saved, lambda m: m["policies"]["shop"].update(file=name))
    with pytest.raises(ManifestError, match="plain .npz file name"):
        ph.load_policies(saved / "policies")


def test_symlink_leading_outside_is_refused(saved: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.npz"
    (saved / "policies" / "policy_0.npz").rename(outside)
    (saved / "policies" / "policy_0.npz").symlink_to(outside)
    with pytest.raises(ManifestError, match="leads outside"):
        ph.load_policies(saved / "policies")


def test_missing_weight_file(saved: Path) -> None:
    (saved / "policies" / "policy_0.npz").unlink()
    with pytest.raises(ManifestError, match="policy_0.npz' is missing"):
        ph.load_policies(saved / "policies")


# ----------------------------------------------------------------- malformed manifests
def test_not_json(saved: Path) -> None:
    (saved / "policies" / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="manifest.json: the policy manifest is not valid JSON"):
        ph.load_policies(saved / "policies")


def test_not_an_object(saved: Path) -> None:
    (saved / "policies" / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ManifestError, match="not a phantomzoo policy manifest"):
        ph.load_policies(saved / "policies")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m.pop("policies"), "missing entry 'policies'"),
        (lambda m: m.update(policies=[]), "'policies' must be dict"),
        (lambda m: m.update(policies={}), "lists no policies"),
        (lambda m: m.pop("agent_to_policy"), "missing entry 'agent_to_policy'"),
        (lambda m: m.update(agent_to_policy=[["SHOP"]]), "agent_to_policy items"),
        (lambda m: m.update(agent_to_policy=[[["x"], "shop"]]), "agent ids must be"),
        (lambda m: m.update(agent_to_policy=[[True, "shop"]]), "agent ids must be"),
        (lambda m: m.update(agent_to_policy=[["SHOP", "nope"]]), "unknown policy 'nope'"),
        (lambda m: m.update(agent_to_policy=[]), "maps no agents"),
        (lambda m: m.update(version=99), "version 1"),
        (lambda m: m["policies"]["shop"].update(kind="pickle"), "unknown policy kind 'pickle'"),
        (lambda m: m["policies"]["shop"].pop("kind"), "missing entry"),
        (lambda m: m["policies"]["shop"].update(num_layers="1"), "num_layers.* must be int"),
        (lambda m: m["policies"]["shop"].update(num_layers=True), "num_layers.* must be int"),
        (lambda m: m["policies"]["shop"].update(num_layers=2), "missing"),
        (lambda m: m["policies"]["shop"].update(num_layers=-1), "num_layers must be in"),
        (lambda m: m["policies"]["shop"].update(activation="gelu"), "activation must be one of"),
        (lambda m: m["policies"]["shop"].update(obs_clip=float("nan")), "obs_clip"),
        (lambda m: m["policies"]["shop"].update(action_scaling="x"), "action_scaling"),
        (
            lambda m: m["policies"]["shop"]["action_space"].update(type="Tuple"),
            "unknown space type",
        ),
        (
            lambda m: m["policies"]["shop"].update(action_space={"type": "Discrete", "n": 0}),
            "Discrete n must be >= 1",
        ),
        (lambda m: m["policies"]["shop"]["observation_space"].update(dtype="object"), "dtype"),
        (lambda m: m["policies"]["shop"]["observation_space"].update(shape=[-1]), "shape"),
        (lambda m: m["policies"]["shop"]["observation_space"].update(low=["a"]), "must be numbers"),
        (lambda m: m.update(env=[]), "'env' must be an object"),
    ],
)
def test_malformed_entries_are_refused(saved: Path, change, match: str) -> None:
    _edit(saved, change)
    with pytest.raises(ManifestError, match=match):
        ph.load_policies(saved / "policies")


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"kind": "registered", "name": "no_such_env_v0", "config": {}}, "no_such_env_v0"),
        ({"kind": "shell", "name": "x", "config": {}}, "unknown env kind"),
        ({"kind": "registered", "name": "supply_chain_v0", "config": []}, "config object"),
        ({"kind": "registered", "name": "supply_chain_v0",
          "config": {"x": {"$object": "os.system", "params": {}}}}, "recordable classes"),
        ({}, "does not record the environment"),
        ({"kind": "registered", "name": "supply_chain_v0", "config": {"evil": 1}}, "evil"),
    ],
)  # fmt: skip
def test_malformed_env_records_are_refused(saved: Path, env: dict, match: str) -> None:
    _edit(saved, lambda m: m.update(env=env))
    with pytest.raises(ManifestError, match=match):
        workflow.rollout_results(saved, episodes=1)


# ----------------------------------------------------------------- weights
def _rewrite_weights(saved: Path, **arrays: np.ndarray) -> None:
    path = saved / "policies" / "policy_0.npz"
    with np.load(path) as data:
        current = {k: data[k] for k in data.files}
    current.update(arrays)
    for key in [k for k, v in arrays.items() if v is None]:
        current.pop(key)
    np.savez(path, **current)


def test_nan_and_inf_weights_are_refused(saved: Path) -> None:
    with np.load(saved / "policies" / "policy_0.npz") as data:
        weight = data["layer0_w"].copy()
    weight[0, 0] = np.nan
    _rewrite_weights(saved, layer0_w=weight)
    with pytest.raises(ManifestError, match="layer0_w' holds NaN or inf"):
        ph.load_policies(saved / "policies")
    weight[0, 0] = np.inf
    _rewrite_weights(saved, layer0_w=weight)
    with pytest.raises(ManifestError, match="NaN or inf"):
        ph.load_policies(saved / "policies")


def test_weights_disagreeing_with_spaces_or_each_other(saved: Path) -> None:
    with np.load(saved / "policies" / "policy_0.npz") as data:
        w0, head = data["layer0_w"], data["head_w"]
    _rewrite_weights(saved, layer0_w=np.zeros((w0.shape[0] + 1, w0.shape[1])))
    with pytest.raises(ManifestError, match="do not fit an input of size"):
        ph.load_policies(saved / "policies")
    _rewrite_weights(saved, layer0_w=w0, head_w=np.zeros((head.shape[0], head.shape[1] + 1)))
    with pytest.raises(ManifestError, match="head"):
        ph.load_policies(saved / "policies")


def test_unexpected_or_non_float_arrays(saved: Path) -> None:
    _rewrite_weights(saved, extra=np.zeros(2))
    with pytest.raises(ManifestError, match="unexpected"):
        ph.load_policies(saved / "policies")
    _rewrite_weights(saved, extra=None, head_b=np.zeros(1, dtype=np.int64))
    with pytest.raises(ManifestError, match="expected floats"):
        ph.load_policies(saved / "policies")


def test_pickled_arrays_are_never_unpickled(saved: Path, tmp_path: Path) -> None:
    path = saved / "policies" / "policy_0.npz"
    np.savez(path, layer0_w=np.array([object()], dtype=object))
    with pytest.raises(ManifestError, match="not a readable .npz"):
        ph.load_policies(saved / "policies")


def test_truncated_or_foreign_weight_file(saved: Path) -> None:
    (saved / "policies" / "policy_0.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ManifestError, match="not a readable .npz"):
        ph.load_policies(saved / "policies")


# ----------------------------------------------------------------- fit to the env
def test_rollout_and_evaluate_refuse_policies_that_do_not_fit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    TrainedPolicies({"p": _mlp(rng)}, {"SHOP": "p"}).save(tmp_path)
    with pytest.raises(ph.errors.TrainingError, match="other spaces for agent 'SHOP'"):
        ph.rollout("supply_chain_v0", tmp_path, show_progress_bar=False)
    env = ph.make("supply_chain_v0")
    with pytest.raises(ph.errors.TrainingError, match="other spaces"):
        ph.evaluate(env, ph.load_policies(tmp_path), num_episodes=1)
    TrainedPolicies({"p": _mlp(rng)}, {"OTHER": "p"}).save(tmp_path / "b")
    with pytest.raises(ph.errors.TrainingError, match="do not cover agent"):
        ph.evaluate(env, ph.load_policies(tmp_path / "b"), num_episodes=1)


def test_deeply_nested_manifest(saved: Path) -> None:
    (saved / "policies" / "manifest.json").write_text("[" * 100_000)
    with pytest.raises(ManifestError, match="not valid JSON|nested too deeply"):
        ph.load_policies(saved / "policies")
