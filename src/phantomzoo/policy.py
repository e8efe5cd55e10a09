"""Policies: what maps observations to actions, hand-written or trained.

The policy contract
-------------------
Every policy phantomzoo plays (a hand-written :class:`Policy` subclass, a trained
:class:`~phantomzoo.training.trained.MLPPolicy`, a fixed policy inside a training run, a
backend's exported policy) is called the same way, by every caller (evaluation,
rollouts, the bench workflow, the backends' fixed-policy routing)::

    actions = policy.compute_actions(observations, rng=None)

* ``observations`` is a sequence of observations of the policy's ``observation_space``
  (one per acting agent, possibly from several episodes played side by side).
* The result holds exactly one action of the policy's ``action_space`` per observation,
  in the same order (a list, or anything with ``len`` that can be iterated).
* ``rng`` is ``None`` to act deterministically (evaluation, the default), or a
  :class:`numpy.random.Generator` to sample actions when exploring. A stochastic policy
  draws only from that generator, so the caller's seed fixes the result. A policy that
  has no notion of exploring (order-up-to rules, for instance), or that owns a seeded
  generator of its own (:class:`RandomPolicy`), ignores it.

:meth:`Policy.compute_action` (one observation, Phantom's name) stays: the default
:meth:`Policy.compute_actions` calls it once per observation, so a hand-written policy
needs only ``compute_action``; override ``compute_actions`` to act on a batch faster.
An override written with the older signature ``compute_actions(self, observations)``
keeps working: it is adapted when the class is created to accept ``rng`` and ignore it.

:func:`checked_actions` is the one place callers invoke the contract: it raises a typed
error naming the policy when a policy returns the wrong number of actions.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from .errors import ActionError


class Policy:
    """Base class of every policy: fixed (hand-written) and trained ones.

    Subclass it and implement :meth:`compute_action`; override :meth:`compute_actions`
    too if the policy can act on a batch faster (see the module docs for the contract).

    Args:
        observation_space: The space of the observations the policy receives.
        action_space: The space of the actions it must return.
        **config: Policy-specific options, stored as ``self.config``.
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.config = config

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("compute_actions")
        if own is not None and not _accepts_rng(own):
            cls.compute_actions = _ignoring_rng(own)  # type: ignore[method-assign]

    def compute_action(self, observation: Any) -> Any:
        """The action for one observation (a batch-only policy answers with a batch of one)."""
        if type(self).compute_actions is not Policy.compute_actions:
            return self.compute_actions([observation])[0]
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_action(observation) or "
            "compute_actions(observations, rng=None)"
        )

    def compute_actions(
        self, observations: Sequence[Any], rng: np.random.Generator | None = None
    ) -> list[Any]:
        """One action per observation, in order (default: one :meth:`compute_action` each).

        Args:
            observations: The observations to act on.
            rng: A generator to sample from when exploring; ``None`` acts
                deterministically. The default implementation ignores it, since
                :meth:`compute_action` takes none.
        """
        return [self.compute_action(o) for o in observations]


def _accepts_rng(method: Callable[..., Any]) -> bool:
    """Whether ``method`` takes an ``rng`` argument (by name or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # a builtin or callable without a signature
        return True
    return any(p.name == "rng" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _ignoring_rng(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method(self, observations)`` as ``compute_actions(self, observations, rng=None)``."""

    @functools.wraps(method)
    def compute_actions(
        self: Policy, observations: Sequence[Any], rng: np.random.Generator | None = None
    ) -> Any:
        return method(self, observations)

    return compute_actions


def checked_actions(
    policy: Policy,
    name: Any,
    observations: Sequence[Any],
    rng: np.random.Generator | None = None,
) -> Sequence[Any]:
    """``policy.compute_actions(observations, rng=rng)``, checked to hold one action each.

    Args:
        policy: The policy to call.
        name: How to name the policy in an error (its policy id, or an agent id).
        observations: The observations to act on.
        rng: Passed through (``None``: deterministic).

    Raises:
        ActionError: the policy returned something without a length, or not exactly one
            action per observation.
    """
    actions = policy.compute_actions(observations, rng=rng)
    try:
        count = len(actions)
    except TypeError:
        raise ActionError(
            f"policy {name!r} ({type(policy).__name__}).compute_actions returned "
            f"{type(actions).__name__}, not a list of actions; return one action per "
            "observation, in order"
        ) from None
    if count != len(observations):
        raise ActionError(
            f"policy {name!r} ({type(policy).__name__}).compute_actions returned {count} "
            f"action(s) for {len(observations)} observation(s); return exactly one action "
            "per observation, in order"
        )
    return actions


class RandomPolicy(Policy):
    """Samples uniformly from the action space, with a seeded generator of its own.

    The ``rng`` of :meth:`compute_actions` is ignored: the draws come from the policy's
    own generator, so its results depend on its seed only.

    Args:
        seed: Seed of the policy's own generator (``config["seed"]``, default 0).
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        self.action_space.seed(int(config.get("seed", 0)))

    def compute_action(self, observation: Any) -> Any:
        return self.action_space.sample()


def batch_uniform_box_actions(
    rng: np.random.Generator, space: gym.spaces.Box, count: int
) -> np.ndarray:
    """``count`` uniform draws from a bounded Box in one call (rows are actions)."""
    return rng.uniform(space.low, space.high, size=(count, *space.shape)).astype(space.dtype)
