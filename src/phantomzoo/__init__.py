"""phantomzoo: agent-based models with typed messages over networks, as PettingZoo envs.

``import phantomzoo as ph`` gives the modelling vocabulary of the Phantom framework
(agents, payloads, networks, resolvers, supertypes, views) and compiles models into
standard PettingZoo environments. Trainer backends live in ``phantomzoo.backends`` and
are imported only when used; this package never imports torch, ray or SB3.
"""

from __future__ import annotations

from . import (
    agents,
    decoders,
    encoders,
    errors,
    metrics,
    ranges,
    resolvers,
    reward_functions,
    samplers,
    telemetry,
    utils,
)
from .agents import Agent, StrategicAgent, msg_handler
from .context import Context
from .engine.batched_columns import MessageColumns, Outbox
from .engine.batched_groups import AgentGroup
from .env import PhantomEnv
from .errors import PhantomZooError
from .experiments.branch import branch, branch_many
from .experiments.diff import diff
from .experiments.evaluation import evaluate
from .experiments.exploitability import ExploitabilityResult, exploitability
from .experiments.replay import replay
from .experiments.rollout import Rollout, evaluate_policy, rollout
from .fsm import FiniteStateMachineEnv, FSMEnvView, FSMStage, StackelbergEnv
from .message import Message, MsgPayload, msg_payload
from .network import Network, StochasticNetwork
from .parallel import StagedParallelEnv
from .policy import Policy
from .registry import make, register, registered_envs, spec
from .single_agent import SingleAgentEnvAdapter
from .supertype import Supertype
from .telemetry import Telemetry
from .training.api import TrainingResult, train
from .training.mapping import PolicyMapping, PolicySpec, compile_policy_mapping
from .training.trained import MLPPolicy, TrainedPolicies, load_policies
from .types import AgentID  # noqa: E402  (Phantom: ph.AgentID)
from .views import AgentView, EnvView

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentGroup",
    "MessageColumns",
    "Outbox",
    "AgentID",
    "AgentView",
    "Context",
    "EnvView",
    "FSMEnvView",
    "FSMStage",
    "FiniteStateMachineEnv",
    "StackelbergEnv",
    "StagedParallelEnv",
    "MLPPolicy",
    "Message",
    "MsgPayload",
    "Network",
    "PhantomEnv",
    "PhantomZooError",
    "Policy",
    "PolicyMapping",
    "PolicySpec",
    "SingleAgentEnvAdapter",
    "StochasticNetwork",
    "StrategicAgent",
    "Supertype",
    "Telemetry",
    "TrainedPolicies",
    "TrainingResult",
    "compile_policy_mapping",
    "evaluate",
    "exploitability",
    "ExploitabilityResult",
    "load_policies",
    "metrics",
    "train",
    "utils",
    "agents",
    "decoders",
    "encoders",
    "errors",
    "make",
    "msg_handler",
    "msg_payload",
    "ranges",
    "register",
    "registered_envs",
    "rollout",
    "Rollout",
    "evaluate_policy",
    "resolvers",
    "reward_functions",
    "samplers",
    "spec",
    "telemetry",
    "replay",
    "branch",
    "branch_many",
    "diff",
]


def __getattr__(name: str):  # lazy submodules that pull in heavier optional pieces
    if name in ("testing", "plots"):  # plots: matplotlib only when a picture is drawn
        # import_module, not ``from . import testing``: the latter looks the name up on
        # this package first, which calls this very function again (endless recursion)
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'phantomzoo' has no attribute {name!r}")
