"""Run whole episodes with given actions and collect per-agent returns."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np

from .errors import ConfigError
from .policy import Policy

AgentID = Hashable
ActFn = Callable[[dict[AgentID, Any]], dict[AgentID, Any]]


def policy_act_fn(env: Any, policies: Mapping[AgentID, Policy] | Policy) -> ActFn:
    """An ``act(observations) -> actions`` function from one policy or one per agent.

    With one policy, all agents share it and are evaluated in one batched call.
    """
    if isinstance(policies, Policy):
        shared = policies

        def act_shared(observations: dict[AgentID, Any]) -> dict[AgentID, Any]:
            ids = list(observations)
            actions = shared.compute_actions([observations[i] for i in ids])
            return dict(zip(ids, actions))

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
    """Play ``num_episodes`` episodes (seeds ``seed``, ``seed + 1``, ...) of a parallel env.

    Returns:
        The undiscounted return of every strategic agent in every episode, as
        ``{agent_id: array of shape (num_episodes,)}``.
    """
    if num_episodes < 1:
        raise ConfigError(f"num_episodes must be >= 1, got {num_episodes}")
    totals = {i: np.zeros(num_episodes) for i in env.possible_agents}
    for episode in range(num_episodes):
        observations, _ = env.reset(seed=seed + episode)
        while env.agents:
            actions = act({i: observations[i] for i in env.agents})
            observations, rewards, _, _, _ = env.step(actions)
            for agent_id, reward in rewards.items():
                totals[agent_id][episode] += reward
    return totals
