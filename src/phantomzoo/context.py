"""The :class:`Context`: an agent's window on the environment.

Every hook an agent implements receives its context. Through it the agent sees itself,
the views its *neighbours* publish, the environment's view and the episode's random
generator. Views of agents that are not neighbours are unreachable: asking for one
raises :class:`~phantomzoo.errors.NetworkError`. That is how phantomzoo enforces partial
observability rather than leaving it to convention.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Hashable

import numpy as np

from .errors import NetworkError
from .views import AgentView, EnvView

if TYPE_CHECKING:
    from .agents import Agent

AgentID = Hashable


class _ContextHost:
    """What a context needs from its environment (implemented by PhantomEnv)."""

    env_view: EnvView
    np_random: np.random.Generator
    _view_epoch: int


class Context:
    """An agent's local view of the environment for the current step.

    Attributes:
        agent: The agent this context belongs to.
        neighbour_ids: Ids of the agents connected to it.
    """

    __slots__ = ("agent", "neighbour_ids", "_neighbours", "_host", "_views", "_views_epoch")

    def __init__(
        self, agent: Agent, neighbours: Mapping[AgentID, Agent], host: _ContextHost
    ) -> None:
        self.agent = agent
        self._neighbours = dict(neighbours)
        self.neighbour_ids: tuple[AgentID, ...] = tuple(self._neighbours)
        self._host = host
        self._views: dict[AgentID, AgentView | None] = {}
        self._views_epoch = -1

    @property
    def env_view(self) -> EnvView:
        """The environment's view for the current step."""
        return self._host.env_view

    @property
    def current_step(self) -> int:
        """Steps taken so far in the episode."""
        return self._host.env_view.current_step

    @property
    def rng(self) -> np.random.Generator:
        """The episode's generator (seeded by ``reset(seed=...)``): draw only from it."""
        return self._host.np_random

    @property
    def agent_views(self) -> dict[AgentID, AgentView | None]:
        """Views published to this agent by each neighbour (computed once per step)."""
        for neighbour_id in self.neighbour_ids:
            self.view(neighbour_id)
        return dict(self._views)

    def view(self, neighbour_id: AgentID) -> AgentView | None:
        """The view that neighbour ``neighbour_id`` publishes to this agent.

        The view is computed on first access in a step and then reused for the rest of
        the step, so everything the agent reads in one step is consistent.

        Raises:
            NetworkError: if ``neighbour_id`` is not a neighbour of this agent.
        """
        epoch = self._host._view_epoch
        if self._views_epoch != epoch:
            self._views = {}
            self._views_epoch = epoch
        try:
            return self._views[neighbour_id]
        except KeyError:
            pass
        neighbour = self._neighbours.get(neighbour_id)
        if neighbour is None:
            raise NetworkError(
                f"agent {self.agent.id!r} cannot see agent {neighbour_id!r}: they are not "
                f"connected. Its neighbours are {list(self.neighbour_ids)}; add a connection "
                "to the network if it should see this agent"
            )
        result = neighbour.view(self.agent.id)
        self._views[neighbour_id] = result
        return result

    __getitem__ = view

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._neighbours

    def __iter__(self) -> Iterator[AgentID]:
        return iter(self.neighbour_ids)

    def __repr__(self) -> str:
        return f"Context(agent={self.agent.id!r}, neighbours={list(self.neighbour_ids)})"

    def __deepcopy__(self, memo: dict[int, Any]) -> Context:
        import copy

        clone = Context.__new__(Context)
        memo[id(self)] = clone
        clone.agent = copy.deepcopy(self.agent, memo)
        clone._neighbours = copy.deepcopy(self._neighbours, memo)
        clone.neighbour_ids = self.neighbour_ids
        clone._host = copy.deepcopy(self._host, memo)
        clone._views = {}
        clone._views_epoch = -1
        return clone
