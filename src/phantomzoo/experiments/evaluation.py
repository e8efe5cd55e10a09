"""Returns over many episodes: how well given policies do on an environment.

Works on every phantomzoo environment (parallel or staged): the episodes are played by
:func:`phantomzoo.experiments.episodes.run_episodes`, the one episode loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..policy import Policy
from ..training.trained import TrainedPolicies
from ..types import AgentID
from .episodes import ActFn, each_copy, run_episodes

#: What :func:`policy_act_fn` turns into an ``act`` function.
Policies = TrainedPolicies | Mapping[AgentID, Policy] | Policy


def as_trained(env: Any, policies: Policies) -> TrainedPolicies:
    """The policies as one :class:`TrainedPolicies`, the form every caller plays.

    Args:
        env: The environment (to check every strategic agent is covered).
        policies: Trained policies (checked to fit the env's agents and spaces), one
            policy shared by every strategic agent, or ``{agent_id: Policy}``; agents
            given the same policy object are served by one batched call.

    Raises:
        ConfigError: a strategic agent without a policy, or a value that is not a policy.
        TrainingError: trained policies that do not fit the env.
    """
    if isinstance(policies, TrainedPolicies):
        policies.check_fits(env, "the policies")
        return policies
    if isinstance(policies, Policy):
        return TrainedPolicies({"shared": policies}, dict.fromkeys(env.possible_agents, "shared"))
    if not isinstance(policies, Mapping):
        raise ConfigError(
            f"policies must be trained policies, a ph.Policy or {{agent_id: Policy}}, got "
            f"{policies!r}"
        )
    missing = [i for i in env.possible_agents if i not in policies]
    if missing:
        raise ConfigError(f"no policy given for agent(s) {missing}")
    table: dict[str, Policy] = {}
    names: dict[int, str] = {}
    mapping: dict[AgentID, str] = {}
    for agent_id, policy in policies.items():
        if not isinstance(policy, Policy):
            raise ConfigError(
                f"the policy of agent {agent_id!r} must be a ph.Policy instance, got {policy!r}"
            )
        name = names.setdefault(id(policy), f"policy of {agent_id!r}")
        table[name] = policy
        mapping[agent_id] = name
    return TrainedPolicies(table, mapping)


def policy_act_fn(env: Any, policies: Policies) -> ActFn:
    """A one-env ``act(observations) -> actions`` from policies (see :func:`as_trained`)."""
    return as_trained(env, policies).compute_actions


def episode_returns(
    env: Any, act: ActFn | Policies, num_episodes: int, seed: int = 0
) -> dict[AgentID, np.ndarray]:
    """Play ``num_episodes`` episodes (seeds ``seed``, ``seed + 1``, ...).

    Args:
        env: Any phantomzoo env.
        act: ``act({agent_id: observation}) -> {agent_id: action}``, or policies in any
            form :func:`as_trained` takes.
        num_episodes: Episodes to play (an int >= 1).
        seed: Seed of the first episode.

    Returns:
        The undiscounted return of every strategic agent in every episode, as
        ``{agent_id: array of shape (num_episodes,)}``.
    """
    if isinstance(num_episodes, bool) or not isinstance(num_episodes, int) or num_episodes < 1:
        raise ConfigError(f"num_episodes must be an int >= 1, got {num_episodes!r}")
    if isinstance(act, (TrainedPolicies, Policy, Mapping)):
        act = policy_act_fn(env, act)
    records = run_episodes(env, each_copy(act), range(seed, seed + num_episodes))
    return {
        agent_id: np.array([r.returns[agent_id] for r in records])
        for agent_id in env.possible_agents
    }


def pooled_returns(
    env: Any, policies: ActFn | Policies, num_episodes: int, seed: int = 0
) -> np.ndarray:
    """Every strategic agent's return in every episode, pooled: shape ``(episodes * agents,)``.

    Agent by agent (in ``possible_agents`` order), each agent's episodes in seed order.
    """
    returns = episode_returns(env, policies, num_episodes, seed)
    return np.concatenate([returns[i] for i in env.possible_agents])


def evaluate(
    env: Any,
    policies: Policies,
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
