"""Phantom's ``ph.utils.rllib`` call style, as thin aliases onto the neutral functions.

``train`` runs :func:`phantomzoo.train` with the RLlib backend; ``rollout`` and
``evaluate_policy`` load the policies a training run saved (from any backend) and call
:func:`phantomzoo.rollout` / :func:`phantomzoo.evaluate_policy`. Nothing here imports
Ray: the backend is loaded only when ``train`` runs (and Ray rollout workers only when
``rollout(num_workers=N)`` runs).

Where runs go, as in Phantom: without ``results_dir`` a run is written to
``~/ray_results/[<tune_config name>/]PPO_<env>_<time>``, so that
``rollout(directory="~/ray_results/<name>/LATEST")`` (or just ``"<name>/LATEST"``: a
relative directory that does not exist here is looked up under ``~/ray_results``) finds
the newest. ``phantomzoo.train`` keeps its own default (``results/<env>-<backend>-<time>``).
A given ``results_dir`` is the run's own directory; ``<results_dir>/LATEST`` then means
that run.
"""

from __future__ import annotations

import time
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
from ..training.results import LATEST, holds_policies, policies_dir, resolve_latest
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
    ``tune_config={"name": ..., "stop": {"training_iteration": N}}``. Without
    ``results_dir`` the run goes to ``~/ray_results/[<name>/]PPO_<env>_<time>`` (see
    the module docs).
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
    if results_dir is None:
        results_dir = phantom_results_dir(env_class, tune.get("name"))
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


def phantom_results_dir(env_class: Any, name: Any = None) -> Path:
    """Phantom's default run directory: ``~/ray_results/[<name>/]PPO_<env>_<time>``
    (with a ``-2``, ``-3``, ... suffix if that exists already). Nothing is created here.

    Raises:
        ConfigError: a ``tune_config`` name that is not a plain directory name.
    """
    base = Path("~/ray_results").expanduser()
    if name is not None:
        text = str(name)
        if not text or text in (".", "..", LATEST) or "/" in text or "\\" in text:
            raise ConfigError(
                f"tune_config name {name!r} must be a plain directory name (no '/', not "
                f"'.', '..' or {LATEST!r}): runs go to ~/ray_results/<name>/"
            )
        base = base / text
    env_name = getattr(env_class, "__name__", None) or str(env_class).rpartition(":")[2]
    stem = base / f"PPO_{env_name.replace('.', '_')}_{time.strftime('%Y-%m-%d_%H-%M-%S')}"
    candidate, n = stem, 1
    while candidate.exists():
        n += 1
        candidate = stem.with_name(f"{stem.name}-{n}")
    return candidate


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
    explore: bool = False,
    seed: int = 0,
    backend: str = "auto",
    address: str | None = None,
) -> list[Rollout]:
    """Roll out the policies a training run saved in ``directory`` (Phantom style).

    ``directory`` is the run's results directory (or its ``policies`` folder, or
    ``<runs>/LATEST``); see the module docs for ``~/ray_results``. Without ``env_class``
    the environment saved with the policies is used.

    ``num_workers=N`` plays on N workers (Ray when installed, else a process pool; see
    :func:`phantomzoo.rollout`) with the same results as ``num_workers=0`` (this process).
    Unlike Phantom, ``None`` means this process, not "one Ray worker per CPU but one":
    starting Ray is never implicit. ``policy_inference_batch_size`` is the number of
    repeats of a configuration played side by side with one batched policy call per
    step (:func:`phantomzoo.rollout`'s ``batch_size``); it is also the work unit of a
    worker. ``checkpoint`` is accepted for compatibility: the saved policies are those
    of the end of training.

    Raises:
        ConfigError: ``num_workers`` or ``policy_inference_batch_size`` that is not a
            count, a directory without trained policies, and whatever
            :func:`phantomzoo.rollout` refuses.
    """
    if num_workers is not None and (
        isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0
    ):
        raise ConfigError(
            f"num_workers must be None or an int >= 0 (0 or None: play in this process), got "
            f"{num_workers!r}"
        )
    batch = policy_inference_batch_size
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConfigError(
            f"policy_inference_batch_size must be an int >= 1 (episodes played side by side), "
            f"got {batch!r}"
        )
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
        explore=explore,
        show_progress_bar=show_progress_bar,
        num_workers=num_workers or 0,
        backend=backend,
        address=address,
        batch_size=batch,
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
    path = Path(directory).expanduser()
    if not path.is_absolute() and not (path.parent if path.name == LATEST else path).exists():
        under_ray = Path("~/ray_results").expanduser() / path  # Phantom's relative form
        if (under_ray.parent if path.name == LATEST else under_ray).exists():
            path = under_ray
    if path.name == LATEST and holds_policies(path.parent):
        path = path.parent  # <results_dir>/LATEST, results_dir being one run (module docs)
    path = resolve_latest(path)
    if holds_policies(path):
        return policies_dir(path)
    raise ConfigError(
        f"no trained policies found in {path}: pass the results directory of a training run "
        "(or <runs>/LATEST for the newest one)"
    )
