"""Phantom-era ``rllib_config`` keys and env runners that cannot import the env: both end
in a ConfigError that says what to do, before Ray or training time is spent."""

from __future__ import annotations

import pytest

from phantomzoo.errors import ConfigError
from phantomzoo.training import EnvSource
from phantomzoo.utils.rllib_keys import translate


def test_phantom_era_keys_map_onto_backend_options_and_current_names():
    options, overrides = translate(
        {
            "num_rollout_workers": 1,
            "disable_env_checking": True,
            "sgd_minibatch_size": 64,
            "num_sgd_iter": 3,
            "train_batch_size": 128,
            "lambda": 0.9,
            "num_envs_per_worker": 2,
            "create_env_on_driver": True,
            "framework": "torch",
            "_enable_learner_api": True,
            "entropy_coeff": 0.01,
        }
    )
    assert options == {
        "num_env_runners": 1,
        "minibatch_size": 64,
        "num_epochs": 3,
        "train_batch_size": 128,
    }
    assert overrides == {
        "disable_env_checking": True,
        "lambda_": 0.9,
        "num_envs_per_env_runner": 2,
        "create_env_on_local_worker": True,
        "entropy_coeff": 0.01,
    }


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"horizon": 100}, "'horizon' no longer exists in RLlib 2.60: the episode length"),
        ({"no_done_at_end": True}, "'no_done_at_end' no longer exists"),
        ({"framework": "tf2"}, "framework='tf2': phantomzoo's RLlib backend runs torch only"),
        ({"_enable_learner_api": False}, "old API stack"),
        ({"num_workers": 1, "num_rollout_workers": 2}, "both set num_env_runners"),
        ({3: 1}, "keys must be strings"),
    ],
)
def test_keys_without_an_equivalent_are_refused_saying_what_to_do(config, match):
    with pytest.raises(ConfigError, match=match):
        translate(config)


rllib = pytest.importorskip("phantomzoo.backends.rllib", reason="needs phantomzoo[rllib]")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"num_rollout_workers": 1}, r"'num_rollout_workers'.*deprecated.*num_env_runners"),
        ({"recreate_failed_workers": True}, "restart_failed_env_runners"),
    ],
)
def test_deprecated_ray_names_as_backend_overrides_are_config_errors(overrides, match):
    with pytest.raises(ConfigError, match=match):
        rllib.resolve_options({"overrides": overrides})


def test_phantom_style_train_refuses_removed_keys_before_training(tmp_path):
    import phantomzoo as ph

    with pytest.raises(ConfigError, match="'horizon' no longer exists"):
        ph.utils.rllib.train(
            env_class="supply_chain_v0",
            policies={"shop": ["SHOP"]},
            iterations=1,
            rllib_config={"horizon": 10},
            results_dir=tmp_path / "run",
        )
    assert not (tmp_path / "run").exists()


def test_an_env_runners_cannot_import_is_named_before_ray_starts(tmp_path):
    from phantomzoo.backends.rllib_imports import check_runners_can_import

    missing = EnvSource("import", "no_such_module_xyz:Env")
    with pytest.raises(
        ConfigError, match=r"cannot|would not be able to import .*no_such_module_xyz"
    ):
        check_runners_can_import(missing, num_env_runners=1, address=None)
    check_runners_can_import(missing, num_env_runners=0, address=None)  # sampling in-process
    script = EnvSource("import", "__main__:MyEnv")
    with pytest.raises(ConfigError, match=r"'MyEnv' is defined in the script you ran \(__main__\)"):
        check_runners_can_import(script, num_env_runners=2, address=None)
    installed = EnvSource("import", "phantomzoo.envs.supply_chain:SupplyChainEnv")
    check_runners_can_import(installed, num_env_runners=1, address=None)  # importable: fine
