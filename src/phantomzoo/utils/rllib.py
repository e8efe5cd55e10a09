"""Phantom's ``ph.utils.rllib`` call style, as thin aliases onto the neutral functions.

``train`` runs :func:`phantomzoo.train` with the RLlib backend; ``rollout`` and
``evaluate_policy`` load the policies a training run saved (from any backend) and call
:func:`phantomzoo.rollout` / :func:`phantomzoo.evaluate_policy`. Nothing here imports
Ray: the backend is loaded only when ``train`` runs.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..experiments.rollout import Rollout
from ..experiments.rollout import evaluate_policy as _evaluate_policy
from ..experiments.rollout import rollout as _rollout
from ..metrics import Metric
from ..training.api import TrainingResult
from ..training.api import train as _train
from ..training.results import holds_policies, policies_dir, resolve_latest
from ..training.trained import load_policies
from .rllib_keys import translate as translate_rllib_config


def train(
    algorithm: str = "PPO",
    env_class: Any = None,
    policies: Mapping[str, Any] | None = None,
    iterations: int | None = None,
    checkpoint_freq: int | None = None,
    num_workers: int | None = None,
    env_config: Mapping[str, Any] | None = None,
    rllib_config: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Metric] | None = None,
    results_dir: str | Path | None = None,
    show_training_metrics: bool = False,
    tune_config: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Train with RLlib, Phantom style (see :func:`phantomzoo.train`).

    ``rllib_config["seed"]`` seeds the run; keys that are options of the RLlib backend
    (``train_batch_size``, ``lr``, ...) are passed as such and any other key is applied to
    the RLlib ``PPOConfig`` as an override. Phantom-era keys (``num_rollout_workers``,
    ``sgd_minibatch_size``, ``num_sgd_iter``, ``lambda``, ...) are translated to RLlib
    2.60's names and removed ones refused (:mod:`phantomzoo.utils.rllib_keys`). Old
    Phantom scripts may pass
    ``tune_config={"name": ..., "stop": {"training_iteration": N}}`` (``name`` becomes the
    results sub-directory).
    ``checkpoint_freq=N`` saves a checkpoint every N training iterations (``0``: none; on top of the
    periodic and final checkpoints of :func:`phantomzoo.train`, see
    :mod:`phantomzoo.training.checkpoint`); a run stopped by SIGINT/SIGTERM continues with
    ``phantomzoo.train(..., backend="rllib", results_dir=..., resume=True)``.

    Raises:
        ConfigError: for an unsupported algorithm, a missing env/policies/iterations
            budget or a ``checkpoint_freq`` that is not an int >= 0.
    """
    if algorithm != "PPO":
        raise ConfigError(
            f"algorithm {algorithm!r} is not supported by phantomzoo's RLlib backend; use 'PPO'"
        )
    if env_class is None or policies is None:
        raise ConfigError("train needs env_class=... and policies=...")
    config = dict(rllib_config or {})
    seed = int(config.pop("seed", 0))
    tune = dict(tune_config or {})
    stop = dict(tune.get("stop", {}))
    if iterations is None:
        iterations = stop.get("training_iteration")
    if iterations is None:
        raise ConfigError(
            "give iterations=... (or tune_config={'stop': {'training_iteration': N}})"
        )
    if results_dir is None and "name" in tune:
        results_dir = Path("results") / str(tune["name"])
    options: dict[str, Any] = {}
    if checkpoint_freq is not None and _checkpoint_freq(checkpoint_freq) is not None:
        options["checkpoint_every_iterations"] = checkpoint_freq
    translated, overrides = translate_rllib_config(config)
    if num_workers is not None:
        if translated.get("num_env_runners", num_workers) != num_workers:
            raise ConfigError(
                f"num_workers={num_workers} and rllib_config's "
                f"num_env_runners={translated['num_env_runners']} disagree; pass one of them"
            )
        options["num_env_runners"] = num_workers
    options.update(translated)
    if overrides:
        options["overrides"] = overrides
    return _train(
        env_class,
        policies,
        backend="rllib",
        env_config=env_config,
        iterations=int(iterations),
        seed=seed,
        results_dir=results_dir,
        options=options,
        metrics=metrics,
        progress=True,
    )


def _checkpoint_freq(value: Any) -> int | None:
    """Phantom's ``checkpoint_freq``: training iterations between checkpoints.

    ``0`` switches iteration-based checkpoints off, as in Ray Tune (the periodic and
    final checkpoints remain).
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"checkpoint_freq must be an int >= 1 (training iterations between checkpoints) "
            f"or 0 (none), got {value!r}"
        )
    return value or None


def rollout(
    directory: str | Path,
    env_class: Any = None,
    env_config: Mapping[str, Any] | None = None,
    custom_policy_mapping: Mapping[Hashable, Any] | None = None,
    num_repeats: int = 1,
    num_workers: int | None = None,
    checkpoint: int | None = None,
    metrics: Mapping[str, Metric] | None = None,
    record_messages: bool = False,
    show_progress_bar: bool = True,
    policy_inference_batch_size: int = 1,
    seed: int = 0,
) -> list[Rollout]:
    """Roll out the policies a training run saved in ``directory`` (Phantom style).

    ``directory`` is the run's results directory (or its ``policies`` folder). Without
    ``env_class`` the environment saved with the policies is used. ``num_workers``,
    ``checkpoint`` and ``policy_inference_batch_size`` are accepted for compatibility;
    inference is always batched across the episodes of a configuration.
    """
    policies_dir = _policies_dir(directory)
    policies = load_policies(policies_dir)
    env = env_class
    config = dict(env_config or {})
    if env is None:
        info = policies.env_info
        if not info:
            raise ConfigError(f"{policies_dir} does not record its environment; pass env_class=...")
        env = info["name"]
        config = {**info.get("config", {}), **config}
    return _rollout(
        env,
        policies,
        env_config=config,
        num_repeats=num_repeats,
        metrics=metrics,
        record_messages=record_messages,
        seed=seed,
        custom_policy_mapping=custom_policy_mapping,
        show_progress_bar=show_progress_bar,
    )


def evaluate_policy(
    directory: str | Path,
    policy_id: str,
    obs: Any,
    explore: bool = False,
    batch_size: int = 100,
    checkpoint: int | None = None,
    show_progress_bar: bool = True,
) -> list[tuple[dict[str, Any], Any, Any]]:
    """Evaluate a saved policy over observations with ranges (Phantom style)."""
    return _evaluate_policy(_policies_dir(directory), policy_id, obs, explore, batch_size)


def _policies_dir(directory: str | Path) -> Path:
    path = resolve_latest(directory)
    if holds_policies(path):
        return policies_dir(path)
    raise ConfigError(
        f"no trained policies found in {path}: pass the results directory of a training run "
        "(or <runs>/LATEST for the newest one)"
    )
