"""The RLlib side of an env: a phantomzoo env as an RLlib ``MultiAgentEnv``.

:class:`PhantomMultiAgentEnv` adapts the acting-agents protocol to RLlib's
``MultiAgentEnv`` (see :mod:`phantomzoo.backends.rllib` for the semantics); env runners
build it from ``job.env_source`` through :func:`_make_env`, registered by the backend.
Agents of a learnt policy with action masks observe ``{"observations", "action_mask"}``
Dicts (:mod:`.rllib_masks`); fixed policies that take masks are given them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from phantomzoo.backends._common import EpisodeTracker
from phantomzoo.backends._masks import mask_or_ones, masked_policies, record_masks
from phantomzoo.training.mapping import PolicyMapping
from phantomzoo.training.masked import policy_actions
from phantomzoo.types import AgentID

from .rllib_masks import masked_observation_space, with_mask

SUMMARY_KEY = "phantomzoo_episodes"


class PhantomMultiAgentEnv(MultiAgentEnv):
    """A phantomzoo env as an RLlib ``MultiAgentEnv`` of its learnt agents.

    Args:
        config: ``{"env_source", "mapping", "metrics", "seed"[, "resumed_at"]}``; as RLlib's
            ``EnvContext`` it also carries the worker and vector indices that, with the
            seed, make each env copy's episode seeds distinct.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self.env = config["env_source"].make()
        self.mapping: PolicyMapping = config["mapping"]
        self.fixed = {p: spec.build_fixed() for p, spec in self.mapping.fixed.items()}
        specs = {a: self.mapping.policies[p] for a, p in self.mapping.agent_to_policy.items()}
        self.possible_agents = [a for a, spec in specs.items() if spec.learnt]
        self.learnt_set = set(self.possible_agents)
        self.agents = list(self.possible_agents)
        self.inner_spaces = {a: specs[a].observation_space for a in self.possible_agents}
        sizes = masked_policies(self.env, self.mapping)
        self.mask_sizes = {
            a: sizes[p] for a, p in self.mapping.agent_to_policy.items() if p in sizes
        }  # learnt agents whose observations carry a mask
        self.observation_spaces = {
            a: masked_observation_space(s, self.mask_sizes[a]) if a in self.mask_sizes else s
            for a, s in self.inner_spaces.items()
        }
        self._masks: dict[AgentID, np.ndarray] = {}  # latest masks, from the infos
        self.env_action_spaces = {a: specs[a].action_space for a in self.possible_agents}
        self.action_spaces = {a: rllib_space(s) for a, s in self.env_action_spaces.items()}
        self.tracker = EpisodeTracker(self.mapping, config.get("metrics"))
        index = [getattr(config, "worker_index", 0), getattr(config, "vector_index", 0)]
        if config.get("resumed_at"):  # a resumed run: do not replay the first episodes
            index.append(int(config["resumed_at"]))
        self._rng = np.random.default_rng([int(config.get("seed", 0)), *index])
        self.last_summary: dict[str, Any] | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._fixed_obs: dict[AgentID, Any] = {}
        self._last_obs: dict[AgentID, Any] = {}
        self._awaiting: set[AgentID] = set()  # acted, not observed since
        self._done: set[AgentID] = set()
        self._truncated = False
        self.last_summary = None
        obs, infos = self.env.acting_reset(seed=int(self._rng.integers(2**31)), options=options)
        self._masks = {}
        record_masks(self._masks, infos)
        self.tracker.start()
        self._remember(obs)
        merged: dict[str, dict] = {"obs": dict(obs), "rew": {}, "term": {}, "trunc": {}}
        if self.env.acting_agents and not self._learnt_acting():
            self._play({}, merged, infos)
        # Rewards earned before an agent's first observation reach its first action.
        self._carry = {a: r for a, r in merged["rew"].items() if a in self.learnt_set}
        self.agents = list(self.possible_agents)
        out = self._observations(merged["obs"])
        return self._with_masks(out), {a: infos.get(a, {}) for a in out}

    def step(self, action_dict: dict) -> tuple[dict, dict, dict, dict, dict]:
        merged: dict[str, dict] = {"obs": {}, "rew": {}, "term": {}, "trunc": {}}
        infos: dict[AgentID, Any] = {}
        self.agents = [a for a in self.possible_agents if a not in self._done]  # this step's
        self._awaiting |= set(action_dict)
        self._play(action_dict, merged, infos)
        over = not self.env.acting_agents
        obs = self._observations(merged["obs"])
        if over:  # the protocol gives final observations; never leave an action hanging
            for agent_id in self._awaiting - obs.keys() - self._done:
                obs[agent_id] = self._last_obs[agent_id]
                merged["trunc"][agent_id] = not merged["term"].get(agent_id, False)
        rewards = {a: r for a, r in merged["rew"].items() if a in self.agents}
        for agent_id in obs:
            rewards[agent_id] = rewards.get(agent_id, 0.0) + self._carry.pop(agent_id, 0.0)
        terms, truncs = {}, {}
        for agent_id in obs.keys() | rewards.keys():
            terms[agent_id] = merged["term"].get(agent_id, False)
            truncs[agent_id] = merged["trunc"].get(agent_id, False)
            if terms[agent_id] or truncs[agent_id]:
                self._done.add(agent_id)
                self._truncated |= not terms[agent_id]
        self._awaiting -= obs.keys()
        terms["__all__"] = over and not self._truncated
        truncs["__all__"] = over and self._truncated
        if over:
            self.last_summary = self.tracker.finish()
        infos = {a: infos.get(a, {}) for a in obs}
        return self._with_masks(obs), rewards, terms, truncs, infos

    def _learnt_acting(self) -> bool:
        return any(a in self.learnt_set for a in self.env.acting_agents)

    def _remember(self, obs: Mapping[AgentID, Any]) -> None:
        for agent_id, value in obs.items():
            store = self._last_obs if agent_id in self.learnt_set else self._fixed_obs
            store[agent_id] = value

    def _play(self, actions: Mapping[AgentID, Any], merged: dict[str, dict], infos: dict) -> None:
        """Step the env once, then on while only fixed agents act; merge the results."""
        while True:
            acting = self.env.acting_agents
            full = {a: self._to_env(a, actions[a]) for a in acting if a in self.learnt_set}
            groups: dict[str, list[AgentID]] = {}
            for agent_id in acting:
                if agent_id not in self.learnt_set:
                    groups.setdefault(self.mapping.policy_of(agent_id), []).append(agent_id)
            for policy_id, ids in groups.items():
                full.update(zip(ids, self._fixed_actions(policy_id, ids)))
            stage = getattr(self.env, "current_stage", None)
            obs, rewards, terms, truncs, step_infos = self.env.acting_step(full)
            record_masks(self._masks, step_infos)
            self.tracker.step(self.env, rewards, stage)
            self._remember(obs)
            merged["obs"].update(obs)
            infos.update(step_infos)
            for agent_id, reward in rewards.items():
                merged["rew"][agent_id] = merged["rew"].get(agent_id, 0.0) + float(reward)
            for key, flags in (("term", terms), ("trunc", truncs)):
                for agent_id, flag in flags.items():
                    merged[key][agent_id] = merged[key].get(agent_id, False) or bool(flag)
            actions = {}
            if not self.env.acting_agents or self._learnt_acting():
                return

    def _fixed_actions(self, policy_id: str, ids: list[AgentID]) -> Any:
        """A fixed policy's actions, given its agents' masks if it takes them."""
        batch = [self._fixed_obs[i] for i in ids]
        masks = [self._masks.get(i) for i in ids]
        if all(m is None for m in masks):
            return self.fixed[policy_id].compute_actions(batch)
        return policy_actions(self.fixed[policy_id], policy_id, batch, None, masks)

    def _with_masks(self, obs: dict[AgentID, Any]) -> dict[AgentID, Any]:
        """Masked agents' observations as ``{observations, action_mask}`` Dicts."""
        for agent_id, size in self.mask_sizes.items():
            if agent_id in obs:
                mask = mask_or_ones(self._masks, agent_id, size)
                obs[agent_id] = with_mask(obs[agent_id], mask)
        return obs

    def _to_env(self, agent_id: AgentID, action: Any) -> Any:
        space = self.env_action_spaces[agent_id]  # RLlib's Discrete actions are 0..n-1
        return int(action) + int(space.start) if isinstance(space, gym.spaces.Discrete) else action

    def _observations(self, obs: Mapping[AgentID, Any]) -> dict[AgentID, Any]:
        return {
            a: np.asarray(o, dtype=self.inner_spaces[a].dtype)
            for a, o in obs.items()
            if a in self.learnt_set and a not in self._done
        }


def rllib_space(space: gym.Space[Any]) -> gym.Space[Any]:
    """The action space RLlib sees: ``Discrete(n, start)`` becomes ``Discrete(n)``."""
    if isinstance(space, gym.spaces.Discrete) and space.start != 0:
        return gym.spaces.Discrete(int(space.n))
    return space


def _make_env(config: Mapping[str, Any]) -> PhantomMultiAgentEnv:
    return PhantomMultiAgentEnv(config)


def _log_episode_summary(*, env: Any, env_index: int, metrics_logger: Any, **_: Any) -> None:
    """``on_episode_end`` callback: ship the adapter's episode summary to the driver."""
    summary = getattr(env.envs[env_index].unwrapped, "last_summary", None)
    if summary is not None and metrics_logger is not None:
        metrics_logger.log_value(SUMMARY_KEY, summary, reduce="item_series")


class _PolicyOf:
    """Picklable ``policy_mapping_fn``: agent id -> policy id."""

    def __init__(self, agent_to_policy: Mapping[AgentID, str]) -> None:
        self.agent_to_policy = dict(agent_to_policy)

    def __call__(self, agent_id: AgentID, episode: Any = None, **_: Any) -> str:
        return self.agent_to_policy[agent_id]
