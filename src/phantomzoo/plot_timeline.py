"""The timeline picture of :func:`phantomzoo.plots.timeline`: chosen agents' actions and
rewards per step, over shaded bands naming each step's stage."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from .episode_graph import class_of_id, rollout_agents
from .errors import ConfigError

#: Agents one timeline shows at most (beyond that the lines cannot be told apart).
MAX_TIMELINE_AGENTS = 12
#: Agents chosen when the caller names none.
DEFAULT_AGENTS = 4
#: Action components drawn one line each; wider actions are drawn as their mean.
MAX_COMPONENTS = 4

AGENT_COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
)  # fmt: skip
STAGE_COLOURS = ("#fde0c5", "#d5e8d4", "#dae8fc", "#e1d5e7", "#fff2cc", "#f8cecc")
COMPONENT_STYLES = ("-", "--", ":", "-.")


def timeline_agents(rollout: Any, agents: Sequence[Hashable] | None) -> list[Hashable]:
    """The agents to draw: ``agents`` checked against the episode, or a default pick
    (the first acting agent of each id-guessed class, then others, up to four)."""
    known = rollout_agents(rollout)
    if agents is None:
        acting = list(dict.fromkeys(a for s in rollout.steps for a in s.actions)) or known
        firsts = list({class_of_id(a): a for a in reversed(acting)}.values())[::-1]
        picked = [a for a in acting if a in set(firsts)][:DEFAULT_AGENTS]
        picked += [a for a in acting if a not in picked][: DEFAULT_AGENTS - len(picked)]
        if not picked:
            raise ConfigError("timeline: no agent acted or was rewarded in the rollout")
        return picked
    if isinstance(agents, (str, bytes)) or not isinstance(agents, Sequence):
        raise ConfigError(
            f"timeline: agents must be a list of agent ids (e.g. ['SHOP1']), got {agents!r}"
        )
    chosen = list(dict.fromkeys(agents))
    if not chosen:
        raise ConfigError("timeline: agents is empty; name at least one agent, or pass None")
    if len(chosen) > MAX_TIMELINE_AGENTS:
        raise ConfigError(
            f"timeline draws at most {MAX_TIMELINE_AGENTS} agents (lines cannot be told apart "
            f"beyond that), got {len(chosen)}; pass fewer or draw several timelines"
        )
    unknown = [a for a in chosen if a not in set(known)]
    if unknown:
        raise ConfigError(
            f"timeline: agent(s) {unknown} are not in the rollout; it has {_some(known)}"
        )
    return chosen


def _some(ids: list[Hashable]) -> str:
    shown = ", ".join(repr(a) for a in ids[:8])
    return shown + (f", ... ({len(ids)} agents)" if len(ids) > 8 else "")


def action_values(rollout: Any, agent_id: Hashable) -> np.ndarray:
    """``(steps, components)`` floats of the agent's actions (NaN where it did not act)."""
    rows = [_flat(a, agent_id) for a in rollout.actions_for_agent(agent_id)]
    width = max((len(r) for r in rows if r is not None), default=1)
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        if row is not None:
            if len(row) != width:
                raise ConfigError(
                    f"timeline: agent {agent_id!r}'s actions change size between steps "
                    f"({len(row)} and {width} numbers); draw it with its own plot"
                )
            out[i] = row
    return out


def _flat(action: Any, agent_id: Hashable) -> np.ndarray | None:
    """An action as a flat float vector (dicts by sorted key, tuples in order)."""
    if action is None:
        return None
    if isinstance(action, Mapping):
        parts = [_flat(action[k], agent_id) for k in sorted(action, key=str)]
        return np.concatenate([p for p in parts if p is not None]) if parts else None
    if isinstance(action, tuple):
        parts = [_flat(a, agent_id) for a in action]
        return np.concatenate([p for p in parts if p is not None]) if parts else None
    try:
        return np.asarray(action, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(
            f"timeline: agent {agent_id!r} took an action that is not numbers "
            f"({type(action).__name__}: {action!r}); timeline draws numeric actions only"
        ) from None


def stage_runs(rollout: Any) -> list[tuple[Hashable, int, int]]:
    """``(stage, first step, last step)`` of each run of steps in one stage."""
    runs: list[tuple[Hashable, int, int]] = []
    for index, step in enumerate(rollout.steps):
        if runs and runs[-1][0] == step.stage:
            runs[-1] = (step.stage, runs[-1][1], index)
        else:
            runs.append((step.stage, index, index))
    return [] if all(stage is None for stage, _, _ in runs) else runs


def draw_timeline(fig: Any, rollout: Any, agents: list[Hashable], title: str | None) -> None:
    """Actions (top) and rewards (bottom) per step of ``agents``, with stage bands."""
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    xs = np.array([step.i for step in rollout.steps], dtype=float)
    stages = _draw_stage_bands((top, bottom), rollout, xs)
    for n, agent_id in enumerate(agents):
        colour = AGENT_COLOURS[n % len(AGENT_COLOURS)]
        _draw_actions(top, xs, action_values(rollout, agent_id), agent_id, colour)
        rewards = np.array(
            [np.nan if r is None else float(r) for r in rollout.rewards_for_agent(agent_id)]
        )
        total = float(np.nansum(rewards))
        bottom.plot(xs, rewards, color=colour, linewidth=1.1, marker="." if len(xs) <= 60 else None,
                    label=f"{agent_id} (return {total:,.4g})")  # fmt: skip
    top.set_ylabel("action")
    bottom.set_ylabel("reward")
    bottom.set_xlabel("step")
    bottom.axhline(0.0, color="#808080", linewidth=0.6, zorder=0)
    top.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if stages:
        fig.legend(handles=stages, title="stage", fontsize=7, title_fontsize=7,
                   loc="lower right", bbox_to_anchor=(1.0, 0.0), frameon=False)  # fmt: skip
    top.set_title(title or _title(rollout, agents), fontsize=10)
    top.margins(x=0.01)
    from matplotlib.ticker import MaxNLocator

    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()


def _title(rollout: Any, agents: list[Hashable]) -> str:
    names = ", ".join(str(a) for a in agents)
    return (
        f"Episode {rollout.rollout_id}/{rollout.repeat_id}, {len(rollout.steps)} steps: "
        f"actions and rewards of {names}"
    )


def _draw_actions(ax: Any, xs: np.ndarray, values: np.ndarray, agent_id: Any, colour: str) -> None:
    """One line per action component (up to four), else the components' mean; integer
    actions as steps."""
    discrete = bool(np.all(np.isnan(values) | (values == np.round(values))))
    style = {"drawstyle": "steps-mid"} if discrete else {}
    marker = "." if len(xs) <= 60 else None
    width = values.shape[1]
    if width > MAX_COMPONENTS:
        with np.errstate(invalid="ignore"):
            mean = np.where(np.all(np.isnan(values), axis=1), np.nan, np.nanmean(values, axis=1))
        ax.plot(xs, mean, color=colour, linewidth=1.1, marker=marker,
                label=f"{agent_id} (mean of {width} numbers)", **style)  # fmt: skip
        return
    for k in range(width):
        label = str(agent_id) if width == 1 else f"{agent_id}[{k}]"
        ax.plot(xs, values[:, k], color=colour, linestyle=COMPONENT_STYLES[k], linewidth=1.1,
                marker=marker, label=label, **style)  # fmt: skip


def _draw_stage_bands(axes: Sequence[Any], rollout: Any, xs: np.ndarray) -> list[Any]:
    """Shade each run of steps in one stage; the legend handles (none without stages)."""
    from matplotlib.patches import Patch

    runs = stage_runs(rollout)
    colour_of: dict[Hashable, str] = {}
    for stage, _, _ in runs:
        colour_of.setdefault(stage, STAGE_COLOURS[len(colour_of) % len(STAGE_COLOURS)])
    for stage, first, last in runs:
        for ax in axes:
            ax.axvspan(xs[first] - 0.5, xs[last] + 0.5, color=colour_of[stage], alpha=0.6,
                       linewidth=0, zorder=0)  # fmt: skip
    return [Patch(color=c, alpha=0.6, label=str(s)) for s, c in colour_of.items()]
