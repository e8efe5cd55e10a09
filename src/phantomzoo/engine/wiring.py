"""Which agents take part in which part of a step, found once per network version.

A step calls, for every agent that *overrides* it, ``pre_message_resolution``,
``generate_messages`` and ``post_message_resolution``; every acting strategic agent's
``decode_action``; and, for strategic agents that can end early, ``is_terminated`` /
``is_truncated``. Looking this up on every step would cost a method lookup per agent
per hook; :class:`Wiring` does it once (when the network's edges or agents change),
pairing each bound hook with the agent's context.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from ..agents import Agent, StrategicAgent
from ..context import Context
from ..network import Network
from ..types import AgentID
from .clock import EpisodeClock


def _overrides(agent: Agent, name: str, base: type = Agent) -> bool:
    return getattr(type(agent), name) is not getattr(base, name)


class Wiring:
    """Contexts and the per-hook call lists of one network version.

    Attributes:
        contexts: ``{agent_id: Context}`` for every agent.
        pre_calls / post_calls: ``[(bound hook, context)]`` of the agents overriding
            ``pre_message_resolution`` / ``post_message_resolution``.
        decoders: ``{agent_id: (decode_action, context)}`` of the strategic agents.
        generators: ``[(agent_id, generate_messages, context)]`` of the overriders.
        enders: ``[(agent_id, is_terminated or None, is_truncated or None, context)]`` of
            the strategic agents that can end before the time limit (``None`` marks a
            hook the agent does not override: it never fires).
        info_ids: Strategic agents that override ``collect_infos``.
    """

    def __init__(self, network: Network, strategic: Collection[AgentID], clock: EpisodeClock):
        agents = network.by_id
        self.version = network.version
        self.contexts: dict[AgentID, Context] = {
            agent_id: Context(agent, network, clock) for agent_id, agent in agents.items()
        }
        contexts = self.contexts
        pairs = list(agents.items())
        self.pre_calls: list[tuple[Callable[[Context], Any], Context]] = [
            (a.pre_message_resolution, contexts[i])
            for i, a in pairs
            if _overrides(a, "pre_message_resolution")
        ]
        self.post_calls: list[tuple[Callable[[Context], Any], Context]] = [
            (a.post_message_resolution, contexts[i])
            for i, a in pairs
            if _overrides(a, "post_message_resolution")
        ]
        self.decoders = {i: (a.decode_action, contexts[i]) for i, a in pairs if i in strategic}
        self.generators = [
            (i, a.generate_messages, contexts[i])
            for i, a in pairs
            if _overrides(a, "generate_messages")
        ]
        self.enders = []
        for i, a in pairs:
            if i not in strategic:
                continue
            terminated = _overrides(a, "is_terminated", StrategicAgent)
            truncated = _overrides(a, "is_truncated", StrategicAgent)
            if terminated or truncated:
                self.enders.append(
                    (
                        i,
                        a.is_terminated if terminated else None,
                        a.is_truncated if truncated else None,
                        contexts[i],
                    )
                )
        self.info_ids = {
            i for i, a in pairs if i in strategic and _overrides(a, "collect_infos", StrategicAgent)
        }
