"""Rollouts: play trained or hand-written policies over grids of configurations.

``ph.rollout`` expands every :class:`~phantomzoo.ranges.Range` found in the env config
(including inside supertypes) into a grid of concrete configurations, plays each one
``num_repeats`` times with seeds ``seed, seed + 1, ...`` and returns one :class:`Rollout`
per episode. The episodes of one configuration run side by side and each policy acts
for all of them in one batched call per step. Episodes that end early stop there:
rollouts are never padded with steps that did not happen. The episodes are played by
:func:`phantomzoo.experiments.episodes.run_episodes`, the one episode loop, in this
process or, with ``num_workers=N``, on N worker processes (Ray or a process pool, see
:mod:`.workers`) with the same results. The result classes live in :mod:`.trajectories`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..metrics import Metric
from ..policy import checked_actions
from ..ranges import Range
from ..training.api import resolve_env
from ..training.results import policies_dir
from ..training.trained import TrainedPolicies, load_policies
from ..types import AgentID
from .grids import expand_ranges
from .trajectories import AgentStep, Rollout, Step
from .units import RolloutPlan, WorkUnit, check_telemetry, load_rollout_policies, plan_units
from .workers import check_workers, run_units

__all__ = ["AgentStep", "Rollout", "Step", "evaluate_policy", "rollout"]


def rollout(
    env: Any,
    policies: TrainedPolicies | str | Path | None = None,
    env_config: Mapping[str, Any] | None = None,
    num_repeats: int = 1,
    metrics: Mapping[str, Metric] | None = None,
    record_messages: bool = False,
    seed: int = 0,
    custom_policy_mapping: Mapping[AgentID, Any] | None = None,
    explore: bool = False,
    show_progress_bar: bool = True,
    num_workers: int = 0,
    backend: str = "auto",
    address: str | None = None,
    batch_size: int | None = None,
    telemetry: str | Path | None = None,
    telemetry_options: Mapping[str, Any] | None = None,
) -> list[Rollout]:
    """Play episodes over every configuration in ``env_config``'s ranges.

    The results are the same, in the same order (configuration, then repeat), whether
    the episodes are played here or on any number of workers (:mod:`.units` says how
    they are seeded).

    Args:
        env: A registered name, env class or factory.
        policies: Trained policies (from any backend) or the directory they were saved in.
        env_config: Env keyword arguments; ranges in it (or in supertypes in it) are swept.
        num_repeats: Episodes per configuration (seeds ``seed + repeat``).
        metrics: ``{name: Metric}`` recorded every step.
        record_messages: Keep every message delivered in each step.
        seed: First episode seed, an int >= 0 (also seeds sampling when ``explore``).
        custom_policy_mapping: ``{agent_id: Policy instance | PolicyClass | (PolicyClass, config)}``
            overriding or completing ``policies``.
        explore: Sample actions from trained policies instead of acting deterministically.
        show_progress_bar: Show a progress bar over finished configurations (needs tqdm).
        num_workers: Worker processes playing the work units in parallel (``0``: this
            process). Policies are copied to each worker: a stateful policy instance
            keeps its state per worker, not across all episodes.
        backend: ``"auto"`` (Ray if installed, else processes), ``"ray"`` or
            ``"processes"`` (see :mod:`.workers`).
        address: A running Ray cluster to play on (``"auto"``, ``"ray://host:10001"``).
        batch_size: Episodes of one configuration played side by side, with one batched
            policy call per step (``None``: all ``num_repeats``). The work unit given to
            a worker is one such batch; smaller batches spread one configuration's
            repeats over more workers.
        telemetry: A directory for a telemetry log per episode
            (``episode-<config>-<repeat>.jsonl``, written by whichever process plays the
            episode; read them back with ``ph.telemetry.read_records(directory)``).
        telemetry_options: :class:`~phantomzoo.Telemetry` keywords for those logs
            (``messages``, ``observations``, ``metrics``, ...).

    Raises:
        ConfigError: bad arguments, an agent without a policy, or (with workers) an env,
            policy or metric that cannot be sent to worker processes.
        DependencyNotInstalled: ``backend="ray"`` (or ``address``) without Ray.
    """
    _check_arguments(num_repeats, seed, batch_size)
    check_workers(num_workers, backend, address)
    grid = expand_ranges(env_config or {})
    telemetry_dir, telemetry_kwargs = check_telemetry(telemetry, telemetry_options)
    plan = RolloutPlan(
        env,
        load_rollout_policies(policies),
        custom_policy_mapping,
        metrics,
        record_messages,
        seed,
        explore,
        telemetry_dir=telemetry_dir,
        telemetry_options=telemetry_kwargs,
    )
    if num_workers or address is not None:
        _check_before_workers(plan, grid)
    units = plan_units(grid, num_repeats, batch_size)
    with _progress(grid, units, show_progress_bar) as on_done:
        rollouts = run_units(plan, units, num_workers, backend, address, on_done)
    for played in rollouts:  # here, not on workers: the plan is not pickled back
        played.source = plan  # what ph.replay / ph.branch play the episode again with
    return rollouts


def _check_arguments(num_repeats: Any, seed: Any, batch_size: Any) -> None:
    if isinstance(num_repeats, bool) or not isinstance(num_repeats, int) or num_repeats < 1:
        raise ConfigError(f"num_repeats must be an int >= 1, got {num_repeats!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be an int >= 0 (repeat r is seeded seed + r), got {seed!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ConfigError(
            f"batch_size must be an int >= 1 (episodes played side by side) or None (all "
            f"repeats of a configuration), got {batch_size!r}"
        )


def _check_before_workers(plan: RolloutPlan, grid: list[Any]) -> None:
    """Refuse here what every worker would refuse: bad configs, missing policies."""
    for _, config in grid:
        resolve_env(plan.env, config)
    plan.acting_policies(resolve_env(plan.env, grid[0][1]).make())


@contextmanager
def _progress(grid: list[Any], units: list[WorkUnit], show: bool) -> Iterator[Any]:
    """An ``on_done`` that advances a bar by each configuration whose units all came back."""
    bar = None
    if show and len(grid) >= 2:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            bar = tqdm(total=len(grid), desc="rollouts", unit="config")
    if bar is None:
        yield None
        return
    left = Counter(unit.rollout_id for unit in units)

    def on_done(unit: WorkUnit, _rollouts: list[Rollout]) -> None:
        left[unit.rollout_id] -= 1
        if not left[unit.rollout_id]:
            bar.update(1)

    try:
        yield on_done
    finally:
        bar.close()


def evaluate_policy(
    policies: TrainedPolicies | str | Path,
    policy_id: str,
    obs: Any,
    explore: bool = False,
    batch_size: int = 100,
    seed: int = 0,
) -> list[tuple[dict[str, Any], np.ndarray, Any]]:
    """Evaluate one policy over observations in which ranges are swept.

    Args:
        policies: Trained policies or their directory.
        policy_id: The policy to evaluate.
        obs: An observation (sequence of numbers) where any element may be a
            :class:`~phantomzoo.ranges.Range`; every combination is evaluated.
        explore: Sample actions instead of acting deterministically.
        batch_size: Observations per policy call.
        seed: Seeds sampling when ``explore``.

    Returns:
        ``[(params, observation, action), ...]`` with ``params`` the range values by index.
    """
    if isinstance(policies, (str, Path)):  # a results or policy directory, or .../LATEST
        policies = load_policies(policies_dir(policies))
    if policy_id not in policies:
        raise ConfigError(f"no policy {policy_id!r}; the policies are {list(policies)}")
    policy = policies[policy_id]
    items = list(obs)
    ranged = [n for n, v in enumerate(items) if isinstance(v, Range)]
    combos = itertools.product(*(items[n].values() for n in ranged)) if ranged else [()]
    rows = []
    for values in combos:
        concrete = list(items)
        for n, value in zip(ranged, values):
            concrete[n] = value
        rows.append(
            ({str(n): v for n, v in zip(ranged, values)}, np.asarray(concrete, dtype=np.float32))
        )
    rng = np.random.default_rng(seed) if explore else None
    out = []
    for start in range(0, len(rows), max(1, batch_size)):
        chunk = rows[start : start + batch_size]
        batch = [o for _, o in chunk]
        actions = checked_actions(policy, policy_id, batch, rng)
        out.extend((params, o, a) for (params, o), a in zip(chunk, actions))
    return out
