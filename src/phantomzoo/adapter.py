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

**Rendering** (PettingZoo's render contract): ``render_mode`` is ``None`` (``render()``
returns ``None``), ``"ansi"`` (``render()`` returns a one-screen text: the step, the
stage of a staged model and one line per strategic agent) or ``"human"`` (the same text
printed). An agent's line is :meth:`EngineAdapter.render_agent`: by default the agent's
own ``render_state()`` if it defines one (the bundled models show stock, orders, budgets
and bids), else its latest reward and a short summary of its latest observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from .engine.core import Engine, StepOutcome
from .errors import ConfigError
from .network import Network
from .supertype import Supertype
from .types import AgentID, StageID
from .views import EnvView

#: The render modes every phantomzoo environment supports.
RENDER_MODES = ["ansi", "human"]
#: Observation entries shown in an agent's default render line.
_SHOWN_VALUES = 6
#: Agent lines shown by ``render()``; more are summarised in one line (one screen).
_SHOWN_AGENTS = 20
#: Environment views kept for reuse per env (one per step number, or per step and stage):
#: views are immutable, so episodes share them; past this many they are built each time.
VIEW_MEMO_LIMIT = 100_000


def check_render_mode(owner: str, render_mode: Any, accepted: list[str]) -> str | None:
    """``render_mode`` if it is ``None`` or one of ``accepted`` (``metadata["render_modes"]``).

    Raises:
        ConfigError: naming the accepted modes.
    """
    if render_mode is None or (isinstance(render_mode, str) and render_mode in accepted):
        return render_mode
    raise ConfigError(
        f"{owner}: render_mode={render_mode!r} is not supported; pass one of "
        f"{list(accepted)} (or None for no rendering)"
    )


def summarise(value: Any) -> str:
    """A short text of an observation: its first numbers, or a Dict's keys."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {summarise(v)}" for k, v in value.items()) + "}"
    try:
        array = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return repr(value)[:40]
    shown = " ".join(f"{x:.3g}" for x in array[:_SHOWN_VALUES])
    return f"[{shown}{' ...' if array.size > _SHOWN_VALUES else ''}]"


class EngineAdapter:
    """The engine under a PettingZoo environment (see the module docs)."""

    engine: Engine
    render_mode: str | None = None
    _last_observations: dict[AgentID, Any]
    _last_rewards: dict[AgentID, float]

    def _build_engine(
        self, network: Network, num_steps: int, render_mode: str | None = None, **options: Any
    ) -> None:
        accepted = getattr(self, "metadata", {}).get("render_modes", RENDER_MODES)
        self.render_mode = check_render_mode(type(self).__name__, render_mode, accepted)
        self._last_observations, self._last_rewards = {}, {}
        own_view = type(self).view is not EngineAdapter.view  # a model publishing more
        self._step_views: list[EnvView] = []
        self.engine = Engine(
            network,
            num_steps,
            host=self,
            view=self.view if own_view else self._step_view,
            **options,
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

    # ------------------------------------------------------------- Phantom's names
    @property
    def n_agents(self) -> int:
        """How many agents the network holds (strategic or not)."""
        return len(self.network)

    @property
    def agent_ids(self) -> list[AgentID]:
        """Every agent's id, strategic or not (``possible_agents`` holds the strategic ones)."""
        return list(self.network.agent_ids)

    @property
    def strategic_agent_ids(self) -> list[AgentID]:
        return list(self.possible_agents)

    @property
    def non_strategic_agent_ids(self) -> list[AgentID]:
        strategic = set(self.possible_agents)
        return [i for i in self.network.agent_ids if i not in strategic]

    @property
    def strategic_agents(self) -> list[Any]:
        return [self.network[i] for i in self.possible_agents]

    @property
    def non_strategic_agents(self) -> list[Any]:
        return [self.network[i] for i in self.non_strategic_agent_ids]

    def __getitem__(self, agent_id: AgentID) -> Any:
        """The agent object of ``agent_id`` (``env["SHOP1"]``, as in Phantom)."""
        return self.network[agent_id]

    def is_terminated(self) -> bool:
        """Whether every strategic agent has terminated this episode."""
        endings = self.engine.endings
        return bool(self.possible_agents) and all(
            endings.get(i, (False, False))[0] for i in self.possible_agents
        )

    def is_truncated(self) -> bool:
        """Whether the episode hit its length, or every strategic agent was truncated."""
        endings = self.engine.endings
        if self.engine.ever_reset and self.current_step >= self.num_steps:
            return True
        return bool(self.possible_agents) and all(
            endings.get(i, (False, False))[1] for i in self.possible_agents
        )

    def view(self) -> EnvView:
        """The environment's view for the current step; override to publish more."""
        return self.engine.default_view()

    def _step_view(self) -> EnvView:
        """The engine's default view, one object per step number, built once (the engine
        asks for a view on every step; views are immutable, so episodes share them)."""
        engine = self.engine
        step = engine.current_step
        views = self._step_views
        if step < len(views):
            return views[step]
        view = engine.default_view()
        if step == len(views) and step < VIEW_MEMO_LIMIT:
            views.append(view)
        return view

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
        result = self.engine.reset(seed)
        if self.render_mode is not None:
            self._last_observations, self._last_rewards = dict(result[0]), {}
        return result

    def acting_step(self, actions: Mapping[AgentID, Any]) -> StepOutcome:
        """One engine step (see :meth:`phantomzoo.engine.core.Engine.step`)."""
        outcome = self.engine.step(actions)
        if self.render_mode is not None:
            self._remember(outcome)
        return outcome

    def _remember(self, outcome: StepOutcome) -> None:
        """Keep the latest observation and reward of each agent, for ``render()``."""
        self._last_observations.update(outcome[0])
        self._last_rewards.update(outcome[1])

    # ------------------------------------------------------------- PettingZoo extras
    def global_state(self) -> Any:
        """The model's global state for centralised critics; off by default.

        In an agent-based model the global state is the modeller's choice, so a model
        opts in: override this (reading the agents through ``self.network``) and set
        ``self.state_space`` in ``__init__``. It is served by :meth:`state` (PettingZoo's
        ``state()``) to critics only; agents' own observations stay partial.
        """
        raise NotImplementedError

    def state(self) -> Any:
        """PettingZoo's global state (:meth:`global_state`, cast to ``state_space``)."""
        if type(self).global_state is EngineAdapter.global_state:
            raise NotImplementedError(
                f"{type(self).__name__} defines no global state: override global_state() "
                "and set self.state_space to opt in (a global state is for centralised "
                "critics; agents keep their partial observations)"
            )
        space = getattr(self, "state_space", None)
        if not isinstance(space, gym.Space):
            raise ConfigError(
                f"{type(self).__name__} defines global_state() but no state_space: set "
                "self.state_space to a gymnasium space in __init__"
            )
        state = self.global_state()
        if isinstance(space, gym.spaces.Box):
            return np.asarray(state, dtype=space.dtype).reshape(space.shape)
        return state

    def render(self) -> str | None:
        """The text view (``"ansi"``), printed (``"human"``), or ``None`` (no render mode)."""
        if self.render_mode is None:
            return None
        text = self.render_text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def render_text(self) -> str:
        """One screen of text: step, stage (staged models) and one line per agent."""
        engine = self.engine
        header = f"step {engine.current_step}/{engine.num_steps}"
        if engine.current_stage is not None:
            header += f"  stage {engine.current_stage!r}"
        if not engine.ever_reset:
            return f"{header}\n  (no episode yet: call env.reset(seed=...) first)"
        agents = self.possible_agents
        live = set(engine.live_agents)
        lines = [header]
        for agent_id in agents[:_SHOWN_AGENTS]:
            mark = " " if agent_id in live else "x"
            lines.append(f"{mark} {agent_id}: {self.render_agent(agent_id)}")
        if len(agents) > _SHOWN_AGENTS:
            lines.append(f"  ... and {len(agents) - _SHOWN_AGENTS} more agents")
        return "\n".join(lines)

    def render_agent(self, agent_id: AgentID) -> str:
        """One agent's render line; override (or give the agent ``render_state()``)."""
        own = getattr(self.network[agent_id], "render_state", None)
        if callable(own):
            return str(own())
        reward = self._last_rewards.get(agent_id)
        shown = "-" if reward is None else f"{reward:.4g}"
        observation = self._last_observations.get(agent_id)
        summary = "-" if observation is None else summarise(observation)
        return f"reward {shown}  obs {summary}"

    def close(self) -> None:
        """Release resources (none are held)."""
