"""One agent of a phantomzoo model as a plain Gymnasium env; every other agent is played.

:class:`SingleAgentEnvAdapter` (Phantom's name) lets any single-agent learner (SB3's
PPO, a hand-written loop, ...) train *one* strategic agent of a multi-agent model while
every other strategic agent is driven by a policy the user gives: a fixed
:class:`~phantomzoo.Policy` (Phantom's ``(PolicyClass, config)`` form, a class, or an
instance) or trained ones (an :class:`~phantomzoo.MLPPolicy`, or a whole
:class:`~phantomzoo.TrainedPolicies` as loaded by :func:`~phantomzoo.load_policies`)::

    env = ph.SingleAgentEnvAdapter(
        SupplyChainEnv, "SHOP1",
        other_policies={"SHOP2": (OrderUpToPolicy, {"level": 20})},
        env_config={"num_shops": 2},
    )
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Semantics (Gymnasium's, from the learning agent's point of view):

* ``reset(seed=, options=)`` seeds the model's one generator (same seed, same episode)
  and returns the learning agent's first observation and info.
* ``step(action)`` plays the learning agent's action together with the other acting
  agents' actions, then, in a staged model (:class:`~phantomzoo.FiniteStateMachineEnv`),
  plays on through every stage in which only other agents act, until the learning agent
  acts again or its episode ends. The reward is the sum of every reward the learning
  agent earned meanwhile; ``terminated`` / ``truncated`` are its own. Rewards earned
  before its very first action (staged models where others move first) are added to
  the first step's reward, so an episode's returns add up to the agent's return in
  :func:`~phantomzoo.evaluate` with the same policies.
* ``info`` is the learning agent's own info (``collect_infos``), with
  ``"action_mask"`` when the agent is masked (:mod:`phantomzoo.engine.masks`);
  :meth:`SingleAgentEnvAdapter.action_masks` serves it to sb3-contrib's MaskablePPO.
* The other agents' policies act deterministically (``rng=None``: a trained policy
  takes its most likely action; a fixed policy with a generator of its own, such as
  :class:`~phantomzoo.policy.RandomPolicy`, uses that). Masked agents' policies get
  their masks when they accept ``action_masks`` (as the episode loop does).

Every inconsistent argument raises :class:`~phantomzoo.errors.ConfigError` (a
``ValueError``, as Phantom's checks raise) naming what was wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from .errors import ConfigError, EpisodeOverError, NotResetError
from .single_agent_setup import build_env, check_learner, resolve_other_policies
from .training.trained import TrainedPolicies
from .types import AgentID

#: The info key of a masked agent's action mask (the engine's).
_MASK_KEY = "action_mask"


class SingleAgentEnvAdapter(gym.Env):
    """A Gymnasium env in which one strategic agent learns (see the module docs).

    Args:
        env_class: The model: a phantomzoo env class (built with ``env_config``, as in
            Phantom), an already built env, or a registered env id (``ph.make``).
        agent_id: The strategic agent that learns through this env.
        other_policies: A policy for every other strategic agent that acts: a mapping
            ``{agent_id: (PolicyClass, config) | PolicyClass | Policy instance |
            TrainedPolicies}`` (a class is built with that agent's spaces and
            ``**config``; a ``TrainedPolicies`` value supplies its policy for that
            agent), or one :class:`~phantomzoo.TrainedPolicies` for all of them (it
            may cover the learning agent too, whose policy is then unused).
        env_config: Keyword arguments for ``env_class`` (a class or an env id only).

    Raises:
        ConfigError: an env that is not a phantomzoo env, ``env_config`` with a built
            env, an unknown or non-strategic ``agent_id`` (or one that acts in no
            stage), an agent given both as the learner and in ``other_policies``, an
            unknown or non-strategic agent in ``other_policies``, an acting agent
            without a policy, a value that is not a policy, a policy whose spaces are
            not its agent's.
    """

    def __init__(
        self,
        env_class: Any,
        agent_id: AgentID,
        other_policies: Mapping[AgentID, Any] | TrainedPolicies,
        env_config: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self._env = build_env(env_class, env_config)
        self._agent_id = check_learner(self._env, agent_id)
        self._others = resolve_other_policies(self._env, agent_id, other_policies)
        self.observation_space = self._env.observation_space(agent_id)
        self.action_space = self._env.action_space(agent_id)
        modes = getattr(self._env, "metadata", {}).get("render_modes", [])
        self.metadata = {"render_modes": list(modes)}
        self.render_mode = getattr(self._env, "render_mode", None)
        self._observations: dict[AgentID, Any] = {}  # every agent's latest observation
        self._infos: dict[AgentID, dict[str, Any]] = {}  # every agent's latest info
        self._actions: dict[AgentID, Any] = {}  # the actions of the latest stage played
        self._info: dict[str, Any] = {}  # the learning agent's latest info
        self._carried = 0.0  # its rewards before its first action
        self._live = False  # its episode is under way

    # ------------------------------------------------------------- Phantom's API
    @property
    def env(self) -> Any:
        """The wrapped phantomzoo env."""
        return self._env

    @property
    def active_agent(self) -> AgentID:
        """The id of the learning agent."""
        return self._agent_id

    @property
    def other_policies(self) -> TrainedPolicies:
        """The policies playing the other agents (one ``TrainedPolicies``)."""
        return self._others

    @property
    def agents(self) -> Mapping[AgentID, Any]:
        """Every agent of the model by id (strategic or not), as Phantom's ``env.agents``."""
        return self._env.network.by_id

    @property
    def agent_ids(self) -> list[AgentID]:
        """The ids of every agent of the model, in network order."""
        return list(self._env.network.agent_ids)

    @property
    def n_agents(self) -> int:
        """How many agents the model has (strategic or not)."""
        return len(self._env.network.agent_ids)

    @property
    def current_step(self) -> int:
        """The model's current step (stages played in a staged model)."""
        return self._env.current_step

    # ------------------------------------------------------------- Gymnasium's API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode (seeded by ``seed``); the learning agent's observation and info.

        ``seed=None`` continues the model's generator (Gymnasium's rule); the very first
        ``reset`` without a seed is therefore unseeded (a fresh generator), as Phantom's
        seedless ``reset()`` is. ``options`` is passed to the model's ``acting_reset``.

        Raises:
            EpisodeOverError: the learning agent's episode ended before it first acted.
        """
        super().reset(seed=seed)
        observations, infos = self._env.acting_reset(seed=seed, options=options)
        self._observations, self._infos = dict(observations), dict(infos)
        self._actions, self._info, self._carried = {}, {}, 0.0
        self._info.update(infos.get(self._agent_id, {}))
        acting = self._env.acting_agents
        if self._agent_id not in acting:  # others move first (staged models)
            reward, ended = self._play(self._other_actions(acting)) if acting else (0.0, True)
            if ended:
                raise EpisodeOverError(
                    f"agent {self._agent_id!r} ended its episode before it first acted (seed "
                    f"{seed!r}); a single-agent env needs an episode in which it acts"
                )
            self._carried = reward
        self._live = True
        return self._observations[self._agent_id], dict(self._info)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Play ``action`` for the learning agent and the other agents until it acts again.

        Returns:
            ``(observation, reward, terminated, truncated, info)`` of the learning agent.

        Raises:
            NotResetError: before the first ``reset``.
            EpisodeOverError: after the learning agent's episode ended (call ``reset``).
        """
        if not self._live:
            self._refuse_step()
        me = self._agent_id
        actions = self._other_actions([a for a in self._env.acting_agents if a != me])
        actions[me] = action
        self._info = {}
        reward, ended = self._play(actions)
        reward += self._carried
        self._carried = 0.0
        terminated, truncated = ended or (False, False)
        self._live = not ended
        return self._observations[me], reward, terminated, truncated, dict(self._info)

    def render(self) -> Any:
        """The wrapped env's ``render()`` (its ``render_mode`` decides what it gives)."""
        return self._env.render()

    def close(self) -> None:
        """Close the wrapped env."""
        self._env.close()

    def action_masks(self) -> np.ndarray:
        """The learning agent's legal actions now (1 = legal), for MaskablePPO.

        A masked agent's mask from its latest info; all ones for an unmasked agent with
        a Discrete or MultiDiscrete action space.

        Raises:
            NotResetError: before the first ``reset``.
            ConfigError: an unmasked agent whose action space has no mask form (a Box).
        """
        if _MASK_KEY in self._info:
            return self._info[_MASK_KEY]
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return np.ones(int(space.n), np.int8)
        if isinstance(space, gym.spaces.MultiDiscrete):
            return np.ones(int(np.sum(space.nvec)), np.int8)
        if not self._env.engine.ever_reset:
            raise NotResetError("action_masks() called before reset(); call reset(seed=...)")
        raise ConfigError(
            f"agent {self._agent_id!r} has no action mask and its action space {space} has "
            "no mask form; use a learner without action masks (plain PPO)"
        )

    # ------------------------------------------------------------- playing
    def _other_actions(self, acting: list[AgentID]) -> dict[AgentID, Any]:
        """The other policies' actions for the acting agents ``acting`` (none the learner)."""
        if not acting:
            return {}
        observations = {a: self._observations[a] for a in acting}
        masks = {
            a: self._infos[a][_MASK_KEY] for a in acting if _MASK_KEY in self._infos.get(a, ())
        }
        return dict(self._others.compute_actions(observations, action_masks=masks or None))

    def _play(self, actions: dict[AgentID, Any]) -> tuple[float, tuple[bool, bool] | None]:
        """Play ``actions``, then the other agents alone until the learner acts or ends.

        Returns the learner's rewards meanwhile and ``(terminated, truncated)`` if its
        episode ended (``None`` while it goes on).
        """
        me, env, reward = self._agent_id, self._env, 0.0
        while True:
            self._actions = actions
            observations, rewards, terminations, truncations, infos = env.acting_step(actions)
            self._observations.update(observations)
            self._infos.update(infos)
            self._info.update(infos.get(me, {}))
            reward += float(rewards.get(me, 0.0))
            terminated, truncated = bool(terminations.get(me)), bool(truncations.get(me))
            if terminated or truncated:
                return reward, (terminated, truncated)
            acting = env.acting_agents
            if not acting:  # the episode ended without a word on the learner: a time limit
                return reward, (False, True)
            if me in acting:
                return reward, None
            actions = self._other_actions(acting)

    def _refuse_step(self) -> None:
        if not self._env.engine.ever_reset:
            raise NotResetError("step() called before reset(); call env.reset(seed=...) first")
        raise EpisodeOverError(
            f"step() called after agent {self._agent_id!r}'s episode ended (terminated or "
            "truncated); call env.reset() to start a new episode"
        )
