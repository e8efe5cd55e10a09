"""The checks of :func:`phantomzoo.testing.lint`: a model's declarations against what its
lint episodes showed.

Each check reads the :class:`~phantomzoo.experiments.lint_facts.ModelFacts` (the agents,
their handler registrations, the payload classes of the model with their
``@msg_payload`` sender/receiver restrictions, every edge that may exist, the FSM
stages) and the :class:`~phantomzoo.experiments.lint_play.Observed` episodes, and returns
:class:`~phantomzoo.experiments.lint_findings.Finding` objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..agents import Agent, StrategicAgent
from ..types import AgentID
from .lint_facts import ModelFacts, allowed, custom_dispatch, declared_handlers, handles, spec_names
from .lint_findings import Finding, finding
from .lint_play import Observed, is_stochastic, when


# ------------------------------------------------------------------ checks
def unhandled_payloads(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Payloads whose declared receivers (connected to a permitted sender) have no handler,
    and messages the episodes delivered to an agent without a handler."""
    out = []
    covered: set[tuple[type, type]] = set()
    for payload in facts.payloads:
        receivers = payload._receiver_types
        if receivers is None:
            continue
        lacking = [
            i
            for i, agent in facts.agents.items()
            if allowed(agent, receivers)
            and not handles(type(agent), payload)
            and any(allowed(facts.agents[n], payload._sender_types) for n in facts.neighbours(i))
        ]
        if not lacking:
            continue
        classes = list(dict.fromkeys(type(facts.agents[i]).__name__ for i in lacking))
        covered.update((payload, type(facts.agents[i])) for i in lacking)
        out.append(
            finding(
                "unhandled-payload",
                f"{payload.__name__} declares receiver_type {spec_names(receivers)}, and "
                f"{', '.join(classes)} agents connected to agents that may send it have no "
                f"handler for it: add a method decorated with "
                f"@ph.msg_handler({payload.__name__}) to {classes[0]}, or narrow "
                f"@msg_payload(receiver_type=...) to the classes that handle it",
                agents=lacking,
                classes=classes,
                payloads=[payload.__name__],
            )
        )
    out.extend(_delivered_unhandled(facts, observed, covered))
    return out


def _delivered_unhandled(
    facts: ModelFacts, observed: Observed, covered: set[tuple[type, type]]
) -> list[Finding]:
    """Episodes that failed on a message delivered to an agent without its handler (the
    failures are consumed: they are not reported again as episode errors)."""
    out, kept = [], []
    for failure in observed.failures:
        culprit = next(
            (
                m
                for m in reversed(failure.tail)
                if not handles(type(facts.agents[m.receiver_id]), type(m.payload))
            ),
            None,
        )
        if culprit is None:
            kept.append(failure)
            continue
        payload, cls = type(culprit.payload), type(facts.agents[culprit.receiver_id])
        if (payload, cls) in covered:
            continue
        covered.add((payload, cls))
        out.append(
            finding(
                "unhandled-payload",
                f"agent {culprit.sender_id!r} sent a {payload.__name__} to "
                f"{culprit.receiver_id!r} ({cls.__name__}), which has no handler for it "
                f"({when(failure.seed, failure.step)}): add a method decorated "
                f"with @ph.msg_handler({payload.__name__}) to {cls.__name__}, or stop "
                f"sending it there",
                agents=[culprit.sender_id, culprit.receiver_id],
                classes=[type(facts.agents[culprit.sender_id]).__name__, cls.__name__],
                payloads=[payload.__name__],
            )
        )
    observed.failures[:] = kept
    return out


def unsendable_handlers(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Handlers of payloads that no agent connected to the handling class may send it."""
    out = []
    for cls in facts.classes:
        ids = facts.instances(cls)
        for payload, method in declared_handlers(cls).items():
            if any(payload in observed.payloads_received.get(i, ()) for i in ids):
                continue  # it did arrive
            reason = _why_unsendable(facts, ids, payload)
            if reason is None:
                continue
            out.append(
                finding(
                    "unsendable-handler",
                    f"{cls.__name__}.{method} handles {payload.__name__}, but {reason}: "
                    f"connect a sender, widen @msg_payload(sender_type=/receiver_type=) of "
                    f"{payload.__name__}, or remove the handler",
                    agents=ids,
                    classes=[cls.__name__],
                    payloads=[payload.__name__],
                )
            )
    return out


def _why_unsendable(facts: ModelFacts, ids: list[AgentID], payload: type) -> str | None:
    """Why no agent may send ``payload`` to any of ``ids`` (``None`` if some may)."""
    receivers, senders = payload._receiver_types, payload._sender_types
    if not any(allowed(facts.agents[i], receivers) for i in ids):
        return f"the class is not among its declared receivers ({spec_names(receivers)})"
    if not any(facts.neighbours(i) for i in ids):
        return "no agent is connected to any of them"
    for i in ids:
        if allowed(facts.agents[i], receivers) and any(
            allowed(facts.agents[n], senders) for n in facts.neighbours(i)
        ):
            return None
    kinds = sorted({type(facts.agents[n]).__name__ for i in ids for n in facts.neighbours(i)})
    return (
        f"none of their neighbours ({', '.join(kinds)}) may send it (sender_type "
        f"{spec_names(senders or ())})"
    )


def isolated_strategic(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Strategic agents with no edges in a network where other agents are connected."""
    if facts.everyone_connected or not any(facts.edges.values()):
        return []  # a model without edges (agents that never talk) is not miswired
    alone = [
        i for i, a in facts.agents.items() if isinstance(a, StrategicAgent) and not facts.edges[i]
    ]
    if not alone:
        return []
    return [
        finding(
            "isolated-strategic-agent",
            f"{len(alone)} strategic agent(s) have no edge in any of {observed.episodes} "
            "episode(s), so they can neither send nor receive messages nor read any view: "
            "connect them with network.add_connection(...) (for a StochasticNetwork, check "
            "their rates), or ignore this code if they really play alone",
            agents=alone,
            classes=[type(facts.agents[i]).__name__ for i in alone],
        )
    ]


def unreached_agents(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Agents with handlers that no message reached during the episodes.

    An agent whose edges are drawn at random may miss every message by chance in a few
    episodes; it is reported only when no agent of its class was reached either.
    """
    if observed.steps == 0:
        return []  # nothing was played: no evidence either way
    reached = {type(facts.agents[i]) for i, n in observed.received.items() if n}
    idle = [
        i
        for i, a in facts.agents.items()
        if observed.received[i] == 0
        and (declared_handlers(type(a)) or custom_dispatch(type(a)))
        and (type(a) not in reached or not is_stochastic(observed, i))
    ]
    if not idle:
        return []
    handled = [p.__name__ for i in idle for p in declared_handlers(type(facts.agents[i]))]
    return [
        finding(
            "unreached-agent",
            f"{len(idle)} agent(s) with message handlers received no message in "
            f"{observed.episodes} random-action episode(s) ({observed.steps} steps): check "
            "that an agent connected to them sends what they handle, or remove the dead "
            "handlers",
            agents=idle,
            classes=[type(facts.agents[i]).__name__ for i in idle],
            payloads=handled,
        )
    ]


def _reachable_stages(engine: Any) -> list[Any]:
    stages, start = engine.stages, engine.initial_stage
    reached, frontier = {start}, [start]
    while frontier:
        for next_id in stages[frontier.pop()].next_stages:
            if next_id not in reached:
                reached.add(next_id)
                frontier.append(next_id)
    return [i for i in stages if i in reached]


def unreachable_stages(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """FSM stages no path of ``next_stages`` leads to from the initial stage."""
    engine = facts.env.engine
    if not engine.staged:
        return []
    reachable = set(_reachable_stages(engine))
    dead = [i for i in engine.stages if i not in reachable]
    if not dead:
        return []
    return [
        finding(
            "unreachable-stage",
            f"stage(s) {dead} cannot be reached from the initial stage "
            f"{engine.initial_stage!r}: add them to the next_stages of a reachable stage, "
            "or remove them",
            stages=dead,
        )
    ]


def unrewarded_actors(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Reachable stages whose acting agents no reachable stage rewards."""
    engine = facts.env.engine
    if not engine.staged:
        return []
    reachable = _reachable_stages(engine)
    rewarded = {i for s in reachable for i in engine.stages[s].rewarded_agents}
    out = []
    for stage_id in reachable:
        never = [i for i in engine.stages[stage_id].acting_agents if i not in rewarded]
        if never:
            out.append(
                finding(
                    "unrewarded-actor",
                    f"stage {stage_id!r}: acting agent(s) {never[:5]} are rewarded by no "
                    "reachable stage, so their policies get no reward to learn from: list "
                    "them in rewarded_agents=[...] of this or a later stage",
                    agents=never,
                    classes=[type(facts.agents[i]).__name__ for i in never],
                    stages=[stage_id],
                )
            )
    return out


def unreadable_views(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Agents that define a view but have no neighbour to read it."""
    if facts.everyone_connected:
        return []
    lonely = [
        i
        for i, a in facts.agents.items()
        if type(a).view is not Agent.view and not facts.edges.get(i)
    ]
    if not lonely:
        return []
    return [
        finding(
            "unreadable-view",
            f"{len(lonely)} agent(s) define view() but have no neighbour in any of "
            f"{observed.episodes} episode(s), so nobody can read it (views are read only "
            "by neighbours): connect them to the agents meant to see it, or drop the view",
            agents=lonely,
            classes=[type(facts.agents[i]).__name__ for i in lonely],
        )
    ]


def bounces(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Steps whose messages were still bouncing at the resolver's round limit."""
    if not observed.bounces:
        return []
    first = observed.bounces[0]
    agents = [a for b in observed.bounces for pair in b.pairs for a in pair]
    pairs = ", ".join(f"{s!r} -> {r!r}" for s, r in first.pairs[:5])
    limit = getattr(facts.env.network.resolver, "round_limit", "its")
    return [
        finding(
            "message-bounce",
            f"messages bounced until the resolver's round limit ({limit} rounds) in "
            f"{len(observed.bounces)} step(s) of {observed.episodes} episode(s) (first: "
            f"{when(first.seed, first.step)}, between {pairs}): stop the reply loop in "
            "these agents' handlers (reply only when something changed), or raise "
            "BatchResolver(round_limit=...) if the protocol really needs more rounds",
            agents=agents,
            classes=[type(facts.agents[a]).__name__ for a in agents if a in facts.agents],
            payloads=[p for b in observed.bounces for p in b.payloads],
        )
    ]


def episode_errors(facts: ModelFacts, observed: Observed) -> list[Finding]:
    """Episodes that raised (one finding per distinct error)."""
    out, seen = [], set()
    for failure in observed.failures:
        error = failure.error
        key = (type(error), str(error))
        if key in seen:
            continue
        seen.add(key)
        tail = failure.tail
        out.append(
            finding(
                "episode-error",
                f"a random-action episode raised {type(error).__name__} "
                f"({when(failure.seed, failure.step)}): {error}; fix the model "
                f"(reproduce with ph.testing.lint(env_fn, seed={failure.seed}, episodes=1))",
                agents=[a for m in tail[-3:] for a in (m.sender_id, m.receiver_id)],
                payloads=[type(m.payload).__name__ for m in tail[-3:]],
            )
        )
    return out


Check = Callable[[ModelFacts, Observed], list[Finding]]

#: Every check, in order (``unhandled_payloads`` first: it claims the failures it explains).
CHECKS: tuple[Check, ...] = (
    unhandled_payloads,
    bounces,
    unrewarded_actors,
    unsendable_handlers,
    isolated_strategic,
    unreached_agents,
    unreachable_stages,
    unreadable_views,
    episode_errors,
)
