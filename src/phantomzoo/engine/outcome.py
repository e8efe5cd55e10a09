"""What one engine step returns."""

from __future__ import annotations

from typing import Any, NamedTuple

from ..types import AgentID


class StepOutcome(NamedTuple):
    """What one engine step returns (unpacks like a PettingZoo step's five dicts)."""

    observations: dict[AgentID, Any]
    rewards: dict[AgentID, float]
    terminations: dict[AgentID, bool]
    truncations: dict[AgentID, bool]
    infos: dict[AgentID, dict[str, Any]]


def outcome(parts: tuple[Any, ...]) -> StepOutcome:
    """A StepOutcome without the NamedTuple constructor's argument handling (hot path)."""
    return _tuple_new(StepOutcome, parts)


_tuple_new = tuple.__new__
