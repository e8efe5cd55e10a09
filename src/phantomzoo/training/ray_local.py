"""A private, loopback-only local Ray instance: what the rllib backend and rollout workers
start when no Ray session or cluster is given.

:func:`local_ray` starts one with auth off (unless ``RAY_AUTH_MODE`` is set), a short
private temporary directory (Ray's Unix socket paths under it must stay below 108 bytes)
and the node kept on 127.0.0.1, and stops it (and removes the directory) on exit. Ray is
never imported here at module level: the caller hands in the ``ray`` module it imported.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SINGLE_NODE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextmanager
def local_ray(ray: Any, num_cpus: int, **init_kwargs: Any) -> Iterator[str]:
    """``ray.init`` a private local instance for the ``with`` block; yields its temp dir."""
    saved_auth = os.environ.get("RAY_AUTH_MODE")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    base = tempfile.gettempdir()
    short = "/tmp" if len(base) > 20 and os.path.isdir("/tmp") else base  # noqa: S108
    temp_dir = tempfile.mkdtemp(prefix="phz-ray-", dir=short)
    try:
        with loopback():
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                _temp_dir=temp_dir,
                **init_kwargs,
            )
            try:
                yield temp_dir
            finally:
                ray.shutdown()
    finally:
        restore_env("RAY_AUTH_MODE", saved_auth)
        shutil.rmtree(temp_dir, ignore_errors=True)


@contextmanager
def loopback(enabled: bool = True) -> Iterator[None]:
    """Keep this node on 127.0.0.1 while ``enabled``.

    On Linux Ray swaps 127.0.0.1 for the machine's routable address and listens on all
    interfaces, which a local instance with auth off should not. Its single-machine mode
    (the one used on macOS and Windows) stays on loopback; Ray reads the flag per call in
    this process and from the environment in the processes it starts.
    """
    constants = importlib.import_module("ray._private.ray_constants") if enabled else None
    if constants is None or not hasattr(constants, "ENABLE_RAY_CLUSTER"):
        yield
        return
    saved_flag, saved_env = constants.ENABLE_RAY_CLUSTER, os.environ.get(_SINGLE_NODE_ENV)
    constants.ENABLE_RAY_CLUSTER = False
    os.environ[_SINGLE_NODE_ENV] = "0"
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = saved_flag
        restore_env(_SINGLE_NODE_ENV, saved_env)


def restore_env(name: str, value: str | None) -> None:
    """Put environment variable ``name`` back to ``value`` (``None``: unset)."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
