"""What both PettingZoo environments share: an engine, and the engine's state as attributes.

:class:`EngineAdapter` is the base of :class:`~phantomzoo.PhantomEnv` (``ParallelEnv``)
and :class:`~phantomzoo.FiniteStateMachineEnv` (``AECEnv``). It builds the
:class:`~phantomzoo.engine.core.Engine` (``env.engine``), forwards the model state that
model code reads on the env (``network``, ``current_step``, ``np_random``, ``env_type``,
``current_stage``, ``checks``, ...) and offers the *acting-agents protocol* that
trainers, rollouts and evaluation drive both kinds of environment through:

* ``acting_reset(seed, options) -> (observations, infos)`` of the agents that act first;
* ``acting_agents``: the live agents that must act in the next ``acting_step``;
* ``acting_step(actions) -> (observations, rewards, terminations, truncations, infos)``.

A subclass may override ``view()`` to publish more in the environment view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from .engine.core import Engine, StepOutcome
from .network import Network
from .supertype import Supertype
from .types import AgentID, StageID
from .views import EnvView


class EngineAdapter:
    """The engine under a PettingZoo environment (see the module docs)."""

    engine: Engine

    def _build_engine(self, network: Network, num_steps: int, **options: Any) -> None:
        own_view = type(self).view is not EngineAdapter.view  # a model publishing more
        self.engine = Engine(
            network, num_steps, host=self, view=self.view if own_view else None, **options
        )

    # ------------------------------------------------------------- model state
    @property
    def network(self) -> Network:
        return self.engine.network

    @property
    def num_steps(self) -> int:
        return self.engine.num_steps

    @property
    def current_step(self) -> int:
        return self.engine.current_step

    @property
    def np_random(self) -> np.random.Generator | None:
        return self.engine.np_random

    @property
    def env_type(self) -> Supertype | None:
        return self.engine.env_type

    @property
    def env_supertype(self) -> Supertype | None:
        return self.engine.env_supertype

    @property
    def env_view(self) -> EnvView:
        return self.engine.env_view

    @property
    def current_stage(self) -> StageID | None:
        """The stage played next (``None`` for a model without stages)."""
        return self.engine.current_stage

    @property
    def possible_agents(self) -> list[AgentID]:
        return self.engine.possible_agents

    @property
    def type_augmented_observations(self) -> bool:
        return self.engine.type_augmented_observations

    @property
    def checks(self) -> str:
        """The runtime check level (``"off"``, ``"first"``, ``"full"``; settable)."""
        return self.engine.checks

    @checks.setter
    def checks(self, level: str) -> None:
        self.engine.checks = level

    @property
    def check_observations(self) -> bool:
        return self.engine.check_observations

    @check_observations.setter
    def check_observations(self, value: bool) -> None:
        self.engine.check_observations = value

    def view(self) -> EnvView:
        """The environment's view for the current step; override to publish more."""
        return self.engine.default_view()

    def observation_space(self, agent: AgentID) -> gym.Space[Any]:
        """The observation space of strategic agent ``agent`` (same object every call)."""
        return self.engine.observation_space(agent)

    def action_space(self, agent: AgentID) -> gym.Space[Any]:
        """The action space of strategic agent ``agent`` (same object every call)."""
        return self.engine.action_space(agent)

    def compute_rewards(self, agent_ids: Any) -> dict[AgentID, float]:
        """The checked rewards of ``agent_ids`` now (see the engine)."""
        return self.engine.compute_rewards(agent_ids)

    # ------------------------------------------------------------- acting protocol
    @property
    def acting_agents(self) -> list[AgentID]:
        """The live agents that must act in the next ``acting_step``."""
        return self.engine.acting_agents

    def acting_reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, Any], dict[AgentID, dict[str, Any]]]:
        """Start an episode; observations and infos of the agents that act first."""
        return self.engine.reset(seed)

    def acting_step(self, actions: Mapping[AgentID, Any]) -> StepOutcome:
        """One engine step (see :meth:`phantomzoo.engine.core.Engine.step`)."""
        return self.engine.step(actions)

    # ------------------------------------------------------------- PettingZoo extras
    def state(self) -> np.ndarray:
        raise NotImplementedError("phantomzoo environments do not define a global state")

    def render(self) -> None:
        """Nothing to render; models expose their state through metrics and rollouts."""
        return None

    def close(self) -> None:
        """Release resources (none are held)."""
