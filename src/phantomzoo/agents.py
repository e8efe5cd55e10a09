"""Agents: the nodes of the network.

:class:`Agent` reacts to messages and may send its own each step
(:meth:`Agent.generate_messages`). :class:`StrategicAgent` also observes, acts through a
policy and is rewarded; the environment exposes only strategic agents to trainers.

Message handlers are methods decorated with :func:`msg_handler`::

    class FactoryAgent(ph.Agent):
        @ph.agents.msg_handler(StockRequest)
        def handle_stock_request(self, ctx, message):
            return [(message.sender_id, StockResponse(message.payload.size))]

A handler (and ``generate_messages``, ``decode_action``) returns ``None`` or a list of
``(receiver_id, payload)`` pairs; the network delivers them along existing edges only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import AgentDefinitionError, MessageError, NoHandlerError
from .message import Message, MsgPayload
from .types import AgentID

if TYPE_CHECKING:
    import gymnasium as gym

    from .context import Context
    from .decoders import Decoder
    from .encoders import Encoder
    from .reward_functions import RewardFunction
    from .supertype import Supertype
    from .views import AgentView

Outgoing = Sequence[tuple[AgentID, MsgPayload]]
F = TypeVar("F", bound=Callable[..., Any])


def msg_handler(*payload_types: type[MsgPayload]) -> Callable[[F], F]:
    """Mark a method ``(self, ctx, message)`` as the handler for the given payload classes."""
    if not payload_types:
        raise MessageError("msg_handler needs at least one payload class, e.g. @msg_handler(Bid)")
    for payload_type in payload_types:
        if not (isinstance(payload_type, type) and issubclass(payload_type, MsgPayload)):
            raise MessageError(
                f"msg_handler got {payload_type!r}; pass MsgPayload subclasses "
                "(classes defined with `class X(ph.MsgPayload)` or @ph.msg_payload)"
            )

    def decorate(func: F) -> F:
        existing = getattr(func, "_pz_handles", ())
        func._pz_handles = tuple(existing) + payload_types  # type: ignore[attr-defined]
        return func

    return decorate


def batch_handler(*payload_types: type[MsgPayload]) -> Callable[[F], classmethod]:
    """Mark ``(cls, agents, group, batch)`` as the *batched twin* of the class's
    :func:`msg_handler` for the given payload classes (a class method; opt-in batching,
    :mod:`phantomzoo.engine.batched`).

    With batching on, the engine hands it every message of one of these payload classes
    sent to any agent of the class in one resolver round, as one
    :class:`~phantomzoo.engine.batched_columns.MessageColumns`; it returns ``None``, an
    ``Outbox`` or a list of them (``batch.reply(Payload, field=array)`` answers every
    sender). The per-message handler stays the definition: the class must also have a
    ``@msg_handler`` for each payload class, and ``ph.testing.check_batched`` checks
    that both give the same episode.
    """
    if not payload_types:
        raise MessageError(
            "batch_handler needs at least one payload class, e.g. @batch_handler(OrderRequest)"
        )
    for payload_type in payload_types:
        if not (isinstance(payload_type, type) and issubclass(payload_type, MsgPayload)):
            raise MessageError(
                f"batch_handler got {payload_type!r}; pass MsgPayload subclasses "
                "(classes defined with `class X(ph.MsgPayload)` or @ph.msg_payload)"
            )

    def decorate(func: F) -> classmethod:
        if isinstance(func, (classmethod, staticmethod)):
            func = func.__func__  # type: ignore[assignment]
        existing = getattr(func, "_pz_batch_handles", ())
        func._pz_batch_handles = tuple(existing) + payload_types  # type: ignore[attr-defined]
        return classmethod(func)

    return decorate


class Agent:
    """An entity in the network that handles messages and may send its own.

    Args:
        agent_id: Unique id of the agent in its network (usually a string).
        supertype: Optional :class:`~phantomzoo.Supertype`; the environment samples it
            into ``self.type`` on every reset, before calling :meth:`reset`.
    """

    # Filled per class by __init_subclass__.
    _pz_handlers: dict[type, Callable[..., Any]] = {}
    _pz_batch_handlers: dict[type, Callable[..., Any]] = {}
    _pz_fast: bool = True

    def __init__(self, agent_id: AgentID, supertype: Supertype | None = None) -> None:
        self._id = agent_id
        self.supertype = supertype
        self.type: Supertype | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, Callable[..., Any]] = {}
        owners: dict[type, str] = {}
        for name in dir(cls):
            attr = getattr(cls, name, None)
            for payload_type in getattr(attr, "_pz_handles", ()):
                if payload_type in handlers and owners[payload_type] != name:
                    raise AgentDefinitionError(
                        f"{cls.__name__} has two handlers for {payload_type.__name__}: "
                        f"{owners[payload_type]!r} and {name!r}; keep one"
                    )
                handlers[payload_type] = attr
                owners[payload_type] = name
        cls._pz_handlers = handlers
        cls._pz_batch_handlers = _batch_handlers(cls, handlers)
        # The resolver may dispatch straight to handlers when neither hook is overridden.
        cls._pz_fast = (
            cls.handle_batch is Agent.handle_batch and cls.handle_message is Agent.handle_message
        )

    @property
    def id(self) -> AgentID:
        """The unique id of the agent."""
        try:
            return self._id
        except AttributeError:
            raise AgentDefinitionError(
                f"{type(self).__name__} has no id: its __init__ must call "
                "super().__init__(agent_id)"
            ) from None

    # ----------------------------------------------------------------- messages
    def handle_batch(
        self, ctx: Context, batch: Sequence[Message]
    ) -> list[tuple[AgentID, MsgPayload]]:
        """Handle all messages delivered to this agent in one resolver round.

        The default hands each message to :meth:`handle_message` and collects replies.
        """
        replies: list[tuple[AgentID, MsgPayload]] = []
        for message in batch:
            out = self.handle_message(ctx, message)
            if out:
                replies.extend(out)
        return replies

    def handle_message(self, ctx: Context, message: Message) -> Outgoing | None:
        """Handle one message; the default calls the matching :func:`msg_handler` method."""
        return self.find_handler(type(message.payload))(self, ctx, message)

    @classmethod
    def find_handler(cls, payload_type: type) -> Callable[..., Any]:
        """The handler function for ``payload_type`` (or a base class of it).

        Raises:
            NoHandlerError: (a MessageError) if the agent class has no handler for it.
        """
        handlers = cls._pz_handlers
        handler = handlers.get(payload_type)
        if handler is not None:
            return handler
        for base in payload_type.__mro__[1:]:
            handler = handlers.get(base)
            if handler is not None:
                handlers[payload_type] = handler
                return handler
        known = ", ".join(sorted(t.__name__ for t in handlers)) or "none"
        raise NoHandlerError(
            f"{cls.__name__} received a {payload_type.__name__} but has no handler for it "
            f"(it handles: {known}). Add a method decorated with "
            f"@ph.agents.msg_handler({payload_type.__name__})"
        )

    def generate_messages(self, ctx: Context) -> Outgoing | None:
        """Messages this agent sends at the start of every step (default: none)."""
        return None

    # -------------------------------------------------------------------- hooks
    def pre_message_resolution(self, ctx: Context) -> None:
        """Called every step before messages are resolved."""

    def post_message_resolution(self, ctx: Context) -> None:
        """Called every step after all messages are resolved."""

    def reset(self) -> None:
        """Return the agent to its initial state; ``self.type`` is already sampled."""

    def view(self, neighbour_id: AgentID | None = None) -> AgentView | None:
        """What this agent publishes to neighbour ``neighbour_id`` (default: nothing)."""
        return None

    def __repr__(self) -> str:
        return f"[{type(self).__name__} {getattr(self, '_id', '?')}]"  # Phantom's form


def _batch_handlers(cls: type, handlers: dict[type, Any]) -> dict[type, Callable[..., Any]]:
    """``{payload class: bound batched twin}`` of ``cls`` (see :func:`batch_handler`);
    every twin needs the per-message handler it mirrors."""
    found: dict[type, Callable[..., Any]] = {}
    owners: dict[type, str] = {}
    for name in dir(cls):
        attr = getattr(cls, name, None)
        for payload_type in getattr(attr, "_pz_batch_handles", ()):
            if payload_type in found and owners[payload_type] != name:
                raise AgentDefinitionError(
                    f"{cls.__name__} has two batch handlers for {payload_type.__name__}: "
                    f"{owners[payload_type]!r} and {name!r}; keep one"
                )
            if payload_type not in handlers:
                raise AgentDefinitionError(
                    f"{cls.__name__}.{name} is a batch handler for {payload_type.__name__} but "
                    f"the class has no @msg_handler({payload_type.__name__}); the per-message "
                    "handler is the definition the batched twin must match: add it"
                )
            found[payload_type] = attr
            owners[payload_type] = name
    return found


class StrategicAgent(Agent):
    """An agent that observes, acts through a policy and is rewarded.

    Either set ``observation_space`` / ``action_space`` and override
    :meth:`encode_observation`, :meth:`decode_action` and :meth:`compute_reward`, or pass
    encoder / decoder / reward-function objects; the two styles can be mixed.

    Args:
        agent_id: Unique id of the agent.
        observation_encoder: Provides ``observation_space`` and ``encode(ctx)``.
        action_decoder: Provides ``action_space`` and ``decode(ctx, action)``.
        reward_function: Provides ``reward(ctx)``.
        supertype: Optional supertype sampled into ``self.type`` every reset.
    """

    observation_space: gym.Space[Any] | None = None
    action_space: gym.Space[Any] | None = None

    def __init__(
        self,
        agent_id: AgentID,
        observation_encoder: Encoder | None = None,
        action_decoder: Decoder | None = None,
        reward_function: RewardFunction | None = None,
        supertype: Supertype | None = None,
    ) -> None:
        super().__init__(agent_id, supertype=supertype)
        self.observation_encoder = observation_encoder
        self.action_decoder = action_decoder
        self.reward_function = reward_function
        if observation_encoder is not None:
            self.observation_space = observation_encoder.observation_space
        if action_decoder is not None:
            self.action_space = action_decoder.action_space

    def encode_observation(self, ctx: Context) -> Any:
        """This step's observation (default: the observation encoder's)."""
        if self.observation_encoder is None:
            raise AgentDefinitionError(
                f"{type(self).__name__} {self.id!r} has no observation: override "
                "encode_observation(ctx) or pass observation_encoder=..."
            )
        return self.observation_encoder.encode(ctx)

    def decode_action(self, ctx: Context, action: Any) -> Outgoing | None:
        """Turn the policy's action into messages (default: the action decoder's)."""
        if self.action_decoder is None:
            raise AgentDefinitionError(
                f"{type(self).__name__} {self.id!r} cannot act: override "
                "decode_action(ctx, action) or pass action_decoder=..."
            )
        return self.action_decoder.decode(ctx, action)

    def compute_reward(self, ctx: Context) -> float:
        """This step's reward (default: the reward function's)."""
        if self.reward_function is None:
            raise AgentDefinitionError(
                f"{type(self).__name__} {self.id!r} has no reward: override "
                "compute_reward(ctx) or pass reward_function=..."
            )
        return self.reward_function.reward(ctx)

    def is_terminated(self, ctx: Context) -> bool:
        """Whether the agent reached a terminal state (default: never)."""
        return False

    def is_truncated(self, ctx: Context) -> bool:
        """Whether the agent is cut off for a reason outside the MDP (default: never).

        The environment also truncates every agent when ``num_steps`` is reached.
        """
        return False

    def collect_infos(self, ctx: Context) -> dict[str, Any]:
        """Diagnostic information returned in ``infos`` (default: empty)."""
        return {}

    def action_mask(self, ctx: Context) -> Any:
        """Which actions are legal now: 1 = legal, 0 = illegal (optional hook).

        Override it to mask the agent's actions; only agents whose class overrides it
        are masked. For ``Discrete(n)`` return ``n`` entries (entry ``k`` is action
        ``start + k``); for a 1-D ``MultiDiscrete(nvec)`` one mask per sub-space,
        concatenated (``sum(nvec)`` entries). Leave at least one action legal per
        sub-space. The mask reaches trainers as ``infos[agent]["action_mask"]`` (and
        ``observation["action_mask"]`` for Dict observations); an action it rules out
        raises :class:`~phantomzoo.errors.ActionError`. See
        :mod:`phantomzoo.engine.masks`. The default masks nothing (never called).
        """
        return None
