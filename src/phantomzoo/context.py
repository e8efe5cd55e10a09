"""The :class:`Context`: an agent's window on the environment.

Every hook an agent implements receives its context. Through it the agent sees itself,
the views its *neighbours* publish, the environment's view and the episode's random
generator. Views of agents that are not neighbours are unreachable: asking for one
raises :class:`~phantomzoo.errors.NetworkError`. That is how phantomzoo enforces partial
observability rather than leaving it to convention.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import NetworkError
from .types import AgentID
from .views import AgentView, EnvView

if TYPE_CHECKING:
    from .agents import Agent
    from .engine.clock import EpisodeClock
    from .network import Network


class Context:
    """An agent's local view of the environment for the current step.

    Attributes:
        agent: The agent this context belongs to.
    """

    __slots__ = ("agent", "_adjacent", "_agents", "_network", "_clock", "_views", "_views_epoch")

    def __init__(self, agent: Agent, network: Network, clock: EpisodeClock) -> None:
        self.agent = agent
        self._network = network
        self._adjacent = network.adjacency(agent.id)  # the network's own, live set
        self._agents = network.by_id
        self._clock = clock
        self._views: dict[AgentID, AgentView | None] | None = None
        self._views_epoch = -1

    @property
    def neighbour_ids(self) -> list[AgentID]:
        """Ids of the agents connected to this one, in the order agents were added
        (from the network's cache: no scan of the whole network)."""
        return self._network.neighbours(self.agent.id)

    @property
    def env_view(self) -> EnvView:
        """The environment's view for the current step."""
        return self._clock.env_view

    @property
    def current_step(self) -> int:
        """Steps taken so far in the episode."""
        return self._clock.env_view.current_step

    @property
    def rng(self) -> np.random.Generator:
        """The episode's generator (seeded by ``reset(seed=...)``): draw only from it."""
        return self._clock.rng  # type: ignore[return-value]

    @property
    def agent_views(self) -> dict[AgentID, AgentView | None]:
        """Views published to this agent by each neighbour; each is computed on first
        access in a step and reused for the rest of the step."""
        return {i: self.view(i) for i in self.neighbour_ids}

    def view(self, neighbour_id: AgentID) -> AgentView | None:
        """The view that neighbour ``neighbour_id`` publishes to this agent.

        The view is computed on first access in a step and then reused for the rest of
        the step, so everything the agent reads in one step is consistent.

        Raises:
            NetworkError: if ``neighbour_id`` is not a neighbour of this agent.
        """
        epoch = self._clock.epoch
        views = self._views
        try:
            if views is None or self._views_epoch != epoch:
                views = self._views = {}
                self._views_epoch = epoch
            elif neighbour_id in views:
                return views[neighbour_id]
            known = neighbour_id in self._adjacent
        except TypeError:  # an unhashable id (a list, a dict) cannot name an agent
            known = False
        if not known:
            raise NetworkError(
                f"agent {self.agent.id!r} cannot see agent {neighbour_id!r}: they are not "
                f"connected. Its neighbours are {self.neighbour_ids}; add a connection "
                "to the network if it should see this agent"
            )
        result = self._agents[neighbour_id].view(self.agent.id)
        views[neighbour_id] = result
        return result

    __getitem__ = view

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._adjacent

    def __iter__(self) -> Iterator[AgentID]:
        return iter(self.neighbour_ids)

    def __repr__(self) -> str:
        return f"Context(agent={self.agent.id!r}, neighbours={self.neighbour_ids})"

    def __getstate__(self) -> dict[str, Any]:  # pickles: the agents view is rebuilt
        return {name: getattr(self, name) for name in self.__slots__ if name != "_agents"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._agents = self._network.by_id

    def __deepcopy__(self, memo: dict[int, Any]) -> Context:
        import copy

        clone = Context.__new__(Context)
        memo[id(self)] = clone
        clone.agent = copy.deepcopy(self.agent, memo)
        clone._adjacent = copy.deepcopy(self._adjacent, memo)
        clone._network = copy.deepcopy(self._network, memo)
        clone._agents = clone._network.by_id
        clone._clock = copy.deepcopy(self._clock, memo)
        clone._views = None
        clone._views_epoch = -1
        return clone
