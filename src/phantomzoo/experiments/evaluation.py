"""Run whole episodes with given policies and collect per-agent returns.

Works on every phantomzoo environment (parallel or staged) through the acting-agents
protocol (``acting_reset`` / ``acting_step``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..policy import Policy
from ..training.trained import TrainedPolicies
from ..types import AgentID

ActFn = Callable[[dict[AgentID, Any]], dict[AgentID, Any]]


def policy_act_fn(env: Any, policies: TrainedPolicies | Mapping[AgentID, Policy] | Policy) -> ActFn:
    """An ``act(observations) -> actions`` function from policies.

    Args:
        env: The environment (to check every strategic agent is covered).
        policies: Trained policies (any backend), one policy shared by every agent
            (evaluated in one batched call), or ``{agent_id: Policy}``.
    """
    if isinstance(policies, TrainedPolicies):
        policies.check_fits(env, "the policies")
        return policies.compute_actions
    if isinstance(policies, Policy):
        shared = policies

        def act_shared(observations: dict[AgentID, Any]) -> dict[AgentID, Any]:
            ids = list(observations)
            return dict(zip(ids, shared.compute_actions([observations[i] for i in ids])))

        return act_shared
    missing = [i for i in env.possible_agents if i not in policies]
    if missing:
        raise ConfigError(f"no policy given for agent(s) {missing}")

    def act(observations: dict[AgentID, Any]) -> dict[AgentID, Any]:
        return {i: policies[i].compute_action(o) for i, o in observations.items()}

    return act


def episode_returns(
    env: Any, act: ActFn, num_episodes: int, seed: int = 0
) -> dict[AgentID, np.ndarray]:
    """Play ``num_episodes`` episodes (seeds ``seed``, ``seed + 1``, ...).

    Returns:
        The undiscounted return of every strategic agent in every episode, as
        ``{agent_id: array of shape (num_episodes,)}``.
    """
    if num_episodes < 1:
        raise ConfigError(f"num_episodes must be >= 1, got {num_episodes}")
    totals = {i: np.zeros(num_episodes) for i in env.possible_agents}
    for episode in range(num_episodes):
        observations, _ = env.acting_reset(seed=seed + episode)
        while env.acting_agents:
            actions = act({i: observations[i] for i in env.acting_agents})
            observations, rewards, _, _, _ = env.acting_step(actions)
            for agent_id, reward in rewards.items():
                totals[agent_id][episode] += reward
    return totals


def evaluate(
    env: Any,
    policies: TrainedPolicies | Mapping[AgentID, Policy] | Policy,
    num_episodes: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Mean and standard deviation of episode returns per agent and per policy.

    Returns:
        ``{"agents": {agent_id: (mean, std)}, "policies": {policy_id: (mean, std)}}``;
        ``"policies"`` is present for :class:`TrainedPolicies` only, pooling the
        returns of the agents sharing each policy.
    """
    returns = episode_returns(env, policy_act_fn(env, policies), num_episodes, seed)
    out: dict[str, Any] = {
        "agents": {i: (float(r.mean()), float(r.std())) for i, r in returns.items()}
    }
    if isinstance(policies, TrainedPolicies):
        pooled: dict[str, list[np.ndarray]] = {}
        for agent_id, values in returns.items():
            pooled.setdefault(policies.agent_to_policy[agent_id], []).append(values)
        out["policies"] = {
            p: (float(np.concatenate(v).mean()), float(np.concatenate(v).std()))
            for p, v in pooled.items()
        }
    return out
