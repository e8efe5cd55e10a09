"""Rollout work units on Ray: one actor per worker, each holding the plan once.

Ray is optional and never imported with phantomzoo: :func:`run_on_ray` loads it when it
runs (``importlib``; :class:`~phantomzoo.errors.DependencyNotInstalled` naming the pip
extra when it is missing). The session used is, in this order:

* the one already started in this process (``ray.init`` by the caller), as it is;
* the cluster at ``address`` (``"auto"``, ``"ray://host:10001"``, ...), connected to and
  left running; its nodes must be able to import the env, the policies and phantomzoo;
* otherwise a private local instance started for the rollout and stopped after it: a
  0700 temp directory, no dashboard, kept on loopback (``127.0.0.1``), with the driver's
  ``sys.path`` as its workers' ``PYTHONPATH`` so that they import what this process can.

Each of ``num_workers`` actors unpickles the plan once, then plays units handed out one
at a time as actors become free (a slow configuration does not hold up the others).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ConfigError, DependencyNotInstalled
from ..training.ray_local import local_ray
from .trajectories import Rollout
from .units import RolloutPlan, WorkUnit

__all__ = ["run_on_ray"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class UnitActor:
    """A Ray actor's state: the plan, played unit by unit (wrapped by ``ray.remote``)."""

    def __init__(self, plan: RolloutPlan) -> None:
        self.plan = plan

    def play(self, unit: WorkUnit) -> list[Rollout]:
        """The rollouts of ``unit``."""
        return self.plan.play(unit)


def _ray() -> Any:
    try:
        return importlib.import_module("ray")  # optional: never imported with phantomzoo
    except ImportError:
        raise DependencyNotInstalled(
            "rollouts on Ray need ray: pip install 'phantomzoo[rllib]' (or "
            "pip install 'ray==2.60.0'); or pass backend='processes' to use a local process "
            "pool instead"
        ) from None


def run_on_ray(
    plan: RolloutPlan,
    units: list[WorkUnit],
    num_workers: int,
    address: str | None,
    keep: Callable[[int, list[Rollout]], None],
) -> None:
    """Play ``units`` on ``num_workers`` Ray actors; ``keep(index, rollouts)`` per unit.

    Raises:
        DependencyNotInstalled: Ray is not installed.
        ConfigError: ``address`` while this process already has a Ray session, or a
            ``num_workers`` of 0 with a cluster address.
        RolloutWorkerError: an actor died.
    """
    ray = _ray()
    if num_workers < 1:
        raise ConfigError(
            "num_workers=0 plays in this process; give num_workers >= 1 to use the Ray "
            f"cluster at {address!r}"
        )
    with _session(ray, address, num_workers):
        actor_class = ray.remote(num_cpus=1)(UnitActor)
        plan_ref = ray.put(plan)
        actors = [actor_class.remote(plan_ref) for _ in range(min(num_workers, len(units)))]
        try:
            _dispatch(ray, actors, units, keep)
        finally:
            for actor in actors:
                ray.kill(actor)


def _dispatch(
    ray: Any, actors: list[Any], units: list[WorkUnit], keep: Callable[[int, list[Rollout]], None]
) -> None:
    """Keep every actor busy with one unit until all units came back."""
    queue = iter(range(len(units)))
    pending: dict[Any, tuple[Any, int]] = {}

    def submit(actor: Any) -> None:
        index = next(queue, None)
        if index is not None:
            pending[actor.play.remote(units[index])] = (actor, index)

    for actor in actors:
        submit(actor)
    while pending:
        (ref,), _ = ray.wait(list(pending), num_returns=1)
        actor, index = pending.pop(ref)
        keep(index, _get(ray, ref, units[index]))
        submit(actor)


def _get(ray: Any, ref: Any, unit: WorkUnit) -> list[Rollout]:
    from .workers import RolloutWorkerError

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None  # the worker's own error, e.g. an ActionError
        raise
    except ray.exceptions.RayActorError as exc:
        raise RolloutWorkerError(
            f"the Ray worker playing configuration {unit.rollout_id} (repeats "
            f"{list(unit.repeats)}) died ({type(exc).__name__}): it was killed or could "
            "not start (can its nodes import the env and phantomzoo?); try "
            "backend='processes' or num_workers=0 to see the error in this process"
        ) from None


# ---------------------------------------------------------------------- session
@contextmanager
def _session(ray: Any, address: str | None, num_workers: int) -> Iterator[None]:
    """The caller's Ray session, the cluster at ``address``, or a private local one."""
    if ray.is_initialized():
        if address is not None:
            raise ConfigError(
                "address=: Ray is already initialised in this process; drop address= to "
                "use that session, or call ray.shutdown() first"
            )
        yield
        return
    if address is not None:
        ray.init(address=address, log_to_driver=False)
        try:
            yield
        finally:
            ray.shutdown()
        return
    with _local_instance(ray, num_workers):
        yield


@contextmanager
def _local_instance(ray: Any, num_workers: int) -> Iterator[None]:
    """A private local instance whose workers get this process's ``sys.path``."""
    path = os.pathsep.join(p for p in sys.path if p)
    num_cpus = max(os.cpu_count() or 1, num_workers)
    with local_ray(ray, num_cpus, runtime_env={"env_vars": {"PYTHONPATH": path}}):
        yield
