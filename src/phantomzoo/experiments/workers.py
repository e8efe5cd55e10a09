"""Where a rollout's work units are played: this process, a process pool, or Ray.

:func:`run_units` plays :class:`~.units.WorkUnit` s with one :class:`~.units.RolloutPlan`
and returns their rollouts in unit order (configuration, then repeat), whatever order
the workers finished in. Every backend calls the same :meth:`RolloutPlan.play`, so the
episodes are the same in-process and on any number of workers (see :mod:`.units`).

Backends (``backend=``):

* ``"auto"``: Ray when it is installed, else a process pool;
* ``"ray"``: Ray tasks on a private local instance (or the cluster at ``address``, or the
  session already started in this process), see :mod:`.ray_workers`;
* ``"processes"``: a :class:`concurrent.futures.ProcessPoolExecutor` whose processes are
  started fresh (``forkserver`` where the platform has it, else ``spawn``; never a fork of
  this process). The plan is pickled once here with ``cloudpickle`` (a dependency of
  Gymnasium: lambdas, e.g. in metrics, travel by value, classes of importable modules by
  reference), so what cannot reach a worker is refused before any worker starts.

With ``num_workers=0`` the units run here, one after the other. A worker's error (a
policy's bad action, a metric that fails) is raised here as it was raised there.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from importlib.util import find_spec
from typing import Any

import cloudpickle

from ..errors import ConfigError, RolloutWorkerError
from .trajectories import Rollout
from .units import RolloutPlan, WorkUnit

__all__ = ["BACKENDS", "RolloutWorkerError", "check_workers", "run_units"]

#: The values ``backend=`` accepts.
BACKENDS = ("auto", "ray", "processes")

#: ``on_done(unit, rollouts)``: called in this process as each unit comes back.
OnDone = Callable[[WorkUnit, list[Rollout]], None]


def check_workers(num_workers: Any, backend: Any, address: Any) -> None:
    """Refuse a bad ``num_workers`` / ``backend`` / ``address`` before anything runs.

    Raises:
        ConfigError: ``num_workers`` not an int >= 0, an unknown backend, or ``address``
            with other than the Ray backend.
    """
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ConfigError(
            f"num_workers must be an int >= 0 (0: play in this process), got {num_workers!r}"
        )
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if address is not None:
        if backend == "processes":
            raise ConfigError(
                "address= names a Ray cluster; it needs backend='ray' (or 'auto'), not 'processes'"
            )
        if not isinstance(address, str) or not address.strip():
            raise ConfigError(
                f"address must be a Ray cluster address such as 'ray://host:10001' or "
                f"'auto', got {address!r}"
            )


def run_units(
    plan: RolloutPlan,
    units: list[WorkUnit],
    num_workers: int = 0,
    backend: str = "auto",
    address: str | None = None,
    on_done: OnDone | None = None,
) -> list[Rollout]:
    """Play every unit and return the rollouts in unit order.

    Args:
        plan: What the units share.
        units: The units, in the order of the results.
        num_workers: Worker processes (``0``: play here).
        backend: ``"auto"``, ``"ray"`` or ``"processes"`` (see the module docs).
        address: A Ray cluster address (Ray backend only).
        on_done: Called with each unit and its rollouts as it comes back (progress).

    Raises:
        ConfigError: bad arguments, or a plan that cannot be sent to worker processes.
        DependencyNotInstalled: ``backend="ray"`` without Ray installed.
        RolloutWorkerError: a worker process died.
    """
    check_workers(num_workers, backend, address)
    done: dict[int, list[Rollout]] = {}

    def keep(index: int, rollouts: list[Rollout]) -> None:
        done[index] = rollouts
        if on_done is not None:
            on_done(units[index], rollouts)

    if num_workers == 0 and address is None:
        for index, unit in enumerate(units):
            keep(index, plan.play(unit))
    elif _uses_ray(backend, address):
        from .ray_workers import run_on_ray

        run_on_ray(plan, units, num_workers, address, keep)
    else:
        _run_on_processes(plan, units, num_workers, keep)
    return [rollout for index in range(len(units)) for rollout in done[index]]


def _uses_ray(backend: str, address: str | None) -> bool:
    if backend == "ray" or address is not None:
        return True
    return backend == "auto" and find_spec("ray") is not None


# ------------------------------------------------------------------ process pool
#: The plan of this worker process (set once by the pool's initializer).
_WORKER_PLAN: RolloutPlan | None = None


def _init_worker(blob: bytes) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = cloudpickle.loads(blob)  # pickled by our own parent process


def _play_in_worker(unit: WorkUnit) -> list[Rollout]:
    assert _WORKER_PLAN is not None, "the pool initializer sets the plan"
    return _WORKER_PLAN.play(unit)


def pickled_plan(plan: RolloutPlan) -> bytes:
    """``plan`` pickled for worker processes.

    Raises:
        ConfigError: naming what cannot be pickled and how to make it reach workers.
    """
    try:
        return cloudpickle.dumps(plan)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ConfigError(
            f"the rollout cannot be sent to worker processes ({exc}): define the env class "
            "or factory, policy classes and metrics at the top level of an importable "
            "module (not inside a function, not as lambdas), or pass num_workers=0 to play "
            "in this process"
        ) from None


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run_on_processes(
    plan: RolloutPlan, units: list[WorkUnit], num_workers: int, keep: Callable[..., None]
) -> None:
    blob = pickled_plan(plan)
    for unit in units:  # a unit's config (supertypes, ...) must reach the workers too
        _check_picklable(unit)
    workers = min(num_workers, len(units))
    with ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_init_worker, initargs=(blob,)
    ) as pool:
        futures = {pool.submit(_play_in_worker, unit): n for n, unit in enumerate(units)}
        try:
            for future, index in _as_done(futures):
                keep(index, _result(future, units[index]))
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _as_done(futures: dict[Future[Any], int]) -> Iterator[tuple[Future[Any], int]]:
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=futures.__getitem__):
            yield future, futures[future]


def _result(future: Future[Any], unit: WorkUnit) -> list[Rollout]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise RolloutWorkerError(
            f"a rollout worker process died while playing configuration {unit.rollout_id} "
            f"(repeats {list(unit.repeats)}): it was killed, crashed outside Python (out of "
            "memory?) or could not start (workers re-import the main script: run it from a "
            "file, not stdin, with the rollout under `if __name__ == '__main__':`); try "
            "fewer num_workers, or num_workers=0 to see the error in this process"
        ) from None


def _check_picklable(unit: WorkUnit) -> None:
    try:
        pickle.dumps(unit)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ConfigError(
            f"configuration {unit.rollout_id} of the env config cannot be sent to worker "
            f"processes ({exc}): define supertypes and other config values at the top "
            "level of an importable module, or pass num_workers=0"
        ) from None
