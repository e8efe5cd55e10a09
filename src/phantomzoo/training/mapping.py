"""Policy mapping: which agents use which policy, in Phantom's three forms.

``policies`` maps a policy id to one of:

* an agent class: every strategic agent of that class shares one *learnt* policy;
* a list of agent ids: those agents share one learnt policy;
* ``(PolicyClass, agent class or id list[, config])``: a hand-written *fixed* policy (a
  :class:`~phantomzoo.Policy` subclass) that does not learn, built with ``config``.

:func:`compile_policy_mapping` checks the mapping against an environment and returns a
:class:`PolicyMapping` every backend compiles into its own mechanism.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from ..agents import Agent
from ..errors import PolicyMappingError
from ..policy import Policy
from ..types import AgentID, PolicyID


@dataclass
class PolicySpec:
    """One policy of a mapping.

    Attributes:
        policy_id: Its id.
        agent_ids: The agents it acts for, in network order.
        observation_space: The (shared) observation space of those agents.
        action_space: Their (shared) action space.
        fixed_class: For a fixed policy, its :class:`~phantomzoo.Policy` subclass;
            ``None`` for a learnt one.
        config: Options passed to the fixed policy's constructor.
    """

    policy_id: PolicyID
    agent_ids: list[AgentID]
    observation_space: gym.Space[Any]
    action_space: gym.Space[Any]
    fixed_class: type[Policy] | None = None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def learnt(self) -> bool:
        """Whether the policy is trained (not a fixed, hand-written one)."""
        return self.fixed_class is None

    def build_fixed(self) -> Policy:
        """An instance of the fixed policy class."""
        if self.fixed_class is None:
            raise PolicyMappingError(f"policy {self.policy_id!r} is learnt, not fixed")
        return self.fixed_class(self.observation_space, self.action_space, **self.config)


@dataclass
class PolicyMapping:
    """A checked mapping of every strategic agent to exactly one policy."""

    policies: dict[PolicyID, PolicySpec]
    agent_to_policy: dict[AgentID, PolicyID]

    @property
    def learnt(self) -> dict[PolicyID, PolicySpec]:
        """The learnt policies."""
        return {i: p for i, p in self.policies.items() if p.learnt}

    @property
    def fixed(self) -> dict[PolicyID, PolicySpec]:
        """The fixed (hand-written) policies."""
        return {i: p for i, p in self.policies.items() if not p.learnt}

    def policy_of(self, agent_id: AgentID) -> PolicyID:
        """The id of the policy ``agent_id`` uses."""
        return self.agent_to_policy[agent_id]


def compile_policy_mapping(env: Any, policies: Mapping[PolicyID, Any]) -> PolicyMapping:
    """Check ``policies`` against ``env`` and resolve every agent to one policy.

    Raises:
        PolicyMappingError: if an agent is mapped twice or not at all, an id is unknown
            or not strategic, a shared policy mixes agents with different spaces, or a
            fixed policy class does not implement the policy interface.
    """
    if not isinstance(policies, Mapping) or not policies:
        raise PolicyMappingError(
            "policies must be a non-empty dict {policy_id: agent class | [agent ids] | "
            "(PolicyClass, agent class or ids[, config])}"
        )
    strategic = list(env.possible_agents)
    agent_to_policy: dict[AgentID, PolicyID] = {}
    specs: dict[PolicyID, PolicySpec] = {}
    for policy_id, value in policies.items():
        fixed_class, selector, config = _parse_entry(policy_id, value)
        agent_ids = _select_agents(env, policy_id, selector)
        for agent_id in agent_ids:
            if agent_id in agent_to_policy:
                raise PolicyMappingError(
                    f"agent {agent_id!r} is mapped to two policies, {agent_to_policy[agent_id]!r} "
                    f"and {policy_id!r}; every agent must use exactly one policy"
                )
            agent_to_policy[agent_id] = policy_id
        obs_space, act_space = _shared_spaces(env, policy_id, agent_ids)
        specs[policy_id] = PolicySpec(
            str(policy_id), agent_ids, obs_space, act_space, fixed_class, dict(config)
        )
    unmapped = [i for i in strategic if i not in agent_to_policy]
    if unmapped:
        raise PolicyMappingError(
            f"strategic agent(s) {unmapped} are mapped to no policy; add them to a policy "
            "(an agent class, an id list, or a fixed (PolicyClass, ids) entry)"
        )
    ordered = {i: agent_to_policy[i] for i in strategic}
    return PolicyMapping(specs, ordered)


def _parse_entry(policy_id: Any, value: Any) -> tuple[type[Policy] | None, Any, dict[str, Any]]:
    if isinstance(value, tuple):
        if len(value) not in (2, 3):
            raise PolicyMappingError(
                f"policy {policy_id!r}: a tuple entry is (PolicyClass, agents) or "
                f"(PolicyClass, agents, config), got {len(value)} items"
            )
        policy_class, selector = value[0], value[1]
        config = value[2] if len(value) == 3 else {}
        if not isinstance(config, Mapping):
            raise PolicyMappingError(f"policy {policy_id!r}: config must be a dict, got {config!r}")
        _check_policy_class(policy_id, policy_class)
        return policy_class, selector, dict(config)
    return None, value, {}


def _check_policy_class(policy_id: Any, policy_class: Any) -> None:
    if not (isinstance(policy_class, type) and issubclass(policy_class, Policy)):
        raise PolicyMappingError(
            f"policy {policy_id!r}: {policy_class!r} is not a ph.Policy subclass; fixed "
            "policies subclass ph.Policy and implement compute_action(observation)"
        )
    if (
        policy_class.compute_action is Policy.compute_action
        and policy_class.compute_actions is Policy.compute_actions
    ):
        raise PolicyMappingError(
            f"policy {policy_id!r}: {policy_class.__name__} does not implement "
            "compute_action(observation); override it (or compute_actions for batches)"
        )


def _select_agents(env: Any, policy_id: Any, selector: Any) -> list[AgentID]:
    strategic = list(env.possible_agents)
    if isinstance(selector, type) and issubclass(selector, Agent):
        chosen = [i for i in strategic if isinstance(env.network[i], selector)]
        if not chosen:
            raise PolicyMappingError(
                f"policy {policy_id!r}: no strategic agent is a {selector.__name__}"
            )
        return chosen
    if isinstance(selector, (str, bytes)) or not isinstance(selector, Sequence):
        raise PolicyMappingError(
            f"policy {policy_id!r}: expected an agent class or a list of agent ids, got "
            f"{selector!r}"
        )
    chosen = list(selector)
    if not chosen:
        raise PolicyMappingError(f"policy {policy_id!r}: its list of agent ids is empty")
    for agent_id in chosen:
        if agent_id not in env.network:
            raise PolicyMappingError(f"policy {policy_id!r}: unknown agent id {agent_id!r}")
        if agent_id not in strategic:
            raise PolicyMappingError(
                f"policy {policy_id!r}: agent {agent_id!r} "
                f"({type(env.network[agent_id]).__name__}) is not a StrategicAgent and has "
                "no policy"
            )
    order = {agent_id: n for n, agent_id in enumerate(strategic)}
    return sorted(dict.fromkeys(chosen), key=order.__getitem__)


def _shared_spaces(
    env: Any, policy_id: Any, agent_ids: list[AgentID]
) -> tuple[gym.Space[Any], gym.Space[Any]]:
    first = agent_ids[0]
    obs_space, act_space = env.observation_space(first), env.action_space(first)
    for agent_id in agent_ids[1:]:
        for kind, mine, theirs in (
            ("observation", env.observation_space(agent_id), obs_space),
            ("action", env.action_space(agent_id), act_space),
        ):
            if mine != theirs:
                raise PolicyMappingError(
                    f"policy {policy_id!r} is shared by agents with different {kind} spaces: "
                    f"{first!r} has {theirs} but {agent_id!r} has {mine}. Give them separate "
                    f"policies, or make their {kind} spaces identical"
                )
    return obs_space, act_space
