"""``ph.diff(a, b)``: how two episodes differ (a replay, a branch, another seed).

:func:`diff` compares two :class:`~.trajectories.Rollout` s step by step and returns a
:class:`RolloutDiff`: the first step at which they differ, each agent's return in both
and the difference, and the messages added and removed per step and edge (when both
rollouts recorded messages, ``ph.rollout(record_messages=True)``). ``str(diff)`` is a
readable summary, :meth:`RolloutDiff.to_dataframe` one row per (step, agent).

:func:`first_difference` finds the first step, agent and field that differ; ``ph.replay``
uses it to name them in its :class:`~phantomzoo.errors.ReplayMismatchError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..types import AgentID
from .trajectories import Rollout, Step, plain, same_values

__all__ = ["Difference", "MessageChange", "RolloutDiff", "diff", "first_difference"]

#: The per-agent fields of a step, in the order they are compared.
AGENT_FIELDS = ("observations", "actions", "rewards", "terminations", "truncations", "infos")

#: Edges and agents listed by ``str()`` before "... and N more".
SHOWN = 8


@dataclass(frozen=True)
class Difference:
    """The first thing two episodes disagree on.

    Attributes:
        step: Index of the step (for a length difference: the first step one lacks).
        agent_id: The agent whose part differs (``None``: not one agent's).
        field: ``"observations"``, ``"actions"``, ``"rewards"``, ..., ``"messages"``,
            ``"stage"``, ``"length"`` or ``"metric NAME"``.
        a / b: The two values (``None`` where one side has none).
    """

    step: int
    agent_id: AgentID | None
    field: str
    a: Any = None
    b: Any = None

    def describe(self, a_name: str = "a", b_name: str = "b") -> str:
        """``"step 3, agent 'SHOP1': rewards a=1.5, b=2.0"`` in words."""
        who = f", agent {self.agent_id!r}" if self.agent_id is not None else ""
        return (
            f"step {self.step}{who}: {self.field} {a_name}={_short(self.a)}, "
            f"{b_name}={_short(self.b)}"
        )


@dataclass(frozen=True)
class MessageChange:
    """Messages of one step and edge present in one episode only.

    Attributes:
        step: The step.
        sender_id / receiver_id: The edge.
        added: Payloads delivered in ``b`` but not in ``a`` (repeats kept).
        removed: Payloads delivered in ``a`` but not in ``b``.
    """

    step: int
    sender_id: AgentID
    receiver_id: AgentID
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()


@dataclass
class RolloutDiff:
    """How rollout ``b`` differs from rollout ``a`` (see the module docs).

    Attributes:
        first_divergent_step: First step index at which they differ (``None``: equal).
        first_difference: What differs there (``None``: equal).
        num_steps: ``(steps of a, steps of b)``.
        returns_a / returns_b: Each agent's undiscounted return in ``a`` and ``b``.
        messages_compared: Whether both recorded their messages.
        message_changes: Messages added/removed, per step and edge, in step order.
    """

    first_divergent_step: int | None
    first_difference: Difference | None
    num_steps: tuple[int, int]
    returns_a: dict[AgentID, float]
    returns_b: dict[AgentID, float]
    messages_compared: bool
    message_changes: list[MessageChange] = field(default_factory=list)
    _rows: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def equal(self) -> bool:
        """Whether the two episodes are the same."""
        return self.first_divergent_step is None

    @property
    def return_differences(self) -> dict[AgentID, float]:
        """``{agent: return in b - return in a}`` (0.0 for an agent rewarded in neither)."""
        agents = dict.fromkeys([*self.returns_a, *self.returns_b])
        return {a: self.returns_b.get(a, 0.0) - self.returns_a.get(a, 0.0) for a in agents}

    @property
    def messages_added(self) -> dict[tuple[int, AgentID, AgentID], int]:
        """``{(step, sender, receiver): messages in b only}``."""
        return {
            (c.step, c.sender_id, c.receiver_id): len(c.added)
            for c in self.message_changes
            if c.added
        }

    @property
    def messages_removed(self) -> dict[tuple[int, AgentID, AgentID], int]:
        """``{(step, sender, receiver): messages in a only}``."""
        return {
            (c.step, c.sender_id, c.receiver_id): len(c.removed)
            for c in self.message_changes
            if c.removed
        }

    def __str__(self) -> str:
        lines = [self._headline()]
        if self.first_difference is not None:
            lines.append(f"  first difference: {self.first_difference.describe()}")
        lines.extend(self._returns_lines())
        lines.extend(self._message_lines())
        return "\n".join(lines)

    def _headline(self) -> str:
        a, b = self.num_steps
        if self.first_divergent_step is None:
            return f"The two episodes are identical ({a} steps)."
        return (
            f"The episodes diverge at step {self.first_divergent_step} "
            f"(a: {a} steps, b: {b} steps)."
        )

    def _returns_lines(self) -> list[str]:
        changed = {k: v for k, v in self.return_differences.items() if v != 0.0}
        if not changed:
            return ["  returns: the same for every agent"]
        lines = ["  return differences (b - a):"]
        ranked = sorted(changed.items(), key=lambda kv: -abs(kv[1]))
        for agent_id, delta in ranked[:SHOWN]:
            a, b = self.returns_a.get(agent_id, 0.0), self.returns_b.get(agent_id, 0.0)
            lines.append(f"    {agent_id}: {delta:+.4g} ({a:.4g} -> {b:.4g})")
        if len(ranked) > SHOWN:
            lines.append(f"    ... and {len(ranked) - SHOWN} more agent(s)")
        return lines

    def _message_lines(self) -> list[str]:
        if not self.messages_compared:
            return ["  messages: not compared (record them with ph.rollout(record_messages=True))"]
        if not self.message_changes:
            return ["  messages: the same in every step"]
        added = sum(len(c.added) for c in self.message_changes)
        removed = sum(len(c.removed) for c in self.message_changes)
        steps = len({c.step for c in self.message_changes})
        lines = [f"  messages: +{added} / -{removed} over {steps} step(s); by edge:"]
        edges: Counter[tuple[Any, Any]] = Counter()
        gone: Counter[tuple[Any, Any]] = Counter()
        for c in self.message_changes:
            edges[(c.sender_id, c.receiver_id)] += len(c.added)
            gone[(c.sender_id, c.receiver_id)] += len(c.removed)
        ranked = sorted(set(edges) | set(gone), key=lambda e: -(edges[e] + gone[e]))
        for edge in ranked[:SHOWN]:
            lines.append(f"    {edge[0]} -> {edge[1]}: +{edges[edge]} / -{gone[edge]}")
        if len(ranked) > SHOWN:
            lines.append(f"    ... and {len(ranked) - SHOWN} more edge(s)")
        return lines

    def records(self) -> list[dict[str, Any]]:
        """One row per (step, agent) present in either episode (see :meth:`to_dataframe`)."""
        return [dict(row) for row in self._rows]

    def to_dataframe(self) -> Any:
        """One row per (step, agent): ``step``, ``agent_id``, ``reward_a``, ``reward_b``,
        ``reward_diff``, ``action_a``, ``action_b``, ``action_changed``,
        ``observation_changed``, ``messages_sent_added`` / ``_removed`` and
        ``messages_received_added`` / ``_removed`` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ConfigError(
                "to_dataframe needs pandas: pip install 'phantomzoo[plots]'"
            ) from None
        return pd.DataFrame(self.records())


def diff(a: Rollout, b: Rollout) -> RolloutDiff:
    """How rollout ``b`` differs from rollout ``a``, step by step.

    Raises:
        ConfigError: when ``a`` or ``b`` is not a Rollout.
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, Rollout):
            raise ConfigError(
                f"ph.diff compares two ph.Rollout objects; {name} is {type(value).__name__}"
            )
    first = first_difference(a, b)
    compared = _recorded_messages(a.steps) and _recorded_messages(b.steps)
    changes = _message_changes(a.steps, b.steps) if compared else []
    return RolloutDiff(
        first.step if first is not None else None,
        first,
        (len(a.steps), len(b.steps)),
        _returns(a.steps),
        _returns(b.steps),
        compared,
        changes,
        _rows(a.steps, b.steps, changes),
    )


def first_difference(a: Rollout, b: Rollout, metrics: bool = True) -> Difference | None:
    """The first step, agent and field at which ``a`` and ``b`` differ (``None``: equal).

    Steps are compared field by field (:data:`AGENT_FIELDS`, then messages and stage),
    then the lengths, then (``metrics``) the per-step metric values they share.
    """
    for sa, sb in zip(a.steps, b.steps):
        found = _step_difference(sa, sb)
        if found is not None:
            return found
    if len(a.steps) != len(b.steps):
        return Difference(
            min(len(a.steps), len(b.steps)), None, "length", len(a.steps), len(b.steps)
        )
    if metrics:
        for name in dict.fromkeys([*a.metrics, *b.metrics]):
            found = _metric_difference(name, a.metrics.get(name), b.metrics.get(name))
            if found is not None:
                return found
    return None


def _step_difference(a: Step, b: Step) -> Difference | None:
    for name in AGENT_FIELDS:
        da, db = getattr(a, name), getattr(b, name)
        if same_values(da, db):
            continue
        for agent_id in dict.fromkeys([*da, *db]):
            va, vb = da.get(agent_id), db.get(agent_id)
            if (agent_id in da) != (agent_id in db) or not same_values(va, vb):
                return Difference(a.i, agent_id, name, va, vb)
    if not same_values(a.messages, b.messages):
        ma, mb = list(a.messages or ()), list(b.messages or ())
        for n in range(max(len(ma), len(mb))):
            va = ma[n] if n < len(ma) else None
            vb = mb[n] if n < len(mb) else None
            if not same_values(va, vb):
                sender = (va if va is not None else vb)[0]
                return Difference(a.i, sender, "messages", va, vb)
        return Difference(a.i, None, "messages", a.messages, b.messages)
    if not same_values(a.stage, b.stage):
        return Difference(a.i, None, "stage", a.stage, b.stage)
    return None


def _metric_difference(name: str, a: Any, b: Any) -> Difference | None:
    if a is None or b is None:
        return Difference(0, None, f"metric {name}", a, b)
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    for i in range(max(len(va), len(vb))):
        x = float(va[i]) if i < len(va) else None
        y = float(vb[i]) if i < len(vb) else None
        if not same_values(x, y):
            return Difference(i, None, f"metric {name}", x, y)
    return None


def _returns(steps: Sequence[Step]) -> dict[AgentID, float]:
    totals: dict[AgentID, float] = {}
    for s in steps:
        for agent_id, reward in s.rewards.items():
            totals[agent_id] = totals.get(agent_id, 0.0) + float(reward)
    return totals


def _recorded_messages(steps: Sequence[Step]) -> bool:
    return all(s.messages is not None for s in steps)


def _key(message: Any) -> Any:
    """A hashable stand-in for a message (payloads holding arrays are not hashable)."""
    try:
        hash(message)
        return message
    except TypeError:
        return (message[0], message[1], repr(message[2]))


def _message_changes(a: Sequence[Step], b: Sequence[Step]) -> list[MessageChange]:
    out: list[MessageChange] = []
    for i in range(max(len(a), len(b))):
        ma = a[i].messages if i < len(a) else []
        mb = b[i].messages if i < len(b) else []
        ca = Counter(_key(m) for m in ma or ())
        cb = Counter(_key(m) for m in mb or ())
        if ca == cb:
            continue
        edges: dict[tuple[Any, Any], tuple[list[Any], list[Any]]] = {}
        for message, count in (cb - ca).items():
            edges.setdefault((message[0], message[1]), ([], []))[0].extend([message[2]] * count)
        for message, count in (ca - cb).items():
            edges.setdefault((message[0], message[1]), ([], []))[1].extend([message[2]] * count)
        for (sender, receiver), (added, removed) in edges.items():
            out.append(MessageChange(i, sender, receiver, tuple(added), tuple(removed)))
    return out


def _rows(a: Sequence[Step], b: Sequence[Step], changes: list[MessageChange]) -> list[dict]:
    sent: Counter[tuple[int, Any, str]] = Counter()
    for c in changes:
        sent[(c.step, c.sender_id, "sent_added")] += len(c.added)
        sent[(c.step, c.sender_id, "sent_removed")] += len(c.removed)
        sent[(c.step, c.receiver_id, "received_added")] += len(c.added)
        sent[(c.step, c.receiver_id, "received_removed")] += len(c.removed)
    rows = []
    empty = Step(0, {}, {}, {}, {}, {}, {})
    for i in range(max(len(a), len(b))):
        sa = a[i] if i < len(a) else empty
        sb = b[i] if i < len(b) else empty
        agents = dict.fromkeys([*sa.actions, *sa.rewards, *sb.actions, *sb.rewards])
        for agent_id in agents:
            ra, rb = sa.rewards.get(agent_id), sb.rewards.get(agent_id)
            xa, xb = sa.actions.get(agent_id), sb.actions.get(agent_id)
            row = {
                "step": i,
                "agent_id": agent_id,
                "reward_a": ra,
                "reward_b": rb,
                "reward_diff": (rb or 0.0) - (ra or 0.0),
                "action_a": plain(xa),
                "action_b": plain(xb),
                "action_changed": not same_values(xa, xb),
                "observation_changed": not same_values(
                    sa.observations.get(agent_id), sb.observations.get(agent_id)
                ),
            }
            for kind in ("sent_added", "sent_removed", "received_added", "received_removed"):
                row[f"messages_{kind}"] = sent[(i, agent_id, kind)]
            rows.append(row)
    return rows


def _short(value: Any, limit: int = 80) -> str:
    text = repr(plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."
