"""Runtime checks of what agents produce and trainers send, mixed into the engine.

:class:`RuntimeChecks` holds the check level, converts and checks rewards, checks
actions before they are decoded and observations after they are encoded, and raises
the typed errors that name the agent, the step, the value and the space. The level is
a cost/benefit choice: see the class docstring and ``benchmarks/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from ..errors import (
    ActionError,
    ConfigError,
    EpisodeOverError,
    NotResetError,
    ObservationError,
    RewardError,
)
from ..types import AgentID
from .spaces import reward_problem, short_repr, space_mismatch

#: The levels of runtime checking (see :class:`RuntimeChecks`).
CHECK_LEVELS = ("off", "first", "full")


class RuntimeChecks:
    """Runtime checks of observations, rewards and actions; mixed into the engine.

    **Runtime checks** (``checks``) of what agents produce and trainers send:

    * ``"first"`` (default, always on): the first observation, reward and action of
      every agent in every episode are checked for *structure*: an observation is not
      ``None``, has the space's shape, numbers that cast to its dtype and no NaN (nor an
      infinity where the space is bounded); a reward is one real number (not ``None``, a
      string or an array of size != 1); a ``Box`` action holds exactly the space's
      number of values (a 0-d array for a (1,) space is accepted, as some consumers
      squeeze actions; a (3,) action for a (1,) space is refused, never truncated),
      holds numbers and no NaN,
      and a ``Discrete`` action is an integer (``2.0`` is accepted, ``2.5`` is not) in
      ``start .. start + n - 1``. Every reward of every step is also checked to be
      finite (one subtraction per reward). Measured cost (``benchmarks/throughput.py``
      and ``ads_throughput.py --checks off,first``, alternating runs on 2 cores): within
      timing noise, at most about 3% of throughput at every size (supply chain 1-1000
      shops, ads market 6-1200 advertisers); about 4 µs per agent per episode.
    * ``"full"`` (debugging): every observation and action of every step is checked
      the same way *and* against the space's bounds, and every reward's structure.
    * ``"off"``: no checks beyond the conversion of rewards to ``float`` (and the
      checks of action masks themselves).

    At ``"first"`` and ``"full"``, every action of an agent with an action mask is also
    checked against that mask, every step (one index lookup per masked agent; models
    without masks pay nothing): a masked-out action raises ``ActionError`` naming the
    agent, the action and the legal actions (:mod:`phantomzoo.engine.masks`).

    Out-of-bounds ``Box`` actions are accepted unless ``checks="full"``: mapping a
    policy's output into the action space is the policy's or the trainer's job (every
    bundled backend maps or clips into bounds), Gymnasium and PettingZoo leave it to
    the environment, and trainers that sample unclipped Gaussians (common in custom
    PPO loops) would otherwise be refused on their first step. Bundled models clip in
    ``decode_action``.

    Errors: :class:`~phantomzoo.errors.ObservationError`,
    :class:`~phantomzoo.errors.RewardError` and :class:`~phantomzoo.errors.ActionError`,
    each naming the agent, the step, the value received and the space expected.
    """

    _checks: str
    _full_checks: bool
    _first_checks: bool
    _checks_finite: bool
    _mask_checks: bool
    _unchecked_obs: set[AgentID]
    _unchecked_rewards: set[AgentID]
    _unchecked_actions: set[AgentID]
    _observation_spaces: dict[AgentID, gym.Space[Any]]
    _action_spaces: dict[AgentID, gym.Space[Any]]
    current_step: int
    possible_agents: list[AgentID]

    # ------------------------------------------------------------------ checks
    @property
    def checks(self) -> str:
        """The runtime check level: ``"off"``, ``"first"`` or ``"full"`` (settable)."""
        return self._checks

    @checks.setter
    def checks(self, level: str) -> None:
        self._checks = check_level(None, level)
        self._full_checks = self._checks == "full"
        self._first_checks = self._checks == "first"
        self._checks_finite = self._checks != "off"
        # Masked agents' actions are checked against their masks at every level but "off".
        self._mask_checks = self._checks_finite and bool(getattr(self, "_masked", ()))
        # Pending first-of-episode checks restart at the next reset.
        self._unchecked_obs, self._unchecked_rewards, self._unchecked_actions = set(), set(), set()

    @property
    def check_observations(self) -> bool:
        """Older spelling of ``checks == "full"``; setting ``True`` / ``False`` picks
        ``"full"`` / ``"first"``."""
        return self._full_checks

    @check_observations.setter
    def check_observations(self, value: bool) -> None:
        self.checks = check_level(value, None)

    def _reset_checks(self) -> None:
        """Mark every agent's first observation, reward and action as unchecked."""
        if self._first_checks:
            possible = self.possible_agents
            self._unchecked_obs = set(possible)
            self._unchecked_rewards = set(possible)
            self._unchecked_actions = set(possible)

    def _raise_bad_observation(self, agent_id: AgentID, obs: Any, problem: str) -> None:
        raise ObservationError(
            f"observation of agent {agent_id!r} at step {self.current_step} lies outside "
            f"its space {self._observation_spaces[agent_id]}: it {problem}; got "
            f"{short_repr(obs)}. Fix encode_observation or widen the space"
        )

    def _observe_checked(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, Any]:
        """Observations of several agents, each agent's first of the episode checked.

        First observations that are float arrays of their ``Box`` space's shape (the
        common case) are checked together: one NumPy finiteness test over all of them,
        which is all the structural check asks of such an array; only if it finds a NaN
        or an infinity is each checked on its own (an infinity may be a bound), so the
        error names the first offender as before. Others are checked one by one.
        """
        agents = self.network._agents
        contexts = self._contexts
        unchecked = self._unchecked_obs
        full = self._full_checks
        spaces = self._observation_spaces
        observations = {}
        together: list[AgentID] = []
        for agent_id in agent_ids:
            obs = agents[agent_id].encode_observation(contexts[agent_id])
            if full or agent_id not in unchecked:  # full: _finish_observation checks
                observations[agent_id] = self._finish_observation(agent_id, obs)
                continue
            obs = observations[agent_id] = self._finish_observation(agent_id, obs)
            space = spaces[agent_id]
            if (
                obs.__class__ is np.ndarray
                and space.__class__ is gym.spaces.Box
                and obs.dtype.kind == "f"
                and space.dtype.kind == "f"  # type: ignore[union-attr]
                and obs.shape == space.shape
            ):
                together.append(agent_id)
                continue
            problem = space_mismatch(space, obs, bounds=False)
            if problem is not None:
                self._raise_bad_observation(agent_id, obs, problem)
            unchecked.discard(agent_id)
        if together:
            self._check_finite_together(together, observations)
        return observations

    def _check_finite_together(
        self, agent_ids: list[AgentID], observations: dict[AgentID, Any]
    ) -> None:
        """Structural check of float ``Box`` observations of the right shape, at once."""
        arrays = [observations[i].ravel() for i in agent_ids]
        values = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        if not np.isfinite(values).all():
            for agent_id in agent_ids:
                obs = observations[agent_id]
                problem = space_mismatch(self._observation_spaces[agent_id], obs, bounds=False)
                if problem is not None:
                    self._raise_bad_observation(agent_id, obs, problem)
        self._unchecked_obs.difference_update(agent_ids)

    # ---------------------------------------------------------- rewards, actions
    def compute_rewards(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, float]:
        """Each agent's ``compute_reward``, as a checked float.

        Every reward must be finite (checked every step, unless
        ``checks="off"``); the first reward of each agent per episode (every reward with
        ``checks="full"``) must also be one real number. A one-element array counts as
        a number.

        Raises:
            RewardError: naming the agent, the step and the value received.
        """
        agents = self.network._agents
        contexts = self._contexts
        check_types = self._full_checks or self._unchecked_rewards
        check_finite = self._checks_finite
        rewards = {}
        for agent_id in agent_ids:
            value = agents[agent_id].compute_reward(contexts[agent_id])
            if check_types:
                self._check_reward_type(agent_id, value)
            try:
                reward = float(value)
            except (TypeError, ValueError):
                reward = self._reward_as_float(agent_id, value)
            # reward - reward is 0.0 for every finite float, NaN for NaN and infinities.
            if reward - reward and check_finite:
                self._raise_bad_reward(agent_id, reward, "is not finite")
            rewards[agent_id] = reward
        return rewards

    def _check_reward_type(self, agent_id: AgentID, value: Any) -> None:
        """Refuse a first (or, with full checks, any) reward that is not one number."""
        unchecked = self._unchecked_rewards
        if self._full_checks or agent_id in unchecked:
            problem = reward_problem(value)
            if problem is not None:
                self._raise_bad_reward(agent_id, value, problem)
            unchecked.discard(agent_id)

    def _reward_as_float(self, agent_id: AgentID, value: Any) -> float:
        """The float of a one-element array; a RewardError for anything else."""
        problem = reward_problem(value)
        if problem is not None:
            self._raise_bad_reward(agent_id, value, problem)
        return float(np.asarray(value).reshape(()))

    def _raise_bad_reward(self, agent_id: AgentID, value: Any, problem: str) -> None:
        raise RewardError(
            f"reward of agent {agent_id!r} at step {self.current_step} {problem}: got "
            f"{short_repr(value)}, expected one finite number. Fix {agent_id!r}'s "
            "compute_reward (and the model parameters it uses)"
        )

    def check_actions(self, acting: Iterable[AgentID], actions: Mapping[AgentID, Any]) -> None:
        """Check the actions of ``acting`` agents (each agent's first of the episode, or
        every one with ``checks="full"``) against their action spaces.

        Raises:
            ActionError: naming the agent, the step, the action and the space.
        """
        full = self._full_checks
        unchecked = self._unchecked_actions
        spaces = self._action_spaces
        for agent_id in acting:
            if full or agent_id in unchecked:
                action = actions[agent_id]
                problem = space_mismatch(spaces[agent_id], action, bounds=full, any_shape=True)
                if problem is not None:
                    raise ActionError(
                        f"action of agent {agent_id!r} for step {self.current_step + 1} lies "
                        f"outside its action space {spaces[agent_id]}: it {problem}; got "
                        f"{short_repr(action)}. Send an action of that space (policies map "
                        "their outputs into it)"
                    )
                unchecked.discard(agent_id)

    # ------------------------------------------------------------------ errors
    def _not_strategic(self, agent_id: AgentID) -> str:
        try:
            known = agent_id in self.network
        except TypeError:  # unhashable
            known = False
        if known:
            kind = type(self.network[agent_id]).__name__
            return (
                f"agent {agent_id!r} ({kind}) is not a StrategicAgent: it does not observe or "
                f"act. Strategic agents: {self.possible_agents}"
            )
        return f"unknown agent {agent_id!r}; strategic agents are {self.possible_agents}"

    def _raise_episode_over(self) -> None:
        if not self._ever_reset:
            raise NotResetError("step() called before reset(); call env.reset(seed=...) first")
        raise EpisodeOverError(
            "step() called after the episode ended (every agent terminated or truncated); "
            "call env.reset() to start a new episode"
        )

    def _raise_bad_actions(
        self,
        actions: Mapping[AgentID, Any],
        expected: list[AgentID],
        what: str,
        live: Iterable[AgentID],
    ) -> None:
        if not isinstance(actions, Mapping):
            raise ActionError(f"step() expects a dict {{agent_id: action}}, got {actions!r}")
        for agent_id in actions:
            if agent_id not in expected:
                if agent_id in self._observation_spaces:
                    if agent_id not in live:
                        raise ActionError(
                            f"action given for agent {agent_id!r}, which has already terminated "
                            "or truncated; send actions only for the agents in env.agents"
                        )
                    raise ActionError(
                        f"action given for agent {agent_id!r}, which does not act now; {what} "
                        f"are {expected}"
                    )
                raise ActionError(f"action given for {self._not_strategic(agent_id)}")
        missing = [i for i in expected if i not in actions]
        raise ActionError(
            f"no action given for live agent(s) {missing}; step() needs an action for every "
            f"one of {what} ({expected})"
        )


def check_level(check_observations: bool | None, checks: str | None) -> str:
    """The check level from ``checks`` and the older ``check_observations`` flag."""
    if checks is not None and (not isinstance(checks, str) or checks not in CHECK_LEVELS):
        raise ConfigError(
            f'checks must be one of {list(CHECK_LEVELS)}, got {checks!r}; "first" (the '
            "default) checks each agent's first observation, reward and action per episode"
        )
    if check_observations is None:
        return checks or "first"
    if not isinstance(check_observations, (bool, np.bool_)):
        raise ConfigError(
            f"check_observations must be True or False, got {check_observations!r}; or pass "
            f"checks={list(CHECK_LEVELS)}"
        )
    level = "full" if check_observations else "first"
    if checks is not None and checks != level:
        raise ConfigError(
            f"check_observations={check_observations!r} contradicts checks={checks!r}; "
            "pass only checks=..."
        )
    return level


def check_seed(seed: Any) -> None:
    """Refuse seeds ``numpy`` would reject with a bare error (or silently misread)."""
    if seed is None:
        return
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be an int >= 0 or None, got {seed!r}")
    if seed < 0:
        raise ConfigError(f"seed must be an int >= 0 or None, got {seed!r}")
