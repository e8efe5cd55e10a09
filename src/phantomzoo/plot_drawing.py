"""Drawing a :class:`~phantomzoo.episode_graph.MessageGraph` with matplotlib.

matplotlib is imported only here and only when a figure is made; figures are plain
:class:`matplotlib.figure.Figure` objects (no pyplot), so drawing changes neither the
caller's backend nor its list of open figures.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from .episode_graph import MessageGraph
from .errors import ConfigError, DependencyNotInstalled

#: Colours of payload classes (edges) and of agent classes (nodes), reused cyclically.
PAYLOAD_COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
)  # fmt: skip
CLASS_COLOURS = (
    "#fdd49e", "#c7e9c0", "#c6dbef", "#dadaeb", "#fcbba1",
    "#d9d9d9", "#fee391", "#ccebc5", "#f2f0f7", "#fde0dd",
)  # fmt: skip
MISSING_MATPLOTLIB = "phantomzoo's pictures need matplotlib: pip install 'phantomzoo[plots]'"
#: Agents above which nodes lose their id labels (the legend names the classes).
LABELLED_AGENTS = 30


def check_path(path: Any, caller: str) -> Path:
    """``path`` as a Path ending in ``.png``, or ConfigError."""
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise ConfigError(f"{caller}: path must be a file name ending in .png, got {path!r}")
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ConfigError(
            f"{caller} writes PNG files: give a path ending in .png, got {str(path)!r}"
        )
    if target.is_dir():
        raise ConfigError(f"{caller}: {str(path)!r} is a directory; give a .png file name")
    return target


def figure(size: tuple[float, float]) -> Any:
    """A new matplotlib Figure, or DependencyNotInstalled naming the ``plots`` extra."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise DependencyNotInstalled(MISSING_MATPLOTLIB) from None
    return Figure(figsize=size)


def save(fig: Any, path: Path) -> Path:
    """Write ``fig`` to ``path`` (creating its folder) as a PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = [a for ax in fig.axes for a in ax.get_children() if type(a).__name__ == "Legend"]
    fig.savefig(path, dpi=110, bbox_inches="tight", bbox_extra_artists=extra, format="png")
    return path


def draw_graph(
    fig: Any, graph: MessageGraph, places: Mapping[Hashable, tuple[float, float]], title: str
) -> None:
    """Nodes, edges and the two legends (payload classes, agent classes) on ``fig``."""
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    ax.set_aspect("equal")
    payload_colour = {
        name: PAYLOAD_COLOURS[i % len(PAYLOAD_COLOURS)]
        for i, (name, _) in enumerate(graph.payloads())
    }
    class_colour = {
        name: CLASS_COLOURS[i % len(CLASS_COLOURS)] for i, name in enumerate(graph.classes())
    }
    radius = _node_radius(graph, places)
    _draw_quiet(ax, graph, places)
    circles = _draw_nodes(ax, graph, places, class_colour, radius)
    _draw_flows(ax, graph, places, payload_colour, circles)
    _legends(ax, graph, payload_colour, class_colour)
    xs = [x for x, _ in places.values()] or [0.0]
    ys = [y for _, y in places.values()] or [0.0]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    pad = 2 * max(radius.values(), default=0.1) + 0.05 * span
    beside = 10 < len(graph.nodes) <= LABELLED_AGENTS  # ids written next to the nodes
    side = pad + (0.3 if graph.aggregated else 0.15 if beside else 0.0) * span  # names fit
    ax.set_xlim(min(xs) - side, max(xs) + side)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ax.set_title(title, fontsize=10)


def _node_radius(
    graph: MessageGraph, places: Mapping[Hashable, tuple[float, float]]
) -> dict[Hashable, float]:
    """A radius per node in data units: a fraction of the closest spacing, larger for a
    class node standing for many agents."""
    points = list(places.values())
    span = max((max(p[k] for p in points) - min(p[k] for p in points) for k in (0, 1)), default=1.0)
    span = span or 1.0
    if graph.aggregated:
        biggest = max(graph.sizes.values(), default=1)
        return {n: span * (0.04 + 0.06 * math.sqrt(graph.sizes[n] / biggest)) for n in graph.nodes}
    closest = _closest_distance(points) or span
    cap = 0.07 if len(graph.nodes) <= LABELLED_AGENTS // 3 else 0.03
    return dict.fromkeys(graph.nodes, min(0.35 * closest, cap * span))


def _closest_distance(points: list[tuple[float, float]]) -> float:
    """The smallest distance between two points (nearest neighbour in sorted x order)."""
    ordered = sorted(points)
    best = math.inf
    for i, (x, y) in enumerate(ordered):
        for u, v in ordered[i + 1 : i + 8]:
            d = math.hypot(u - x, v - y)
            if 0 < d < best:
                best = d
    return 0.0 if best == math.inf else best


def _width(count: int, largest: int, aggregated: bool) -> float:
    top = 9.0 if aggregated else 4.5
    return 0.4 + (top - 0.4) * math.sqrt(count / largest) if largest else 0.4


def _draw_quiet(ax: Any, graph: MessageGraph, places: Mapping[Hashable, Any]) -> None:
    for pair in sorted(graph.quiet, key=lambda p: sorted(map(str, p))):
        a, b = sorted(pair, key=str)
        (x1, y1), (x2, y2) = places[a], places[b]
        ax.plot([x1, x2], [y1, y2], linestyle=":", color="#b0b0b0", linewidth=0.8, zorder=1)


def _draw_flows(
    ax: Any,
    graph: MessageGraph,
    places: Mapping[Hashable, tuple[float, float]],
    colours: Mapping[str, str],
    circles: Mapping[Hashable, Any],
) -> None:
    """One curved arrow per (sender, receiver, payload class); several payload classes
    on one direction of an edge bend further apart, the two directions to either side."""
    from matplotlib.patches import FancyArrowPatch

    largest = max(graph.flows.values(), default=0)
    rank: dict[tuple[Hashable, Hashable], int] = {}
    label_flows = graph.aggregated or len(graph.flows) <= 12
    for (sender, receiver, payload), count in sorted(
        graph.flows.items(), key=lambda item: (-item[1], str(item[0]))
    ):
        if sender == receiver:
            continue  # within one node: named in the node's label
        k = rank.get((sender, receiver), 0)
        rank[(sender, receiver)] = k + 1
        if graph.aggregated or len(graph.nodes) <= 12:
            bend = 0.15 + 0.22 * k
        else:
            bend = 0.05 * (1 + k)
        arrow = FancyArrowPatch(
            places[sender],
            places[receiver],
            connectionstyle=f"arc3,rad={bend}",
            arrowstyle="-|>",
            mutation_scale=14 if graph.aggregated else 8,
            linewidth=_width(count, largest, graph.aggregated),
            color=colours[payload],
            alpha=0.8 if graph.aggregated else 0.55,
            shrinkA=1,
            shrinkB=1,
            patchA=circles[sender],
            patchB=circles[receiver],
            zorder=2,
        )
        ax.add_patch(arrow)
        if label_flows:
            where = 0.5 - 0.12 * (k % 3)  # labels of arcs on one side not on one spot
            _label_flow(ax, places[sender], places[receiver], bend, where, count, colours[payload])


def _label_flow(
    ax: Any, a: Any, b: Any, bend: float, where: float, count: int, colour: str
) -> None:
    """The message count on an arc3 curve, a fraction ``where`` along it."""
    (x1, y1), (x2, y2) = a, b
    # arc3's control point: the chord's middle moved bend * length to its side
    cx = (x1 + x2) / 2 + bend * (y2 - y1)
    cy = (y1 + y2) / 2 - bend * (x2 - x1)
    t, u = where, 1.0 - where
    ax.text(
        u * u * x1 + 2 * u * t * cx + t * t * x2,
        u * u * y1 + 2 * u * t * cy + t * t * y2,
        f"{count:,}",
        fontsize=7,
        color=colour,
        ha="center",
        va="center",
        zorder=4,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
    )


def _draw_nodes(
    ax: Any,
    graph: MessageGraph,
    places: Mapping[Hashable, tuple[float, float]],
    colours: Mapping[str, str],
    radius: Mapping[Hashable, float],
) -> dict[Hashable, Any]:
    """A circle per node (the arrows end on them), labelled when there are few."""
    from matplotlib.patches import Circle

    circles: dict[Hashable, Any] = {}
    within: dict[Hashable, int] = {}
    for (sender, receiver, _), count in graph.flows.items():
        if sender == receiver:
            within[sender] = within.get(sender, 0) + count
    labelled = graph.aggregated or len(graph.nodes) <= LABELLED_AGENTS
    centre = (
        sum(x for x, _ in places.values()) / max(len(places), 1),
        sum(y for _, y in places.values()) / max(len(places), 1),
    )
    for node in graph.nodes:
        x, y = places[node]
        circles[node] = Circle(
            (x, y),
            radius[node],
            facecolor=colours[graph.groups[node]],
            edgecolor="#404040",
            linewidth=0.8,
            zorder=3,
        )
        ax.add_patch(circles[node])
        if not labelled:
            continue
        text = str(node)
        if graph.aggregated:
            text += f"\n{graph.sizes[node]:,} agent{'s' if graph.sizes[node] != 1 else ''}"
        if node in within:
            text += f"\n{within[node]:,} msgs inside"
        size = 7 if len(graph.nodes) > 10 else 8
        if graph.aggregated:  # class nodes can be small: named outside, away from the arcs
            _outside_label(ax, (x, y), centre, radius[node], text, size)
        elif len(graph.nodes) > 10:  # small nodes: the id beside, on the outer side
            right = x >= centre[0]
            ax.text(x + (1.3 if right else -1.3) * radius[node], y, text, fontsize=size,
                    ha="left" if right else "right", va="center", zorder=5,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.7})  # fmt: skip
        else:
            ax.text(x, y, text, ha="center", va="center", fontsize=size, zorder=5)
    return circles


def _outside_label(
    ax: Any, at: tuple[float, float], centre: tuple[float, float], r: float, text: str, size: int
) -> None:
    """``text`` beside the node at ``at``, on the side facing away from ``centre``."""
    dx, dy = at[0] - centre[0], at[1] - centre[1]
    norm = math.hypot(dx, dy)
    ux, uy = (dx / norm, dy / norm) if norm else (0.0, -1.0)
    ax.text(
        at[0] + ux * r * 1.25,
        at[1] + uy * r * 1.25,
        text,
        ha="left" if ux > 0.3 else "right" if ux < -0.3 else "center",
        va="bottom" if uy > 0.3 else "top" if uy < -0.3 else "center",
        fontsize=size,
        zorder=5,
    )


def _legends(
    ax: Any, graph: MessageGraph, payloads: Mapping[str, str], classes: Mapping[str, str]
) -> None:
    from matplotlib.lines import Line2D

    totals = dict(graph.payloads())
    edge_handles = [
        Line2D([], [], color=colour, linewidth=3, label=f"{name} ({totals[name]:,})")
        for name, colour in payloads.items()
    ]
    if graph.quiet:
        edge_handles.append(
            Line2D([], [], color="#b0b0b0", linestyle=":", label="edge, no message")
        )
    first = ax.legend(
        handles=edge_handles,
        title="payload class (messages)",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
    )
    ax.add_artist(first)
    counts: dict[str, int] = {}
    for node in graph.nodes:
        counts[graph.groups[node]] = counts.get(graph.groups[node], 0) + graph.sizes[node]
    node_handles = [
        Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor=colour,
               markeredgecolor="#404040", label=f"{name} ({counts[name]:,})")
        for name, colour in classes.items()
    ]  # fmt: skip
    ax.legend(
        handles=node_handles,
        title="agent class (agents)",
        loc="lower left",
        bbox_to_anchor=(1.0, 0.0),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
    )
