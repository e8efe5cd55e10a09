"""What :class:`~phantomzoo.single_agent.SingleAgentEnvAdapter` is built from, checked.

Three things, each refused with a :class:`~phantomzoo.errors.ConfigError` that says what
was wrong and how to fix it:

* :func:`build_env`: the phantomzoo env (from a class and its config, a built env, or a
  registered id);
* :func:`check_learner`: the learning agent (a strategic agent that acts somewhere);
* :func:`resolve_other_policies`: one :class:`~phantomzoo.TrainedPolicies` acting for every
  other strategic agent that acts, from Phantom's ``{agent_id: (PolicyClass, config)}``
  and phantomzoo's other forms (classes, instances, trained policies), each built with
  or checked against its agent's spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ConfigError
from .policy import Policy
from .registry import make
from .training.trained import TrainedPolicies
from .types import AgentID

#: What an env must offer to be adapted (every phantomzoo env has it).
_ACTING_PROTOCOL = ("acting_reset", "acting_step", "acting_agents", "possible_agents")

#: How ``other_policies`` may be written, for error messages.
FORMS = (
    "{agent_id: (PolicyClass, config) | PolicyClass | Policy instance | TrainedPolicies} "
    "or one ph.TrainedPolicies covering the other agents"
)


def build_env(env_class: Any, env_config: Mapping[str, Any] | None) -> Any:
    """The phantomzoo env to adapt: built from a class or an env id, or given built."""
    if env_config is not None and not isinstance(env_config, Mapping):
        raise ConfigError(
            f"env_config must be a dict of keyword arguments for the env, got {env_config!r}"
        )
    config = dict(env_config or {})
    if isinstance(env_class, str):
        env = make(env_class, **config)
    elif isinstance(env_class, type):
        if not all(hasattr(env_class, name) for name in _ACTING_PROTOCOL[:2]):
            raise ConfigError(_not_an_env(env_class.__name__))
        env = env_class(**config)
    else:
        if config:
            raise ConfigError(
                f"env_config {config!r} was given with an env that is already built "
                f"({type(env_class).__name__}); pass the env class with env_config, or the "
                "built env alone"
            )
        env = env_class
    if not all(hasattr(env, name) for name in _ACTING_PROTOCOL) or not hasattr(env, "engine"):
        raise ConfigError(_not_an_env(type(env).__name__))
    return env


def _not_an_env(name: str) -> str:
    return (
        f"SingleAgentEnvAdapter needs a phantomzoo env (a ph.PhantomEnv or "
        f"ph.FiniteStateMachineEnv class, instance or registered id), got {name}; a "
        "PettingZoo wrapper around one is not enough: pass the phantomzoo env itself"
    )


def check_learner(env: Any, agent_id: AgentID) -> AgentID:
    """``agent_id`` if it is a strategic agent of ``env`` that acts in some stage."""
    strategic = list(env.possible_agents)
    if not _known(env, agent_id):
        raise ConfigError(
            f"agent_id {agent_id!r} is not an agent of {type(env).__name__}; pick the "
            f"learning agent among its strategic agents {strategic}"
        )
    if agent_id not in strategic:
        raise ConfigError(
            f"agent_id {agent_id!r} ({type(env.network[agent_id]).__name__}) is not a "
            f"strategic agent, so it has no action to learn; pick one of {strategic}"
        )
    if agent_id not in _acting_somewhere(env):
        raise ConfigError(
            f"agent_id {agent_id!r} acts in no stage of {type(env).__name__}, so it never "
            "takes an action; add it to a stage's acting agents or pick another agent"
        )
    return agent_id


def _known(env: Any, agent_id: Any) -> bool:
    try:
        return agent_id in env.network
    except TypeError:  # an unhashable id
        return False


def _acting_somewhere(env: Any) -> set[AgentID]:
    """The strategic agents that act in at least one stage (every one, without stages)."""
    acting: set[AgentID] = set()
    for stage in env.engine.stages.values():
        acting.update(stage.acting_agents)
    return acting & set(env.possible_agents)


def resolve_other_policies(env: Any, learner: AgentID, given: Any) -> TrainedPolicies:
    """One ``TrainedPolicies`` acting for every other strategic agent that acts."""
    needed = [a for a in env.possible_agents if a != learner and a in _acting_somewhere(env)]
    if isinstance(given, TrainedPolicies):
        for agent_id in needed:
            _check_spaces(env, agent_id, _trained_policy(given, agent_id, "other_policies"))
        return given
    if not isinstance(given, Mapping):
        raise ConfigError(f"other_policies must be {FORMS}; got {type(given).__name__}")
    chosen: dict[AgentID, Policy] = {}
    for agent_id, value in given.items():
        _check_other(env, learner, agent_id)
        chosen[agent_id] = _policy_for(env, agent_id, value)
    missing = [a for a in needed if a not in chosen]
    if missing:
        raise ConfigError(
            f"no policy for agent(s) {missing}: every strategic agent but the learning agent "
            f"{learner!r} needs one in other_policies, as {FORMS}"
        )
    return _grouped(chosen)


def _check_other(env: Any, learner: AgentID, agent_id: Any) -> None:
    """Refuse an ``other_policies`` key that is the learner, unknown or not strategic."""
    if agent_id == learner:
        raise ConfigError(
            f"agent {agent_id!r} is listed twice: as the learning agent (agent_id) and in "
            "other_policies; remove it from other_policies (its actions come from step())"
        )
    strategic = list(env.possible_agents)
    if not _known(env, agent_id):
        raise ConfigError(
            f"other_policies names agent {agent_id!r}, which is not an agent of "
            f"{type(env).__name__}; its strategic agents are {strategic}"
        )
    if agent_id not in strategic:
        raise ConfigError(
            f"other_policies names agent {agent_id!r} "
            f"({type(env.network[agent_id]).__name__}), which is not a strategic agent and "
            "takes no actions; remove it (only strategic agents have policies)"
        )


def _policy_for(env: Any, agent_id: AgentID, value: Any) -> Policy:
    """The policy ``value`` stands for, for ``agent_id`` (built, or checked to fit)."""
    if isinstance(value, TrainedPolicies):
        policy = _trained_policy(value, agent_id, f"other_policies[{agent_id!r}]")
    elif isinstance(value, Policy):
        policy = value
    elif isinstance(value, tuple) or isinstance(value, type):
        policy_class, config = _class_and_config(agent_id, value)
        obs_space, act_space = env.observation_space(agent_id), env.action_space(agent_id)
        return policy_class(obs_space, act_space, **config)
    else:
        raise ConfigError(
            f"other_policies[{agent_id!r}] is {type(value).__name__} {value!r}, not a "
            f"policy; give a ph.Policy as {FORMS}"
        )
    _check_spaces(env, agent_id, policy)
    return policy


def _class_and_config(agent_id: AgentID, value: Any) -> tuple[type[Policy], dict[str, Any]]:
    """``(PolicyClass, config)`` from Phantom's tuple form or a bare class, checked."""
    where = f"other_policies[{agent_id!r}]"
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ConfigError(
                f"{where} is a tuple of {len(value)} item(s); Phantom's form is "
                "(PolicyClass, config dict), e.g. (MyPolicy, {})"
            )
        policy_class, config = value
        if not isinstance(config, Mapping):
            raise ConfigError(f"{where}: the config must be a dict, got {config!r}")
    else:
        policy_class, config = value, {}
    if not (isinstance(policy_class, type) and issubclass(policy_class, Policy)):
        raise ConfigError(
            f"{where}: {policy_class!r} is not a ph.Policy subclass; fixed policies subclass "
            "ph.Policy and implement compute_action(observation)"
        )
    if (
        policy_class.compute_action is Policy.compute_action
        and policy_class.compute_actions is Policy.compute_actions
    ):
        raise ConfigError(
            f"{where}: {policy_class.__name__} implements neither compute_action(observation) "
            "nor compute_actions(observations); override one of them"
        )
    return policy_class, dict(config)


def _trained_policy(trained: TrainedPolicies, agent_id: AgentID, where: str) -> Policy:
    """The policy ``trained`` uses for ``agent_id``."""
    policy_id = trained.agent_to_policy.get(agent_id)
    if policy_id is None:
        raise ConfigError(
            f"{where}: the trained policies cover {list(trained.agent_to_policy)}, not agent "
            f"{agent_id!r}; give that agent a policy of its own in an other_policies dict"
        )
    return trained.policies[policy_id]


def _check_spaces(env: Any, agent_id: AgentID, policy: Policy) -> None:
    """Refuse a policy built for other spaces than ``agent_id``'s."""
    for kind, mine, theirs in (
        ("observation", env.observation_space(agent_id), policy.observation_space),
        ("action", env.action_space(agent_id), policy.action_space),
    ):
        if mine != theirs:
            raise ConfigError(
                f"the policy for agent {agent_id!r} ({type(policy).__name__}) has {kind} "
                f"space {theirs}, but the agent's is {mine}; it was built for another agent "
                "or model configuration: build it with this agent's spaces"
            )


def _grouped(chosen: Mapping[AgentID, Policy]) -> TrainedPolicies:
    """``chosen`` as one TrainedPolicies; agents sharing a policy object share its id, so
    one call per step serves them all."""
    ids: dict[int, str] = {}
    policies: dict[str, Policy] = {}
    agent_to_policy: dict[AgentID, str] = {}
    for agent_id, policy in chosen.items():
        policy_id = ids.setdefault(id(policy), f"policy_{len(ids)}")
        policies[policy_id] = policy
        agent_to_policy[agent_id] = policy_id
    return TrainedPolicies(policies, agent_to_policy)
