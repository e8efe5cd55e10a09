"""Ray sessions for the rllib backend: reuse the caller's, join a cluster, or start a
private loopback-only local instance (see :func:`ray_session`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import ray

from phantomzoo.errors import ConfigError
from phantomzoo.training.ray_local import local_ray, loopback

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


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
    if address is not None:
        with loopback(address.rpartition(":")[0] in _LOOPBACK):
            ray.init(address=address, log_to_driver=False)
            try:
                yield
            finally:
                ray.shutdown()
        return
    with local_ray(ray, max(os.cpu_count() or 1, num_env_runners + 1)):
        yield
