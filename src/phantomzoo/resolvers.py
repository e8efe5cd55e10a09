"""Resolvers: how messages are delivered within a step.

A resolver receives the messages agents sent at the start of a step, already checked
and grouped by receiver in sending order (``{receiver_id: [Message, ...]}``), and
delivers them and every reply they trigger to their receivers' handlers. Write your own
by subclassing :class:`Resolver` and implementing :meth:`Resolver.resolve`; hand a batch
to its receiver with :meth:`Resolver.deliver`, which queues the replies through
``network.send`` (so edge and payload checks always apply). When ``network.message_log``
is a list, every message delivered is appended to it (rollouts and
:mod:`~phantomzoo.telemetry` record messages that way): :meth:`Resolver.deliver` does it
for you, so a custom resolver that delivers with it is logged too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import ResolverError
from .types import AgentID

if TYPE_CHECKING:
    from .context import Context
    from .message import Message
    from .network import Network


class Resolver(ABC):
    """Base class of message resolvers."""

    @abstractmethod
    def resolve(
        self,
        network: Network,
        pending: dict[AgentID, list[Message]],
        contexts: dict[AgentID, Context],
        rng: np.random.Generator,
    ) -> None:
        """Deliver the pending messages and every reply, until none are left (or fail).

        Args:
            network: The network; use :meth:`deliver` to hand a batch to its receiver.
            pending: Messages sent at the start of the step (already checked), as
                ``{receiver_id: [messages in sending order]}``.
            contexts: Each agent's context, by id.
            rng: The episode's generator, for any randomness (e.g. shuffling).
        """

    @staticmethod
    def deliver(
        network: Network,
        receiver_id: AgentID,
        batch: Sequence[Message],
        contexts: dict[AgentID, Context],
        pending: dict[AgentID, list[Message]],
    ) -> None:
        """Hand ``batch`` to its receiver and queue the replies it sends in ``pending``
        (appending the batch to ``network.message_log`` when that is a list)."""
        if network.message_log is not None:
            network.message_log.extend(batch)
        Resolver._handle(network, receiver_id, batch, contexts, pending)

    @staticmethod
    def _handle(
        network: Network,
        receiver_id: AgentID,
        batch: Sequence[Message],
        contexts: dict[AgentID, Context],
        pending: dict[AgentID, list[Message]],
    ) -> None:
        """:meth:`deliver` without logging (for resolvers that log a round at once)."""
        agent = network._agents[receiver_id]
        ctx = contexts[receiver_id]
        if agent._pz_fast:
            # Neither handle_batch nor handle_message is overridden: call the
            # msg_handler methods directly (same behaviour, two calls fewer per message).
            handlers = agent._pz_handlers
            for message in batch:
                handler = handlers.get(message[2].__class__)
                if handler is None:
                    handler = agent.find_handler(message[2].__class__)
                replies = handler(agent, ctx, message)
                if replies:
                    network.queue(receiver_id, replies, pending)
        else:
            replies = agent.handle_batch(ctx, batch)
            if replies:
                network.queue(receiver_id, replies, pending)


#: Rounds of message delivery a :class:`BatchResolver` allows per step by default. Each
#: round delivers the previous round's replies, so 100 rounds means a reply chain 100
#: messages deep: far beyond any request/response protocol, reached in practice only by
#: agents that answer each other forever.
DEFAULT_ROUND_LIMIT = 100
#: What a :class:`BatchResolver` may do with messages left after its round limit.
ROUND_LIMIT_ACTIONS = ("raise", "drop")


class BatchResolver(Resolver):
    """Delivers messages in rounds, batched per receiver, until none are left.

    In each round, all pending messages are grouped by receiver (in sending order) and
    each receiver handles its batch; the replies form the next round.

    Args:
        round_limit: Maximum number of rounds per step (an int >= 1; ``None`` means
            :data:`DEFAULT_ROUND_LIMIT`, 100). If messages are still pending after it,
            :class:`~phantomzoo.errors.ResolverError` is raised naming the agents still
            exchanging messages. There is deliberately no unbounded setting: a step
            always finishes. For deep protocols pass a larger int.
        shuffle_batches: Shuffle the order of messages within each batch, drawing from
            the episode's seeded generator.
        on_round_limit: What happens to messages still pending after ``round_limit``
            rounds. ``"raise"`` (the default) raises ResolverError: a reply loop is almost
            always a bug, and silently losing messages would corrupt the model. ``"drop"``
            is Phantom's documented behaviour (the limit bounds processing): the step
            goes on without them, and they are counted in :attr:`dropped_messages`
            (``{payload class name: count}``, cumulative) and :attr:`last_dropped` (the
            latest step's count).
        enable_tracking: Keep every delivered message in :attr:`tracked_messages`
            (Phantom's switch; ``network.message_log`` is the per-episode equivalent).

    ``round_limit=0`` delivers nothing: any message sent is over the limit.
    """

    def __init__(
        self,
        round_limit: int | None = None,
        shuffle_batches: bool = False,
        on_round_limit: str = "raise",
        enable_tracking: bool = False,
    ) -> None:
        if round_limit is None:
            round_limit = DEFAULT_ROUND_LIMIT
        if not isinstance(round_limit, (int, np.integer)) or isinstance(round_limit, bool):
            raise ResolverError(
                f"round_limit must be None or an int >= 0, got {round_limit!r} "
                f"({type(round_limit).__name__}); there is no unbounded setting, pass a "
                f"large int (default {DEFAULT_ROUND_LIMIT})"
            )
        if round_limit < 0:
            raise ResolverError(f"round_limit must be None or an int >= 0, got {round_limit!r}")
        if not isinstance(shuffle_batches, (bool, np.bool_)):
            raise ResolverError(f"shuffle_batches must be True or False, got {shuffle_batches!r}")
        if on_round_limit not in ROUND_LIMIT_ACTIONS:
            raise ResolverError(
                f"on_round_limit must be one of {list(ROUND_LIMIT_ACTIONS)}, got "
                f"{on_round_limit!r}: 'raise' (default) stops the step with an error, "
                "'drop' drops the messages still pending and counts them"
            )
        self.round_limit = int(round_limit)
        self.shuffle_batches = bool(shuffle_batches)
        self.on_round_limit = on_round_limit
        self.dropped_messages: dict[str, int] = {}
        self.last_dropped = 0
        if not isinstance(enable_tracking, (bool, np.bool_)):
            raise ResolverError(f"enable_tracking must be True or False, got {enable_tracking!r}")
        self.enable_tracking = bool(enable_tracking)
        #: With ``enable_tracking``, every message delivered, in delivery order (Phantom's
        #: tracking; :meth:`clear_tracked_messages` empties it).
        self.tracked_messages: list[Message] = []

    def clear_tracked_messages(self) -> None:
        """Forget the tracked messages."""
        self.tracked_messages = []

    def resolve(
        self,
        network: Network,
        pending: dict[AgentID, list[Message]],
        contexts: dict[AgentID, Context],
        rng: np.random.Generator,
    ) -> None:
        deliver = self._handle  # each round is logged whole below
        send = network.queue
        agents = network._agents
        round_limit = self.round_limit
        rounds = 0
        self.last_dropped = 0
        while pending:
            if rounds >= round_limit:
                self._on_round_limit(pending)
                return
            rounds += 1
            batches = pending
            pending = {}
            if network.message_log is not None:
                for batch in batches.values():
                    network.message_log.extend(batch)
            if self.enable_tracking:
                for batch in batches.values():
                    self.tracked_messages.extend(batch)
            for receiver_id, batch in batches.items():
                if self.shuffle_batches and len(batch) > 1:
                    order = rng.permutation(len(batch))
                    batch = [batch[i] for i in order]
                agent = agents[receiver_id]
                if not agent._pz_fast:
                    deliver(network, receiver_id, batch, contexts, pending)
                    continue
                # Inlined fast path of Resolver.deliver: the hot loop of every step.
                ctx = contexts[receiver_id]
                handlers = agent._pz_handlers
                for message in batch:
                    handler = handlers.get(message[2].__class__)
                    if handler is None:
                        handler = agent.find_handler(message[2].__class__)
                    replies = handler(agent, ctx, message)
                    if replies:
                        send(receiver_id, replies, pending)

    def _on_round_limit(self, pending: dict[AgentID, list[Message]]) -> None:
        """Called when messages are still pending after ``round_limit`` rounds: raises,
        or (``on_round_limit="drop"``) drops and counts them."""
        if self.on_round_limit == "raise":
            raise ResolverError(round_limit_message(self.round_limit, pending))
        dropped = self.dropped_messages
        for batch in pending.values():
            self.last_dropped += len(batch)
            for message in batch:
                name = type(message[2]).__name__
                dropped[name] = dropped.get(name, 0) + 1


def round_limit_message(round_limit: int, pending: dict[AgentID, list[Message]]) -> str:
    """Say which agents are still exchanging messages after ``round_limit`` rounds."""
    left = [m for batch in pending.values() for m in batch]
    pairs = list(dict.fromkeys((m[0], m[1]) for m in left))
    shown = ", ".join(f"{s!r} -> {r!r}" for s, r in pairs[:5])
    more = f" and {len(pairs) - 5} more pairs" if len(pairs) > 5 else ""
    kinds = sorted({type(m[2]).__name__ for m in left})
    return (
        f"messages still pending after round_limit={round_limit} rounds ({len(left)} left, "
        f"payloads {kinds}) between {shown}{more}: these agents keep replying to each "
        "other. Stop the reply loop in their handlers, or if the protocol really needs "
        "more rounds pass ph.Network(..., resolver=ph.resolvers.BatchResolver("
        f"round_limit={max(2 * round_limit, DEFAULT_ROUND_LIMIT)})); to bound processing "
        "instead (Phantom's behaviour), pass on_round_limit='drop' to drop and count them"
    )
