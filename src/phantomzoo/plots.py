"""Pictures of one episode: who talked to whom, and what chosen agents did step by step.

``ph.plots`` (imported on first use; matplotlib only when a picture is drawn, from the
``plots`` extra: ``pip install 'phantomzoo[plots]'``)::

    rollouts = ph.rollout("supply_chain_v0", policies, record_messages=True)
    ph.plots.message_graph(rollouts[0], "messages.png", env=env)
    ph.plots.timeline(rollouts[0], "timeline.png", agents=["SHOP1"])

:func:`message_graph` draws the network with agents grouped by class, each edge as
wide as the messages it carried and coloured by payload class; episodes with more
than ``max_agents`` agents are drawn one node per class. :func:`timeline` draws the
per-step actions and rewards of a few agents over bands showing the stage of each
step. Both write a PNG and return its path; figures are drawn without pyplot, so the
caller's matplotlib backend and open figures are left alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .episode_graph import (
    LAYOUTS,
    agent_classes,
    build_graph,
    positions,
    recorded_messages,
    rollout_agents,
)
from .errors import ConfigError, DependencyNotInstalled
from .plot_drawing import MISSING_MATPLOTLIB, check_path, draw_graph, figure, save
from .plot_timeline import draw_timeline, timeline_agents

__all__ = [
    "LAYOUTS",
    "MAX_AGENTS",
    "episode_plots",
    "message_graph",
    "require_matplotlib",
    "timeline",
]

#: Episodes with more agents than this are drawn one node per class by default.
MAX_AGENTS = 50


def _check_rollout(rollout: Any, caller: str) -> None:
    from .experiments.trajectories import Rollout

    if isinstance(rollout, Rollout):
        return
    hint = ""
    if isinstance(rollout, (list, tuple)):
        hint = " (ph.rollout returns a list: pass one episode, e.g. rollouts[0])"
    raise ConfigError(f"{caller} needs one ph.Rollout, got {type(rollout).__name__}{hint}")


def _resolve_env(env: Any, rollout: Any) -> Any:
    """A registered env name is built with the rollout's own env config."""
    if isinstance(env, str):
        from .registry import make

        return make(env, **dict(rollout.env_config))
    return env


def message_graph(
    rollout: Any,
    path: str | Path,
    *,
    env: Any = None,
    classes: Mapping[Hashable, str] | None = None,
    aggregate: bool | None = None,
    max_agents: int = MAX_AGENTS,
    layout: str = "auto",
    title: str | None = None,
) -> Path:
    """Draw who sent messages to whom in ``rollout`` and write it as a PNG.

    Nodes are agents grouped by class (node colour), arrows go from sender to receiver
    with a width growing with the messages carried over the whole episode and a colour
    per payload class; declared edges that carried nothing are dotted grey (``env``
    given). Large episodes are drawn one node per class (size: its agents), labelled
    with the messages each class pair exchanged.

    Args:
        rollout: One episode recorded with ``ph.rollout(..., record_messages=True)``.
        path: The ``.png`` file to write (its folder is created).
        env: The env the episode was played on (or its registered name, built with the
            rollout's ``env_config``): gives the agents' classes and declared edges.
            Without it, classes are guessed from the ids (``"SHOP1_CUST3"`` -> ``"CUST"``).
        classes: ``{agent_id: class name}`` overriding both.
        aggregate: One node per class (``True``), one per agent (``False``), or
            ``None``: aggregate when the episode has more than ``max_agents`` agents.
        max_agents: The size above which ``aggregate=None`` aggregates.
        layout: ``"auto"`` (networkx's multipartite layout when networkx is installed,
            else circles), ``"networkx"`` or ``"circles"`` (each class on a circle).
        title: The figure title (default: what the episode is and how many messages).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: not one Rollout, no recorded messages, a path not ending in
            ``.png``, a bad ``aggregate``/``max_agents``/``layout``, ``classes``
            missing agents, or an ``env`` the episode was not played on.
        DependencyNotInstalled: matplotlib (the ``plots`` extra) is missing, or networkx
            for ``layout="networkx"``.
    """
    _check_rollout(rollout, "message_graph")
    target = check_path(path, "message_graph")
    if aggregate is not None and not isinstance(aggregate, bool):
        raise ConfigError(f"aggregate must be True, False or None (automatic), got {aggregate!r}")
    if isinstance(max_agents, bool) or not isinstance(max_agents, int) or max_agents < 1:
        raise ConfigError(f"max_agents must be an int >= 1, got {max_agents!r}")
    if layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    messages = recorded_messages(rollout, "message_graph")
    agents = rollout_agents(rollout, messages)
    groups, declared = agent_classes(agents, _resolve_env(env, rollout), classes)
    if env is not None:  # agents of the env that never acted nor messaged are drawn too
        agents = list(dict.fromkeys([*agents, *groups]))
    groups = {a: groups[a] for a in agents}
    big = len(agents) > max_agents if aggregate is None else aggregate
    graph = build_graph(rollout, messages, groups, declared, aggregate=big)
    places = positions(graph, layout)
    fig = figure((11, 8) if not big and len(agents) > 30 else (9, 6.5))
    draw_graph(fig, graph, places, title or _graph_title(rollout, graph, len(agents)))
    return save(fig, target)


def _graph_title(rollout: Any, graph: Any, agents: int) -> str:
    shown = "one node per class" if graph.aggregated else "agents grouped by class"
    return (
        f"Messages of episode {rollout.rollout_id}/{rollout.repeat_id}: "
        f"{graph.total_messages():,} messages over {graph.steps} steps, "
        f"{agents:,} agents ({shown})"
    )


def timeline(
    rollout: Any,
    path: str | Path,
    agents: Sequence[Hashable] | None = None,
    *,
    title: str | None = None,
) -> Path:
    """Draw chosen agents' per-step actions and rewards over the episode's stage bands.

    The top panel shows each agent's action at every step (vector actions one line per
    component, up to four, else their mean), the bottom panel its reward; steps where
    an agent did not act or was not rewarded are gaps. Shaded bands mark the stage of
    each step in staged models.

    Args:
        rollout: One episode (messages need not be recorded).
        path: The ``.png`` file to write.
        agents: The agents to show (at most 12); ``None``: one acting agent per class
            guessed from the ids, up to four.
        title: The figure title.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ConfigError: not one Rollout, no steps, a path not ending in ``.png``, agents
            the episode does not have, an empty or too long ``agents``, or actions that
            are not numbers.
        DependencyNotInstalled: matplotlib (the ``plots`` extra) is missing.
    """
    _check_rollout(rollout, "timeline")
    target = check_path(path, "timeline")
    if not rollout.steps:
        raise ConfigError("timeline: the rollout has no steps; play at least one step")
    chosen = timeline_agents(rollout, agents)
    fig = figure((10, 6.5))
    draw_timeline(fig, rollout, chosen, title)
    return save(fig, target)


def episode_plots(
    rollout: Any, out_dir: str | Path, env: Any = None, prefix: str = ""
) -> list[Path]:
    """Both pictures of ``rollout`` in ``out_dir``: ``<prefix>message_graph.png`` (when
    messages were recorded) and ``<prefix>timeline.png``; the paths written."""
    out = Path(out_dir)
    written = []
    if any(step.messages is not None for step in rollout.steps):
        written.append(message_graph(rollout, out / f"{prefix}message_graph.png", env=env))
    written.append(timeline(rollout, out / f"{prefix}timeline.png"))
    return written


def require_matplotlib() -> None:
    """Raise DependencyNotInstalled (naming the ``plots`` extra) unless matplotlib can be
    imported: lets a command refuse before it spends time playing episodes."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise DependencyNotInstalled(MISSING_MATPLOTLIB) from None
