"""Conformance checks for phantomzoo environments (``ph.testing.check_env``).

:func:`check_env` runs PettingZoo's own API and seeding tests on the parallel env and
on its AEC conversion, then phantomzoo's contracts: every observation lies in its
space and every reward is one finite number (the env's runtime checks set to
``"full"`` for that pass), spaces are cached, and partial observability holds (an
agent's observation does not change when only the state of an agent it is not
connected to changes).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo import AECEnv
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from pettingzoo.utils.conversions import parallel_to_aec

from .engine.masks import sample_legal
from .errors import ConfigError, ConformanceError, NetworkError, ObservationError, RewardError
from .experiments.episodes import StepRecord, run_episodes
from .experiments.lint import Finding, LintWarning, lint, warn_findings  # noqa: F401
from .supertype import Supertype
from .types import AgentID
from .validate import check_int

EnvFn = Callable[[], Any]


def check_env(
    env_fn: EnvFn,
    num_cycles: int = 50,
    seed: int = 0,
    max_observers: int = 5,
    max_non_neighbours: int = 3,
) -> None:
    """Run every conformance check on the environments built by ``env_fn``.

    Args:
        env_fn: Builds a fresh parallel environment each call.
        num_cycles: Steps per episode the PettingZoo tests play.
        seed: Seed for phantomzoo's own checks.
        max_observers: How many strategic agents the partial-observability check tests.
        max_non_neighbours: How many non-neighbours it perturbs per observer.

    Once they pass, the model's message contracts are linted (:func:`lint`) and each
    finding is issued as a :class:`LintWarning` (a warning: the model runs).

    Raises:
        ConformanceError: naming the check that failed and why.
        ConfigError: ``env_fn`` is not callable, returns no environment, or a count is
            not a positive int.
    """
    _check_arguments(env_fn, num_cycles, seed, max_observers, max_non_neighbours)
    probe = env_fn()
    if not hasattr(probe, "possible_agents"):
        raise ConfigError(
            f"check_env: env_fn() returned {probe!r}, not an environment; pass a function "
            "that builds one, e.g. check_env(lambda: MyEnv())"
        )
    if isinstance(probe, AECEnv):
        checks: list[tuple[str, Callable[[], None]]] = [
            ("pettingzoo api_test (AEC)", lambda: api_test(env_fn(), num_cycles)),
            ("pettingzoo seed_test (AEC)", lambda: seed_test(env_fn, num_cycles)),
        ]
    else:
        blind_fn = lambda: _for_mask_blind_tests(env_fn())  # noqa: E731
        checks = [
            ("pettingzoo parallel_api_test", lambda: parallel_api_test(blind_fn(), num_cycles)),
            ("pettingzoo parallel_seed_test", lambda: parallel_seed_test(blind_fn, num_cycles)),
            (
                "pettingzoo api_test (AEC)",
                lambda: api_test(parallel_to_aec(env_fn()), num_cycles),
            ),
            (
                "pettingzoo seed_test (AEC)",
                lambda: seed_test(lambda: parallel_to_aec(env_fn()), num_cycles),
            ),
        ]
    checks += [
        ("observations in their spaces", lambda: check_observations_in_space(env_fn(), seed)),
        (
            "partial observability",
            lambda: check_partial_observability(
                env_fn(), seed, max_observers=max_observers, max_non_neighbours=max_non_neighbours
            ),
        ),
    ]
    for name, check in checks:
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                check()
        except ConformanceError:
            raise
        except AssertionError as exc:
            raise ConformanceError(f"{name} failed: {exc}") from exc
    warn_findings(env_fn, seed)  # lint findings are warnings here: the model runs


def _for_mask_blind_tests(env: Any) -> Any:
    """``env`` ready for PettingZoo's parallel tests, which sample actions from masks in
    Dict observations only: when an agent's mask is in its infos alone, the env's
    legality check is switched off so the tests' unmasked samples reach the model (which
    must then cope with them; masked trainers never send them)."""
    engine = getattr(env, "engine", None)
    if engine is None or not engine.masked_agents:
        return env
    in_infos_only = any(
        not isinstance(env.observation_space(agent_id), gym.spaces.Dict)
        for agent_id in engine.masked_agents
    )
    if in_infos_only:
        env.checks = "off"
    return env


def _check_arguments(
    env_fn: Any, num_cycles: Any, seed: Any, max_observers: Any, max_non_neighbours: Any
) -> None:
    if not callable(env_fn):
        raise ConfigError(
            f"check_env needs a function that builds a fresh env, got {env_fn!r}; write "
            "check_env(lambda: MyEnv(...))"
        )
    check_int("check_env", "num_cycles", num_cycles, low=1)
    check_int("check_env", "seed", seed, low=0)
    check_int("check_env", "max_observers", max_observers, low=1)
    check_int("check_env", "max_non_neighbours", max_non_neighbours, low=0)


def _random_actions(env: Any, rng: np.random.Generator) -> dict[AgentID, Any]:
    actions = {}
    for agent_id in env.acting_agents:
        space = env.action_space(agent_id)
        space.seed(int(rng.integers(2**31)))
        actions[agent_id] = sample_legal(env, agent_id, space)
    return actions


def check_observations_in_space(env: Any, seed: int = 0, episodes: int = 2) -> None:
    """Play random episodes and check every observation lies in its agent's space.

    Works on any phantomzoo env through the acting-agents protocol. A phantomzoo env
    plays with its runtime checks at ``"full"`` (restored afterwards), so every reward
    is checked to be one finite number too.

    Raises:
        ConformanceError: an observation outside its space or a bad reward.
    """
    level = getattr(env, "checks", None)
    if level is not None:
        env.checks = "full"
    try:
        _play_checked(env, seed, episodes)
    except (ObservationError, RewardError) as exc:
        raise ConformanceError(str(exc)) from exc
    finally:
        if level is not None:
            env.checks = level


def _play_checked(env: Any, seed: int, episodes: int) -> None:
    """Random episodes through the one episode loop; every observation checked."""
    rng = np.random.default_rng(seed)

    def on_step(record: StepRecord) -> None:
        if record.step == 0:
            _check_observations(env, record.observations, 0)
        _check_observations(env, record.next_observations, record.step + 1)

    def act(per_copy: list[dict[AgentID, Any]]) -> list[dict[AgentID, Any]]:
        return [_random_actions(env, rng)]

    run_episodes(env, act, range(seed, seed + episodes), on_step)


def _check_observations(env: Any, observations: dict[AgentID, Any], step: int) -> None:
    for agent_id, obs in observations.items():
        space = env.observation_space(agent_id)
        if not space.contains(obs):
            raise ConformanceError(
                f"observation of agent {agent_id!r} at step {step} lies outside its "
                f"space {space}: {obs!r}"
            )


def check_partial_observability(
    env: Any,
    seed: int = 0,
    warmup_steps: int = 3,
    max_observers: int = 5,
    max_non_neighbours: int = 3,
) -> None:
    """Check that changing a non-neighbour's state never changes an agent's observation.

    After a few random steps, for each tested strategic agent and each tested agent it is
    not connected to, a copy of the environment has that non-neighbour's numeric state
    (attributes and type) perturbed; the observer's observation must stay identical, and
    its context must refuse the non-neighbour's view.
    """
    rng = np.random.default_rng(seed)
    env.acting_reset(seed=seed)
    for _ in range(warmup_steps):
        if not env.acting_agents:
            env.acting_reset(seed=seed + 1)
        env.acting_step(_random_actions(env, rng))
    if not env.acting_agents:
        env.acting_reset(seed=seed + 2)
    network = env.network
    observers = list(env.possible_agents)[:max_observers]
    for observer_id in observers:
        connected = set(network.neighbours(observer_id)) | {observer_id}
        strangers = [i for i in network.agent_ids if i not in connected]
        if len(strangers) > max_non_neighbours:
            picks = np.linspace(0, len(strangers) - 1, max_non_neighbours).round().astype(int)
            strangers = [strangers[i] for i in sorted(set(picks.tolist()))]
        baseline = env.engine.observe(observer_id)
        ctx = env.engine.context(observer_id)
        for stranger_id in strangers:
            try:
                ctx.view(stranger_id)
            except NetworkError:
                pass
            else:
                raise ConformanceError(
                    f"agent {observer_id!r} could read the view of non-neighbour {stranger_id!r}"
                )
            clone = copy.deepcopy(env)
            changed = _perturb(clone.network[stranger_id])
            if not changed:
                continue
            observed = clone.engine.observe(observer_id)
            if not data_equivalence(baseline, observed):
                raise ConformanceError(
                    f"observation of agent {observer_id!r} changed when only the state of "
                    f"{stranger_id!r}, which it is not connected to, changed "
                    f"(perturbed: {changed}). Its observation must depend only on its own "
                    "state, its context (neighbours' views, env view) and messages"
                )


def _perturb(agent: Any) -> list[str]:
    """Change every numeric attribute (and type field) of ``agent`` in place."""
    changed = []
    for name, value in list(vars(agent).items()):
        if name in ("_id", "supertype"):
            continue
        new = _perturbed(value)
        if new is not None:
            setattr(agent, name, new)
            changed.append(name)
    agent_type = getattr(agent, "type", None)
    if isinstance(agent_type, Supertype) and dataclasses.is_dataclass(agent_type):
        updates = {}
        for field in dataclasses.fields(agent_type):
            new = _perturbed(getattr(agent_type, field.name))
            if new is not None:
                updates[field.name] = new
        if updates:
            agent.type = dataclasses.replace(agent_type, **updates)
            changed.extend(f"type.{k}" for k in updates)
    return changed


def _perturbed(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return not value
    if isinstance(value, (int, np.integer)):
        return value + 7
    if isinstance(value, (float, np.floating)):
        return value * 1.5 + 3.25
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
        return value + 1
    return None
