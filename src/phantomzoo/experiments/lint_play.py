"""The seeded random-action episodes behind :func:`phantomzoo.testing.lint`.

A model's declarations say who *may* talk to whom; a few episodes with random legal
actions show who *does*. :func:`play` runs them on one env, recording through
``network.message_log`` every message delivered, the edges each reset drew (a stochastic
network re-draws them), the steps in which messages bounced until the resolver's round
limit, and any exception a step raised (which ends that episode; the next seed is
played). Actions come from :func:`~phantomzoo.engine.masks.sample_legal` with each
action space seeded from the episode's seed, so a lint run is reproducible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..engine.masks import sample_legal
from ..errors import ResolverError
from ..message import Message
from ..types import AgentID

#: How many of a failing step's last messages are searched for the agents involved.
TAIL = 20


@dataclass
class Bounce:
    """A step in which messages were still pending after the resolver's round limit.

    Attributes:
        seed: The episode's seed.
        step: Which step: ``1`` for the episode's first ``acting_step``, ``0`` for the
            stages ``reset`` plays.
        payloads: Names of the payload classes still bouncing.
        pairs: ``(sender, receiver)`` pairs of the step's last messages of those classes.
        dropped: Messages the resolver dropped (``0`` when it raised instead).
        detail: The resolver's error message when it raised.
    """

    seed: int
    step: int
    payloads: tuple[str, ...]
    pairs: tuple[tuple[AgentID, AgentID], ...]
    dropped: int = 0
    detail: str = ""


@dataclass
class Failure:
    """A step that raised: the episode stopped there.

    Attributes:
        seed: The episode's seed.
        step: Which step (``1`` for the first ``acting_step``, ``0`` for ``reset``).
        error: The exception.
        tail: The last messages delivered before it (the culprit is usually among them).
    """

    seed: int
    step: int
    error: BaseException
    tail: tuple[Message, ...]


@dataclass
class Observed:
    """What the lint episodes showed.

    Attributes:
        edges: ``{agent_id: neighbours}``, the union over the network before any reset
            and after every reset (every edge that may exist).
        steady: ``{agent_id: neighbours}`` it had after every reset (the intersection;
            smaller than ``edges`` for an agent whose edges are drawn at random).
        received: Messages delivered to each agent.
        payloads_received: ``{agent_id: payload classes it received}``.
        episodes: Episodes started.
        steps: Steps played in all (``acting_step`` calls that returned).
        bounces: Steps whose messages bounced until the round limit.
        failures: Steps that raised something else.
    """

    edges: dict[AgentID, set[AgentID]]
    steady: dict[AgentID, set[AgentID]] | None = None
    received: Counter[AgentID] = field(default_factory=Counter)
    payloads_received: dict[AgentID, set[type]] = field(default_factory=dict)
    episodes: int = 0
    steps: int = 0
    bounces: list[Bounce] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


def snapshot_edges(network: Any, seen: Observed, reset: bool = True) -> None:
    """Add the network's current edges to ``seen.edges`` (and, after a ``reset``,
    narrow ``seen.steady`` to them)."""
    now = {i: set(network.adjacency(i)) for i in network.agent_ids}
    for agent_id, adjacent in now.items():
        seen.edges.setdefault(agent_id, set()).update(adjacent)
    if reset:
        steady = seen.steady
        seen.steady = now if steady is None else {i: steady[i] & now[i] for i in steady}


def is_stochastic(seen: Observed, agent_id: AgentID) -> bool:
    """Whether some edge of ``agent_id`` that may exist was missing after a reset."""
    steady = seen.steady
    return steady is not None and steady.get(agent_id, set()) != seen.edges.get(agent_id, set())


def play(env: Any, episodes: int, seed: int, max_steps: int) -> Observed:
    """Play ``episodes`` random-action episodes (seeds ``seed, seed + 1, ...``), each at
    most ``max_steps`` steps, on ``env`` and return what they showed."""
    network = env.network
    observed = Observed(edges={})
    snapshot_edges(network, observed, reset=False)
    previous_log = network.message_log
    log: list[Message] = []  # our own list: a telemetry reads alongside it, never clears it
    network.message_log = log
    try:
        for episode in range(episodes):
            _play_one(env, seed + episode, max_steps, log, observed)
    finally:
        network.message_log = previous_log
    return observed


def _play_one(env: Any, seed: int, max_steps: int, log: list[Message], seen: Observed) -> None:
    """One episode; a step that raises is recorded and ends the episode."""
    rng = np.random.default_rng(seed)
    seen.episodes += 1
    step = 0
    start = len(log)
    dropped = _dropped(env.network.resolver)
    try:
        env.acting_reset(seed=seed)
        snapshot_edges(env.network, seen)
        start, dropped = _after_step(env, seed, step, log, start, dropped, seen)
        for step in range(1, max_steps + 1):
            acting = env.acting_agents
            if not acting:
                return
            env.acting_step(_random_actions(env, acting, rng))
            seen.steps += 1
            start, dropped = _after_step(env, seed, step, log, start, dropped, seen)
    except Exception as exc:  # noqa: BLE001 -- the model's failure is a lint finding
        tail = tuple(log[max(start, len(log) - TAIL) :])
        _count(log, start, seen)
        if isinstance(exc, ResolverError):
            seen.bounces.append(_bounce(seed, step, tail, detail=str(exc)))
        else:
            seen.failures.append(Failure(seed, step, exc, tail))


def when(seed: int, step: int) -> str:
    """``"episode seed 3, step 2"`` (or ``"episode seed 3, during reset"``)."""
    return f"episode seed {seed}, " + (f"step {step}" if step else "during reset")


def _random_actions(env: Any, acting: list[AgentID], rng: np.random.Generator) -> dict[Any, Any]:
    actions = {}
    for agent_id in acting:
        space = env.action_space(agent_id)
        space.seed(int(rng.integers(2**31)))
        actions[agent_id] = sample_legal(env, agent_id, space)
    return actions


def _after_step(
    env: Any,
    seed: int,
    step: int,
    log: list[Message],
    start: int,
    dropped: int,
    seen: Observed,
) -> tuple[int, int]:
    """Count the step's messages and note drops at the round limit; the new marks."""
    now = _dropped(env.network.resolver)
    if now > dropped:
        tail = tuple(log[max(start, len(log) - TAIL) :])
        seen.bounces.append(_bounce(seed, step, tail, now - dropped))
    _count(log, start, seen)
    return len(log), now


def _count(log: list[Message], start: int, seen: Observed) -> None:
    for message in log[start:]:
        receiver = message.receiver_id
        seen.received[receiver] += 1
        seen.payloads_received.setdefault(receiver, set()).add(type(message.payload))


def _dropped(resolver: Any) -> int:
    """Messages a resolver has dropped at its round limit so far (0 if it does not say)."""
    counts = getattr(resolver, "dropped_messages", None)
    return sum(counts.values()) if isinstance(counts, dict) else 0


def _bounce(
    seed: int, step: int, tail: tuple[Message, ...], dropped: int = 0, detail: str = ""
) -> Bounce:
    payloads = tuple(sorted({type(m.payload).__name__ for m in tail}))
    pairs = tuple(dict.fromkeys((m.sender_id, m.receiver_id) for m in tail))
    return Bounce(seed, step, payloads, pairs, dropped, detail)
