"""Models and policies for the replay / branch / diff tests: the bundled models with
cheap deterministic policies, a model with an env attribute read every step, and one
that is not deterministic given its seed and actions (it keeps global state)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from models import Echo, PingEnv, Talker, TalkerType

import phantomzoo as ph
from phantomzoo.envs.digital_ads.bench import baselines as ads_baselines
from phantomzoo.envs.mask_toy import RefillPolicy
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.envs.supply_chain_paper.heuristics import OrderUpToPolicy as PaperOrderUpTo
from phantomzoo.samplers import UniformFloatSampler
from phantomzoo.training.api import resolve_env


class TargetPolicy(ph.Policy):
    """type_toy: act out the type appended to the observation (its last number)."""

    def compute_action(self, observation: Any) -> np.ndarray:
        return np.asarray(observation, dtype=np.float32)[-1:]


class SkillPolicy(ph.Policy):
    """PingEnv with types: send 3 when the agent's skill (last number) is above 0.5, else 1."""

    def compute_action(self, observation: Any) -> int:
        return 3 if float(np.asarray(observation).reshape(-1)[-1]) > 0.5 else 1


#: Bundled model -> (small config, its deterministic policies as ``env -> TrainedPolicies``).
BUNDLED: dict[str, tuple[dict[str, Any], Any]] = {
    "supply_chain_v0": ({"num_steps": 30}, lambda env: _shared(env, OrderUpToPolicy, level=25)),
    "supply_chain_paper_v0": (
        {"num_shops": 2, "customers_per_shop": 2, "num_cycles": 10},
        lambda env: _shared(env, PaperOrderUpTo, level=30),
    ),
    "digital_ads_v0": (
        {"advertisers_per_family": 1, "num_steps": 12},
        lambda env: ads_baselines(env)["value heuristic"],
    ),
    "type_toy_v0": ({"num_steps": 6}, lambda env: _shared(env, TargetPolicy)),
    "mask_toy_v0": ({"num_steps": 12}, lambda env: _shared(env, RefillPolicy, capacity=4)),
}

#: The staged bundled models (FSM stages: who acts changes from step to step).
STAGED = ("supply_chain_paper_v0", "digital_ads_v0")


def _shared(env: Any, policy_class: type, **config: Any) -> ph.TrainedPolicies:
    """One ``policy_class`` instance acting for every strategic agent."""
    first = env.possible_agents[0]
    policy = policy_class(env.observation_space(first), env.action_space(first), **config)
    return ph.TrainedPolicies({"p": policy}, dict.fromkeys(env.possible_agents, "p"))


def bundled_rollouts(name: str, num_repeats: int = 1, **kwargs: Any) -> list[ph.Rollout]:
    """Messages-recorded rollouts of a bundled model with its deterministic policies."""
    config, make_policies = BUNDLED[name]
    env = resolve_env(name, config).make()
    return ph.rollout(
        name,
        make_policies(env),
        env_config=config,
        num_repeats=num_repeats,
        record_messages=True,
        show_progress_bar=False,
        seed=kwargs.pop("seed", 7),
        **kwargs,
    )


class BonusTalker(Talker):
    """A Talker rewarded with its last Pong plus the env's ``bonus`` (read every step)."""

    def __init__(self, agent_id: str, target: str, env: Any, supertype: Any = None) -> None:
        super().__init__(agent_id, target, supertype)
        self.env = env

    def compute_reward(self, ctx: Any) -> float:
        return float(self.last) + float(self.env.bonus)


class BonusPingEnv(ph.PhantomEnv):
    """Two typed BonusTalkers, each connected to its echo; ``bonus`` is an env attribute."""

    def __init__(self, num_steps: int = 6, bonus: float = 0.0) -> None:
        self.bonus = bonus
        skill = TalkerType(UniformFloatSampler(0.0, 1.0))
        agents = [
            BonusTalker("A", "EA", self, skill),
            BonusTalker("B", "EB", self, skill),
            Echo("EA"),
            Echo("EB"),
        ]
        network = ph.Network(agents)
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        super().__init__(num_steps=num_steps, network=network)


_CALLS = itertools.count()  # module state that outlives episodes: not seeded, never reset


class LeakyTalker(Talker):
    """Rewarded by a global counter: the same seed and actions give other rewards."""

    def compute_reward(self, ctx: Any) -> float:
        return float(next(_CALLS) % 7)


class LeakyEnv(PingEnv):
    """PingEnv whose talker B is a LeakyTalker."""

    def __init__(self, num_steps: int = 5) -> None:
        super().__init__(num_steps=num_steps)
        self.network["B"].__class__ = LeakyTalker
