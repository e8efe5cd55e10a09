"""Ray sessions for the rllib backend: reuse the caller's, join a cluster, or start a
private loopback-only local instance (see :func:`ray_session`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ray

from phantomzoo.errors import ConfigError

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_SINGLE_NODE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextmanager
def ray_session(address: str | None, num_env_runners: int = 0) -> Iterator[None]:
    """Ray for a training run: the caller's session if there is one, else a cluster at
    ``address`` or a private local instance; whatever starts here stops on exit."""
    if ray.is_initialized():
        if address is not None:
            raise ConfigError(
                "rllib option address: Ray is already initialised in this process; drop "
                "the address option to use that session, or call ray.shutdown() first"
            )
        yield
        return
    saved_auth, temp_dir = os.environ.get("RAY_AUTH_MODE"), None
    kwargs: dict[str, Any] = {"address": address, "log_to_driver": False}
    if address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        # Private (0700) and short: Ray's Unix socket paths under it must stay < 108 bytes.
        base = tempfile.gettempdir()
        short = "/tmp" if len(base) > 20 and os.path.isdir("/tmp") else base  # noqa: S108
        temp_dir = tempfile.mkdtemp(prefix="phz-ray-", dir=short)
        cpus = max(os.cpu_count() or 1, num_env_runners + 1)
        kwargs.update(_temp_dir=temp_dir, num_cpus=cpus, include_dashboard=False)
    try:
        with _loopback(address is None or address.rpartition(":")[0] in _LOOPBACK):
            ray.init(**kwargs)
            try:
                yield
            finally:
                ray.shutdown()
    finally:
        _restore_env("RAY_AUTH_MODE", saved_auth)
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


@contextmanager
def _loopback(enabled: bool) -> Iterator[None]:
    """Keep this node on 127.0.0.1 while ``enabled``.

    On Linux Ray swaps 127.0.0.1 for the machine's routable address and listens on all
    interfaces, which a local instance with auth off should not. Its single-machine mode
    (the one used on macOS and Windows) stays on loopback; Ray reads the flag per call
    in this process and from the environment in the processes it starts.
    """
    from ray._private import ray_constants

    if not enabled or not hasattr(ray_constants, "ENABLE_RAY_CLUSTER"):
        yield
        return
    saved_flag, saved_env = ray_constants.ENABLE_RAY_CLUSTER, os.environ.get(_SINGLE_NODE_ENV)
    ray_constants.ENABLE_RAY_CLUSTER = False
    os.environ[_SINGLE_NODE_ENV] = "0"
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        _restore_env(_SINGLE_NODE_ENV, saved_env)


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
