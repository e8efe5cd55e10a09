"""Shared fixtures."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from models import PingEnv

import phantomzoo as ph
from phantomzoo.backends import available_backends

#: The smallest options that still train each backend (a few hundred agent-steps).
TINY_OPTIONS: dict[str, dict[str, Any]] = {
    "cleanrl": {"num_envs": 2, "num_steps": 16, "update_epochs": 2, "num_minibatches": 2},
    "sb3": {"n_envs": 2, "algorithm_kwargs": {"n_steps": 16, "batch_size": 32, "n_epochs": 1}},
    "rllib": {"train_batch_size": 200, "minibatch_size": 100, "num_epochs": 1},
}
#: The Python package each backend needs (a backend whose package is missing is skipped).
_NEEDS = {"cleanrl": "torch", "sb3": "stable_baselines3", "rllib": "ray.rllib"}


@pytest.fixture
def ping_env():
    return PingEnv()


@pytest.fixture(scope="session")
def _ray_for_tests() -> Iterator[Callable[[], None]]:
    """Starts one private local Ray session the first time an rllib test asks for it."""
    with contextlib.ExitStack() as stack:
        started: list[bool] = []

        def ensure() -> None:
            if not started:
                from phantomzoo.backends import rllib

                stack.enter_context(rllib.ray_session(None, num_env_runners=1))
                started.append(True)

        yield ensure


@pytest.fixture(params=available_backends())
def backend(request: pytest.FixtureRequest, _ray_for_tests: Callable[[], None]) -> str:
    """Every registered backend in turn (skipped when its packages are not installed)."""
    name = request.param
    pytest.importorskip(_NEEDS.get(name, f"phantomzoo.backends.{name}"))
    if name == "rllib":
        _ray_for_tests()
    return name


@pytest.fixture
def train_tiny(backend: str, tmp_path: Path) -> Callable[..., Any]:
    """``train_tiny(env, policies, **kwargs)``: ``ph.train`` with ``backend``'s tiny
    options (``options=`` adds to them), 2 iterations unless a budget is given, seed 0,
    no progress bar, results in ``tmp_path / "run"`` unless ``results_dir=`` says."""

    def run(env: Any, policies: Any, **kwargs: Any) -> Any:
        if "timesteps" not in kwargs:
            kwargs.setdefault("iterations", 2)
        kwargs.setdefault("seed", 0)
        kwargs.setdefault("results_dir", tmp_path / "run")
        options = {**TINY_OPTIONS.get(backend, {}), **kwargs.pop("options", {})}
        return ph.train(env, policies, backend=backend, options=options, progress=False, **kwargs)

    return run
