"""Plots written as PNG files (matplotlib, imported only when a plot is drawn).

Install with ``pip install 'phantomzoo[plots]'``. Every function takes data phantomzoo
produced (training histories, rollouts) and a path, draws one figure and returns the
path.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'phantomzoo[plots]'") from None
    return plt


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def learning_curves(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    path: str | Path,
    reference: Mapping[str, float | Mapping[str, float]] | None = None,
) -> Path:
    """Mean episode return per policy against agent-steps, one line per (run, policy).

    Each policy keeps one colour across runs (runs differ by line style).

    Args:
        histories: ``{run label: TrainingResult.history}``.
        path: PNG file to write.
        reference: Optional dashed horizontal lines: ``{"order-up-to": 815.0}`` draws
            one black line; ``{"value heuristic": {"travel": 9.5, "sport": 12.1}}``
            draws one line per policy, in that policy's colour (each policy against
            its own yardstick).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    policy_ids = sorted(
        {p for h in histories.values() for row in h for p in row.get("returns", {})}
    )
    colours = {p: f"C{i % 10}" for i, p in enumerate(policy_ids)}
    styles = ("-", "-.", ":", (0, (5, 1)))
    for k, (label, history) in enumerate(histories.items()):
        for policy_id in policy_ids:
            points = [
                (r["timesteps"], r["returns"][policy_id])
                for r in history
                if policy_id in r.get("returns", {})
            ]
            if points:
                xs, ys = zip(*points)
                style = styles[k % len(styles)]
                ax.plot(
                    xs,
                    ys,
                    label=f"{label} / {policy_id}",
                    color=colours[policy_id],
                    linestyle=style,
                )
    for name, value in (reference or {}).items():
        _reference_lines(ax, name, value, colours)
    ax.set_xlabel("agent-steps")
    ax.set_ylabel("mean episode return")
    ax.set_title("Learning curves")
    if ax.lines:
        ax.legend(fontsize=8)
    return _save(fig, path)


def _reference_lines(
    ax: Any, name: str, value: float | Mapping[str, float], colours: Mapping[str, str]
) -> None:
    """One dashed level (black), or one per policy in the policy's colour."""
    if not isinstance(value, Mapping):
        ax.axhline(value, linestyle="--", color="k", linewidth=1)
        ax.annotate(name, (0, value), textcoords="offset points", xytext=(4, 4), fontsize=8)
        return
    for policy_id, level in value.items():
        colour = colours.get(policy_id, "k")
        ax.axhline(level, linestyle="--", color=colour, linewidth=1, label=f"{name} / {policy_id}")


def supply_chain_histograms(
    rollouts: Sequence[Any], path: str | Path, shop_id: Hashable = "SHOP"
) -> Path:
    """The tutorial's four histograms: shop action, held stock, sales (with mean), missed sales.

    The rollouts must record the metrics ``"<shop>/stock"``, ``"<shop>/sales"`` and
    ``"<shop>/missed_sales"`` (e.g. ``SimpleAgentMetric(shop_id, "stock", "mean")``).
    """
    actions, stock, sales, missed = [], [], [], []
    for rollout in rollouts:
        actions += [
            int(round(float(np.asarray(a).reshape(-1)[0])))
            for a in rollout.actions_for_agent(shop_id, drop_nones=True)
        ]
        try:
            stock += list(rollout.metrics[f"{shop_id}/stock"])
            sales += list(rollout.metrics[f"{shop_id}/sales"])
            missed += list(rollout.metrics[f"{shop_id}/missed_sales"])
        except KeyError as exc:
            raise ConfigError(
                f"supply_chain_histograms needs the rollout metric {exc.args[0]!r}"
            ) from None
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    panels = [
        (axes[0, 0], actions, "Shop action (stock requested per step)"),
        (axes[0, 1], stock, "Shop held stock (per step)"),
        (axes[1, 0], sales, "Shop sales made (per step)"),
        (axes[1, 1], missed, "Shop missed sales (per step)"),
    ]
    for ax, values, title in panels:
        ax.hist(values, bins=_bins(values))
        ax.set_title(title, fontsize=10)
    axes[1, 0].axvline(np.mean(sales) if sales else 0.0, c="k")
    return _save(fig, path)


def _bins(values: Sequence[float]) -> Any:
    """One bin per integer for integer data (no empty gaps), else 20 bins."""
    array = np.asarray(values, dtype=float)
    if array.size and np.all(array == np.round(array)) and array.max() - array.min() <= 200:
        return np.arange(array.min(), array.max() + 2) - 0.5
    return 20


def scatter_with_trend(
    xs: Sequence[float], ys: Sequence[float], path: str | Path, xlabel: str, ylabel: str, title: str
) -> Path:
    """A scatter of ``ys`` against ``xs`` with the mean per distinct x as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(xs, ys, s=6, alpha=0.3)
    if len(xs):
        keys = sorted(set(xs))
        means = [float(np.mean([y for x, y in zip(xs, ys) if x == k])) for k in keys]
        ax.plot(keys, means, color="k")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def lines(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    xlabel: str,
    ylabel: str,
    title: str,
) -> Path:
    """Several labelled lines ``{label: (xs, ys)}`` on one axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if series:
        ax.legend(fontsize=8)
    return _save(fig, path)


def distributions(
    groups: Mapping[str, Sequence[float]], path: str | Path, xlabel: str, title: str
) -> Path:
    """Overlaid histograms, one per labelled group."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in groups.items():
        if len(values):
            ax.hist(values, bins=30, alpha=0.5, label=label)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if groups:
        ax.legend(fontsize=8)
    return _save(fig, path)


def curves(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    xlabel: str,
    ylabel: str,
    title: str,
    references: Mapping[str, float] | None = None,
    log_y: bool = False,
) -> Path:
    """Labelled lines ``{label: (xs, ys)}``, each with its own dashed reference level.

    ``references[label]`` is drawn as a dashed horizontal line in the colour of the line
    ``label`` (e.g. each model size's heuristic figure next to its learning curve);
    ``log_y`` puts the y axis on a log scale, for lines of very different magnitudes.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, (xs, ys) in series.items():
        (line,) = ax.plot(xs, ys, marker=".", label=label)
        value = (references or {}).get(label)
        if value is not None:
            ax.axhline(value, linestyle="--", linewidth=1, color=line.get_color())
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if series:
        ax.legend(fontsize=8)
    return _save(fig, path)
