"""Phantom-era ``rllib_config`` keys, translated to RLlib 2.60 and the rllib backend.

Phantom 2.2 ran on RLlib's old API stack; its docs and tests pass keys such as
``num_rollout_workers`` or ``sgd_minibatch_size`` that RLlib 2.60 renamed (Ray raises a
deprecation error for some and silently ignores others). :func:`translate` maps every
``rllib_config`` onto the rllib backend's options (``num_env_runners``,
``minibatch_size``, ``num_epochs``, ``model``, ...) and ``PPOConfig`` overrides under
their current names, and refuses keys that have no equivalent any more with a
:class:`~phantomzoo.errors.ConfigError` saying what to do instead. Plain data: nothing
here imports Ray.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

#: Keys that are options of the rllib backend (under their backend name).
BACKEND_OPTIONS = {
    "train_batch_size": "train_batch_size",
    "minibatch_size": "minibatch_size",
    "sgd_minibatch_size": "minibatch_size",
    "num_epochs": "num_epochs",
    "num_sgd_iter": "num_epochs",
    "lr": "lr",
    "gamma": "gamma",
    "model": "model",
    "num_env_runners": "num_env_runners",
    "num_rollout_workers": "num_env_runners",
    "num_workers": "num_env_runners",
}

#: Old ``AlgorithmConfig`` names and their RLlib 2.60 names (applied as overrides).
RENAMED = {
    "num_envs_per_worker": "num_envs_per_env_runner",
    "num_cpus_per_worker": "num_cpus_per_env_runner",
    "num_gpus_per_worker": "num_gpus_per_env_runner",
    "custom_resources_per_worker": "custom_resources_per_env_runner",
    "evaluation_num_workers": "evaluation_num_env_runners",
    "recreate_failed_workers": "restart_failed_env_runners",
    "ignore_worker_failures": "ignore_env_runner_failures",
    "create_env_on_driver": "create_env_on_local_worker",
    "lambda": "lambda_",
}

#: Old keys with no RLlib 2.60 equivalent: what to do instead.
REMOVED = {
    "horizon": "the episode length is the env's num_steps (or max_cycles)",
    "soft_horizon": "the episode length is the env's num_steps (or max_cycles)",
    "no_done_at_end": "episodes end by the env's terminations and truncations",
    "monitor": "training curves are written to the results directory's tensorboard/",
    "simple_optimizer": "RLlib 2.60's learners replaced it; drop the key",
}

#: Old switches of RLlib's API stacks: phantomzoo always runs the new stack.
_NEW_STACK_SWITCHES = {"_enable_learner_api", "_enable_rl_module_api", "enable_connectors"}


def translate(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(backend options, PPOConfig overrides)`` for a Phantom-style ``rllib_config``
    (without its ``seed``, which the caller takes).

    Raises:
        ConfigError: for a removed key, a framework other than torch, an old-stack switch
            turned off, or two keys that mean the same option with different values.
    """
    options: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    given: dict[str, str] = {}  # backend option -> the key that set it
    for key, value in config.items():
        if not isinstance(key, str):
            raise ConfigError(f"rllib_config keys must be strings, got {key!r}")
        if key in REMOVED:
            raise ConfigError(
                f"rllib_config key {key!r} no longer exists in RLlib 2.60: {REMOVED[key]}"
            )
        if key == "framework":
            if value != "torch":
                raise ConfigError(
                    f"rllib_config framework={value!r}: phantomzoo's RLlib backend runs torch "
                    "only; drop the key or pass 'torch'"
                )
            continue
        if key in _NEW_STACK_SWITCHES:
            if value is False:
                raise ConfigError(
                    f"rllib_config {key}=False asks for RLlib's old API stack; phantomzoo runs "
                    "RLlib 2.60's new API stack only: drop the key"
                )
            continue
        if key in BACKEND_OPTIONS:
            option = BACKEND_OPTIONS[key]
            if option in options and options[option] != value:
                raise ConfigError(
                    f"rllib_config keys {given[option]!r} and {key!r} both set {option} "
                    f"({options[option]!r} vs {value!r}); pass one of them"
                )
            options[option], given[option] = value, key
            continue
        overrides[RENAMED.get(key, key)] = value
    return options, overrides
