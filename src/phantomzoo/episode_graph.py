"""Who talked to whom in a recorded episode, as numbers and positions (no drawing).

:func:`build_graph` turns a :class:`~phantomzoo.experiments.trajectories.Rollout`
recorded with ``record_messages=True`` into a :class:`MessageGraph`: agents grouped by
class, the messages carried per (sender, receiver, payload class), and the declared
edges that carried nothing. Large episodes are aggregated to one node per class, so a
picture of 1200 agents stays readable. :func:`positions` places the nodes
deterministically: class groups as circles, or (with networkx installed) as the layers
of a multipartite layout. :mod:`phantomzoo.plots` draws the result.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError, DependencyNotInstalled

#: The layouts :func:`positions` knows; ``"auto"`` is networkx when installed.
LAYOUTS = ("auto", "networkx", "circles")

_TRAILING_NUMBER = re.compile(r"[\d_\-. ]+$")

Node = Hashable
Flow = tuple[Node, Node, str]


@dataclass
class MessageGraph:
    """The message traffic of one episode between nodes (agents, or classes).

    Attributes:
        nodes: Node ids in class order (agent ids, or class names when ``aggregated``).
        groups: ``{node: class name}`` (a class node maps to itself).
        sizes: ``{node: agents it stands for}`` (1 for an agent).
        flows: ``{(sender, receiver, payload class): messages}``.
        quiet: Declared edges (unordered pairs) that carried no message.
        aggregated: Whether nodes are classes.
        steps: Steps in the episode.
    """

    nodes: list[Node]
    groups: dict[Node, str]
    sizes: dict[Node, int]
    flows: dict[Flow, int]
    quiet: set[frozenset[Node]] = field(default_factory=set)
    aggregated: bool = False
    steps: int = 0

    def classes(self) -> list[str]:
        """Class names in drawing order."""
        return list(dict.fromkeys(self.groups[n] for n in self.nodes))

    def payloads(self) -> list[tuple[str, int]]:
        """``(payload class, messages)``, most messages first (ties by name)."""
        totals: Counter[str] = Counter()
        for (_, _, payload), count in self.flows.items():
            totals[payload] += count
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))

    def total_messages(self) -> int:
        """Messages delivered in the episode."""
        return sum(self.flows.values())


def class_of_id(agent_id: Hashable) -> str:
    """A class name guessed from an id: its last ``_`` part without a trailing number
    (``"SHOP1_CUST3"`` -> ``"CUST"``, ``"TRAVEL12"`` -> ``"TRAVEL"``)."""
    text = str(agent_id).rsplit("_", 1)[-1] if "_" in str(agent_id).strip("_") else str(agent_id)
    return _TRAILING_NUMBER.sub("", text) or str(agent_id)


def recorded_messages(rollout: Any, caller: str) -> list[list[Any]]:
    """Each step's delivered messages, or ConfigError when none were recorded."""
    if not rollout.steps:
        raise ConfigError(f"{caller}: the rollout has no steps; play at least one step")
    if all(step.messages is None for step in rollout.steps):
        raise ConfigError(
            f"{caller}: the rollout holds no messages; record them with "
            "ph.rollout(..., record_messages=True)"
        )
    return [list(step.messages or ()) for step in rollout.steps]


def rollout_agents(rollout: Any, messages: Iterable[Iterable[Any]] = ()) -> list[Node]:
    """Every agent the rollout mentions (acting, rewarded, observing, messaging), in order."""
    seen: dict[Node, None] = {}
    for step in rollout.steps:
        for table in (step.actions, step.rewards, step.observations):
            seen.update(dict.fromkeys(table))
    for step_messages in messages:
        for message in step_messages:
            seen.update(dict.fromkeys((message.sender_id, message.receiver_id)))
    return list(seen)


def agent_classes(
    agents: list[Node], env: Any = None, classes: Mapping[Node, str] | None = None
) -> tuple[dict[Node, str], list[tuple[Node, Node]]]:
    """``{agent: class name}`` and the declared directed edges (from ``env``, if given).

    ``classes`` wins, then the classes of ``env``'s network agents, then :func:`class_of_id`.

    Raises:
        ConfigError: ``classes`` misses agents of the episode, or ``env`` is not the
            episode's env (no network, or agents it does not have).
    """
    if classes is not None:
        if not isinstance(classes, Mapping):
            raise ConfigError(
                f"classes must be a mapping {{agent_id: class name}}, got {type(classes).__name__}"
            )
        missing = [a for a in agents if a not in classes]
        if missing:
            raise ConfigError(
                f"classes has no entry for agent(s) {missing[:5]} of the episode; give every "
                "agent a class name (or leave classes out to use env's agent classes)"
            )
    found: dict[Node, str] = {}
    edges: list[tuple[Node, Node]] = []
    if env is not None:
        network = getattr(env, "network", None)
        if network is None or not hasattr(network, "agents"):
            raise ConfigError(
                f"env must be the episode's phantomzoo env (with a .network), got "
                f"{type(env).__name__}"
            )
        unknown = [a for a in agents if a not in network.agents]
        if unknown:
            raise ConfigError(
                f"env has no agent(s) {unknown[:5]} of the episode: pass the env the rollout "
                "was played on (built with the rollout's env_config)"
            )
        found = {a: type(agent).__name__ for a, agent in network.agents.items()}
        neighbours = getattr(network, "neighbours", None)
        if callable(neighbours):
            edges = [(a, b) for a in network.agents for b in neighbours(a)]
    for agent in agents:
        found.setdefault(agent, class_of_id(agent))
    if classes is not None:
        found.update({a: str(c) for a, c in classes.items()})
    return found, edges


def build_graph(
    rollout: Any,
    messages: list[list[Any]],
    groups: Mapping[Node, str],
    declared: Iterable[tuple[Node, Node]] = (),
    aggregate: bool = False,
) -> MessageGraph:
    """The episode's traffic between agents, or between classes when ``aggregate``."""
    agents = list(groups)
    flows: Counter[Flow] = Counter()
    for step_messages in messages:
        for message in step_messages:
            flows[(message.sender_id, message.receiver_id, type(message.payload).__name__)] += 1
    used = {frozenset((s, r)) for s, r, _ in flows}
    quiet = {frozenset(pair) for pair in declared if frozenset(pair) not in used}
    if not aggregate:
        order = _class_order(agents, groups, flows)
        nodes = [a for name in order for a in agents if groups[a] == name]
        return MessageGraph(
            _order_within(nodes, groups, flows),
            dict(groups),
            dict.fromkeys(agents, 1),
            dict(flows),
            {q for q in quiet if len(q) == 2},
            False,
            len(rollout.steps),
        )
    class_flows: Counter[Flow] = Counter()
    for (sender, receiver, payload), count in flows.items():
        class_flows[(groups[sender], groups[receiver], payload)] += count
    class_used = {frozenset((s, r)) for s, r, _ in class_flows}
    class_quiet = {frozenset(groups[a] for a in q) for q in quiet}
    sizes = Counter(groups[a] for a in agents)
    order = _class_order(agents, groups, flows)
    return MessageGraph(
        order,
        {name: name for name in order},
        dict(sizes),
        dict(class_flows),
        {q for q in class_quiet if len(q) == 2 and q not in class_used},
        True,
        len(rollout.steps),
    )


def _class_order(
    agents: list[Node], groups: Mapping[Node, str], flows: Mapping[Flow, int]
) -> list[str]:
    """Classes along the message flow: the smallest, quietest class that messages at all
    first, then greedily the class trading most messages with the last one placed (a
    chain reads left to right); classes that never message come last."""
    sizes = Counter(groups[a] for a in agents)
    first_seen = {name: i for i, name in enumerate(dict.fromkeys(groups[a] for a in agents))}
    between: Counter[frozenset[str]] = Counter()
    volume: Counter[str] = Counter()
    for (sender, receiver, _), count in flows.items():
        a, b = groups[sender], groups[receiver]
        volume[a] += count
        volume[b] += count
        if a != b:
            between[frozenset((a, b))] += count
    remaining = sorted(sizes, key=lambda c: (not volume[c], sizes[c], volume[c], first_seen[c]))
    order = [remaining.pop(0)]
    while remaining:
        last = order[-1]
        best = max(
            remaining,
            key=lambda c: (
                between[frozenset((last, c))],
                sum(between[frozenset((p, c))] for p in order),
                volume[c] > 0,  # silent classes last
                -first_seen[c],
            ),
        )
        remaining.remove(best)
        order.append(best)
    return order


def _order_within(
    nodes: list[Node], groups: Mapping[Node, str], flows: Mapping[Flow, int]
) -> list[Node]:
    """Agents of each class sorted by the mean rank of the earlier-placed agents they
    message with (fewer crossings: a shop's customers sit together); stable otherwise."""
    partners: dict[Node, list[Node]] = {n: [] for n in nodes}
    for sender, receiver, _ in flows:
        if sender in partners and receiver in partners and sender != receiver:
            partners[sender].append(receiver)
            partners[receiver].append(sender)
    rank: dict[Node, int] = {}
    out: list[Node] = []
    for name in dict.fromkeys(groups[n] for n in nodes):
        members = [n for n in nodes if groups[n] == name]

        def key(node: Node, members: list[Node] = members) -> tuple[float, int]:
            placed = [rank[p] for p in partners[node] if p in rank]
            return (sum(placed) / len(placed) if placed else math.inf, members.index(node))

        for node in sorted(members, key=key):
            rank[node] = len(out)
            out.append(node)
    return out


def positions(graph: MessageGraph, layout: str = "auto") -> dict[Node, tuple[float, float]]:
    """Deterministic ``{node: (x, y)}`` for ``graph``.

    ``"circles"``: each class's agents on a circle of their own, the circles spaced on a
    ring; ``"networkx"``: networkx's multipartite layout, one column per class;
    ``"auto"``: networkx when installed, else circles. An aggregated graph (one node per
    class) is always placed on a ring.

    Raises:
        ConfigError: an unknown layout.
        DependencyNotInstalled: ``layout="networkx"`` without networkx.
    """
    if layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout != "circles":
        try:
            import networkx
        except ImportError:
            if layout == "networkx":
                raise DependencyNotInstalled(
                    "layout='networkx' needs networkx: pip install networkx (or use "
                    "layout='circles')"
                ) from None
            layout = "circles"
    sizes = [
        (name, [n for n in graph.nodes if graph.groups[n] == name]) for name in graph.classes()
    ]
    if graph.aggregated or layout == "circles":
        return _circles(sizes, _partners(graph))
    return _multipartite(networkx, graph)


def _circles(
    groups: list[tuple[str, list[Node]]], partners: Mapping[Node, list[Node]]
) -> dict[Node, tuple[float, float]]:
    """The class groups spaced on a ring, each group's agents on a half circle bulging
    away from the ring's centre (so arrows from other groups reach every agent without
    crossing the group), or on a full circle when it is the only group."""
    count = len(groups)
    span = 2 * math.pi if count == 1 else math.pi
    radii = [len(m) / span if len(m) > 1 else 0.0 for _, m in groups]
    gap = 1.5 + 0.6 * max(radii, default=0.0)
    if count == 1:
        ring = 0.0
    else:
        pairs = [(radii[i], radii[(i + 1) % count]) for i in range(count)]
        ring = max(a + b + gap for a, b in pairs) / (2 * math.sin(math.pi / count))
    out: dict[Node, tuple[float, float]] = {}
    for index, ((_, members), radius) in enumerate(zip(groups, radii)):
        angle = math.pi - 2 * math.pi * index / count  # the first group on the left
        cx, cy = ring * math.cos(angle), ring * math.sin(angle)
        n = len(members)
        if count > 1:
            members = _facing(members, (cx, cy), angle, partners, out)
        for k, node in enumerate(members):
            if count == 1:
                theta = math.pi / 2 - 2 * math.pi * k / n
            else:  # from one end of the half circle to the other, clockwise
                theta = angle + math.pi / 2 - math.pi * (k + 0.5) / n
            out[node] = (cx + radius * math.cos(theta), cy + radius * math.sin(theta))
    return out


def _facing(
    members: list[Node],
    centre: tuple[float, float],
    angle: float,
    partners: Mapping[Node, list[Node]],
    placed: Mapping[Node, tuple[float, float]],
) -> list[Node]:
    """``members`` in the clockwise order of the directions, seen from ``centre``, of
    the already placed agents they message with (each agent faces its partners)."""

    def key(node: Node) -> tuple[float, int]:
        points = [placed[p] for p in partners.get(node, ()) if p in placed]
        if not points:
            return (math.inf, members.index(node))
        x = sum(p[0] for p in points) / len(points) - centre[0]
        y = sum(p[1] for p in points) / len(points) - centre[1]
        offset = (math.atan2(y, x) - angle + math.pi) % (2 * math.pi) - math.pi
        return (offset, members.index(node))  # clockwise from the +90 degrees end

    return sorted(members, key=key)


def _partners(graph: MessageGraph) -> dict[Node, list[Node]]:
    out: dict[Node, list[Node]] = {n: [] for n in graph.nodes}
    for sender, receiver, _ in graph.flows:
        if sender != receiver and sender in out and receiver in out:
            out[sender].append(receiver)
            out[receiver].append(sender)
    return out


def _multipartite(networkx: Any, graph: MessageGraph) -> dict[Node, tuple[float, float]]:
    """networkx's multipartite layout: one column per class, in :func:`_class_order`."""
    layers = {
        i: [n for n in graph.nodes if graph.groups[n] == name]  # lists keep the order
        for i, name in enumerate(graph.classes())
    }
    g = networkx.Graph()
    g.add_nodes_from(graph.nodes)
    placed = networkx.multipartite_layout(g, subset_key=layers, align="vertical", scale=1.0)
    xs = [float(x) for x, _ in placed.values()]
    ys = [float(y) for _, y in placed.values()]
    height, width = max(ys) - min(ys), max(xs) - min(xs)
    stretch = 1.4 * height / width if width and height > width / 1.4 else 1.0
    return {node: (float(x) * stretch, float(y)) for node, (x, y) in placed.items()}
