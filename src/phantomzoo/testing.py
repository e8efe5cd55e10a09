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


def check_batched(env_fn: EnvFn, seed: int = 0, steps: int = 200) -> None:
    """Check that an env's batched twins play the same episode as its per-agent methods.

    Two envs from ``env_fn`` play the same seeded episodes (reset with ``seed``, then
    ``seed + 1``, ... whenever an episode ends) with the same random actions for
    ``steps`` steps, one with ``engine.batched = False`` and one with ``True``
    (:mod:`phantomzoo.engine.batched`). After every reset and step they must give the
    same observations, rewards, terminations, truncations and infos, every receiver
    must have received the same messages in the same order, and every agent's public
    attributes (names not starting with ``_``) must be equal.

    Raises:
        ConformanceError: naming the step and what differs.
        ConfigError: bad arguments, or ``env_fn`` builds an env without batched twins.
    """
    if not callable(env_fn):
        raise ConfigError(
            f"check_batched needs a function that builds a fresh env, got {env_fn!r}; write "
            "check_batched(lambda: MyEnv(...))"
        )
    check_int("check_batched", "seed", seed, low=0)
    check_int("check_batched", "steps", steps, low=1)
    plain, batched = env_fn(), env_fn()
    for env, on in ((plain, False), (batched, True)):
        if not hasattr(getattr(env, "engine", None), "batched"):
            raise ConfigError(
                f"check_batched: env_fn() returned {env!r}, not a phantomzoo environment"
            )
        env.engine.batched = on
        env.network.message_log = []
    rng = np.random.default_rng(seed)
    episode = 0
    _compare_reset(plain, batched, seed)
    if not any(g.twins or g.cls._pz_batch_handlers for g in batched.engine.grouping.groups):
        raise ConfigError(
            "check_batched: no agent class of this env defines a batched twin or "
            "@ph.agents.batch_handler, so there is nothing to compare"
        )
    for step in range(1, steps + 1):
        if not plain.acting_agents:
            episode += 1
            _compare_reset(plain, batched, seed + episode)
            continue
        actions = _random_actions(plain, rng)
        outcomes = plain.acting_step(actions), batched.acting_step(dict(actions))
        names = ("observations", "rewards", "terminations", "truncations", "infos")
        for name, left, right in zip(names, *outcomes):
            if not data_equivalence(left, right):
                _differs(f"{name} after step {step}", left, right)
        _compare_messages(plain, batched, f"step {step}")
        _compare_agents(plain, batched, f"step {step}")


def _compare_reset(plain: Any, batched: Any, seed: int) -> None:
    for name, left, right in zip(
        ("observations", "infos"), plain.acting_reset(seed=seed), batched.acting_reset(seed=seed)
    ):
        if not data_equivalence(left, right):
            _differs(f"{name} after reset(seed={seed})", left, right)
    _compare_messages(plain, batched, f"reset(seed={seed})")
    _compare_agents(plain, batched, f"reset(seed={seed})")


def _differs(what: str, left: Any, right: Any) -> None:
    detail = ""
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            detail = f": agents {sorted(map(str, left.keys() ^ right.keys()))} in only one"
        else:
            for key in left:
                if not data_equivalence(left[key], right[key]):
                    detail = f": {key!r} has {left[key]!r} per agent, {right[key]!r} batched"
                    break
    raise ConformanceError(
        f"batched and per-agent play differ in {what}{detail}. The batched twins must do "
        "what the per-agent methods do (and draw randomness in the same order)"
    )


def _compare_messages(plain: Any, batched: Any, when: str) -> None:
    """Each receiver's messages since the last comparison, in order, then clear."""
    per_receiver: list[dict[AgentID, list[Any]]] = []
    for env in (plain, batched):
        found: dict[AgentID, list[Any]] = {}
        for message in env.network.message_log:
            found.setdefault(message.receiver_id, []).append((message.sender_id, message.payload))
        env.network.message_log.clear()
        per_receiver.append(found)
    left, right = per_receiver
    for receiver in dict.fromkeys([*left, *right]):
        if left.get(receiver, []) != right.get(receiver, []):
            raise ConformanceError(
                f"batched and per-agent play differ in the messages {receiver!r} received "
                f"in {when}: {left.get(receiver, [])[:5]!r} per agent, "
                f"{right.get(receiver, [])[:5]!r} batched (first 5 shown)"
            )


def _compare_agents(plain: Any, batched: Any, when: str) -> None:
    """Every agent's public data attributes (numbers, strings, arrays and containers of
    them) must be equal: twins write their changes back."""
    others = batched.network.by_id
    for agent_id, agent in plain.network.by_id.items():
        twin = others[agent_id]
        for name, value in vars(agent).items():
            if name.startswith("_") or not _plain_data(value):
                continue
            other = getattr(twin, name, None)
            if not (_plain_data(other) and data_equivalence(value, other)):
                raise ConformanceError(
                    f"batched and per-agent play differ in {agent_id!r}.{name} after {when}: "
                    f"{value!r} per agent, {other!r} batched. A batched twin must write back "
                    "every attribute it changes"
                )


def _plain_data(value: Any) -> bool:
    """Whether ``value`` is model data the equivalence check compares (not an object
    such as a sampler, a space or an encoder)."""
    if value is None or isinstance(value, (bool, int, float, str, np.generic, np.ndarray)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain_data(v) for v in value)
    if isinstance(value, dict):
        return all(_plain_data(v) for v in value.values())
    return False
