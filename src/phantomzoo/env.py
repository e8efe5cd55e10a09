"""PhantomEnv: a network of agents compiled into a PettingZoo ``ParallelEnv``.

One step:

1. ``pre_message_resolution`` on every agent that defines it;
2. every live strategic agent's action goes through ``decode_action``, and every agent
   that defines ``generate_messages`` sends its messages;
3. the network's resolver delivers all messages and replies;
4. ``post_message_resolution`` on every agent that defines it;
5. each strategic agent that acted is observed, rewarded and checked for termination /
   truncation (every agent is truncated once ``num_steps`` steps have been taken).

``reset(seed=s)`` seeds the one generator (``env.np_random``) every random draw comes
from: supertype samplers, stochastic edges, resolver shuffles and agents (through
``ctx.rng``). Same seed and actions give the same episode.

The env is a thin adapter over :class:`~phantomzoo.engine.core.Engine` (``env.engine``):
the engine plays the step, the env presents it as a ``ParallelEnv``. Trainers may drive
any phantomzoo env, staged or not, through the *acting-agents* protocol
(:mod:`phantomzoo.adapter`); for a parallel env it is ``reset`` and ``step``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pettingzoo import ParallelEnv

from .adapter import RENDER_MODES, EngineAdapter
from .network import Network, set_payload_checks
from .supertype import Supertype
from .telemetry_defaults import TelemetryHost
from .types import AgentID

StepResult = tuple[
    dict[AgentID, Any],
    dict[AgentID, float],
    dict[AgentID, bool],
    dict[AgentID, bool],
    dict[AgentID, dict[str, Any]],
]


class PhantomEnv(TelemetryHost, EngineAdapter, ParallelEnv):
    """A PettingZoo ``ParallelEnv`` over a network of agents.

    Subclass it, build the network in ``__init__`` and call ``super().__init__``.

    Args:
        num_steps: Episode length; every agent is truncated after this many steps.
        network: The agents and their connections.
        env_supertype: Optional supertype sampled into ``self.env_type`` every reset: a
            ``ph.Supertype`` instance, or (Phantom's style) a mapping of field -> value or
            sampler built into the env class's nested ``Supertype`` dataclass.
        agent_supertypes: Optional ``{agent_id: supertype}``, overriding agents' own; each
            value an instance or a mapping of its fields (built into the agent class's
            ``Supertype``, else the class of the agent's supertype, keeping the fields the
            mapping leaves out). See :mod:`phantomzoo.engine.supertypes`.
        enforce_msg_payload_checks: ``False`` switches off the sender/receiver type checks
            of ``@ph.msg_payload`` payloads (sets the network's switch of that name);
            ``None`` (default) keeps the network's setting (on unless turned off there).
        type_augmented_observations: When true (the default), a strategic agent with a
            supertype gets its sampled type, flattened to numbers, appended to its
            observation (``Box`` observations are extended, ``Dict`` observations get a
            ``"type"`` entry) and its observation space widened to match, so one shared
            policy can condition on each agent's type.
        checks: Runtime checks: ``"first"`` (default) checks the first observation,
            reward and action of each agent per episode (and every reward's finiteness),
            ``"full"`` checks every step against the spaces' bounds too (debugging),
            ``"off"`` checks nothing. See :class:`~phantomzoo.engine.checks.RuntimeChecks`.
        check_observations: Older switch: ``True`` means ``checks="full"``.
        render_mode: ``None`` (default), ``"ansi"`` (``render()`` returns a text view)
            or ``"human"`` (``render()`` prints it); see :mod:`phantomzoo.adapter`.
        batched: Use the agents' batched twins (:mod:`phantomzoo.engine.batched`), where
            their classes define them; off by default (takes effect at the next reset).
    """

    metadata: dict[str, Any] = {"name": "phantomzoo", "render_modes": list(RENDER_MODES)}

    def __init__(
        self,
        num_steps: int,
        network: Network,
        env_supertype: Supertype | Mapping[str, Any] | None = None,
        agent_supertypes: Mapping[AgentID, Supertype | Mapping[str, Any]] | None = None,
        *,
        type_augmented_observations: bool = True,
        check_observations: bool | None = None,
        checks: str | None = None,
        render_mode: str | None = None,
        enforce_msg_payload_checks: bool | None = None,
        batched: bool = False,
    ) -> None:
        set_payload_checks(network, enforce_msg_payload_checks)
        self._build_engine(
            network,
            num_steps,
            render_mode=render_mode,
            env_supertype=env_supertype,
            agent_supertypes=agent_supertypes,
            type_augmented_observations=type_augmented_observations,
            check_observations=check_observations,
            checks=checks,
            batched=batched,
        )
        self._init_telemetry()  # off unless ph.telemetry.logger set a default
        self.agents: list[AgentID] = []  # the live strategic agents (all act each step)

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Start a new episode; returns ``(observations, infos)`` for every strategic agent."""
        result = self.engine.reset(seed)
        self.agents = self.engine.live_agents
        if self.render_mode is not None:
            self._last_observations, self._last_rewards = dict(result[0]), {}
        return result

    def step(self, actions: Mapping[AgentID, Any]) -> StepResult:
        """Advance one step with an action for every live strategic agent."""
        outcome = self.engine.step(actions)
        self.agents = self.engine.live_agents
        if self.render_mode is not None:
            self._remember(outcome)
        return outcome

    def acting_reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Same as :meth:`reset` (every live agent acts every step)."""
        return self.reset(seed, options)

    def acting_step(self, actions: Mapping[AgentID, Any]) -> StepResult:
        """Same as :meth:`step`."""
        return self.step(actions)
