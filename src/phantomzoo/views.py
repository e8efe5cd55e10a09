"""Views: read-only snapshots an agent or the environment publishes to its neighbours."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentView:
    """Base class for what an agent shows its neighbours.

    Subclass it (as a frozen dataclass) and return an instance from ``Agent.view``::

        @dataclass(frozen=True)
        class ShopView(ph.AgentView):
            price: float
    """


@dataclass(frozen=True)
class EnvView:
    """What every agent may see of the environment.

    Attributes:
        current_step: Steps taken so far in this episode (0 right after reset).
        proportion_time_elapsed: ``current_step / num_steps``.
    """

    current_step: int
    proportion_time_elapsed: float
