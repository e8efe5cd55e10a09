"""The rows of ``phantomzoo bench``'s comparison table: returns, yardsticks, summaries.

:func:`phantomzoo.cli.workflow.bench` trains and evaluates; this module turns the
evaluations into rows: each policy set's mean return and its percentage of the first
baseline (the yardstick), the yardstick's level per policy (so each family's learning
curve is drawn against its own figure), and the optional extra columns of the model's
bench module (its ``summary`` helper, e.g. the ads market's clicks per advertiser, cost
per click and budget left). When returns cannot grow any more (``"saturated"``, e.g.
every impression already clicked), the %-of-heuristic column says so instead of showing
a meaningless ~100%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..registry import BENCH_HOOKS, EnvSpec
from ..training.trained import TrainedPolicies


def policy_means(
    by_agent: Mapping[Any, np.ndarray], agent_to_policy: Mapping[Any, str]
) -> dict[str, float]:
    """Mean return per episode of an agent of each policy (the yardstick per family);
    agents without a policy are left out."""
    pooled: dict[str, list[np.ndarray]] = {}
    for agent_id, returns in by_agent.items():
        policy_id = agent_to_policy.get(agent_id)
        if policy_id is not None:
            pooled.setdefault(policy_id, []).append(returns)
    return {p: float(np.mean(np.concatenate(v))) for p, v in pooled.items()}


def summary_hook(env_spec: EnvSpec) -> Any:
    """The bench module's optional ``summary(policies, env, episodes, seed) -> {column:
    value}`` helper: extra columns of the bench table (e.g. the ads market's cost per
    click), with ``"saturated"`` marking a policy set whose returns cannot grow."""
    if "summary" in BENCH_HOOKS:
        return env_spec.hook("summary")
    module = env_spec.bench_module()  # not (yet) a registered hook name: by convention
    return getattr(module, "summary", None) if module is not None else None


def add_summaries(
    env_spec: EnvSpec,
    env: Any,
    rows: list[dict[str, Any]],
    policies: Mapping[str, TrainedPolicies],
    episodes: int,
    seed: int,
) -> None:
    """Each row's ``summary`` from the bench module's hook; ``saturated`` on a row when
    both it and the yardstick are, so its %-of-heuristic says nothing (shown as such)."""
    hook = summary_hook(env_spec)
    if hook is None:
        return
    for row in rows:
        row["summary"] = dict(hook(policies[row["policy"]], env, episodes, seed))
    yardstick = next(r for r in rows if r["source"] == "baseline")
    for row in rows:
        row["saturated"] = bool(
            row["summary"].get("saturated") and yardstick["summary"].get("saturated")
        )


def make_row(
    name: str, source: str, wall: float | None, steps: int | None, returns: np.ndarray
) -> dict[str, Any]:
    return {
        "policy": name,
        "source": source,
        "wall_seconds": wall,
        "agent_steps": steps,
        "agent_steps_per_s": steps / wall if wall and steps else None,
        "mean": float(returns.mean()),
        "std": float(returns.std()),
    }


BENCH_COLUMNS: list[tuple[str, str, str]] = [
    ("policy", "policy", "s"),
    ("source", "source", "s"),
    ("wall_seconds", "wall s", ",.1f"),
    ("agent_steps_per_s", "train agent-steps/s", ",.0f"),
    ("return", "return (mean ± std)", "s"),
    ("pct_of_heuristic", "% of heuristic", ".1f"),
]


def bench_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The comparison table of :func:`bench` as aligned text."""
    from .bench import format_table

    extra = [
        k for k in dict.fromkeys(k for r in rows for k in r.get("summary", {})) if k != "saturated"
    ]
    columns = [*BENCH_COLUMNS[:-1], *((k, k, ".4g") for k in extra), BENCH_COLUMNS[-1]]
    shown = []
    for r in rows:
        row = {**r, **r.get("summary", {}), "return": _mean_std(r["mean"], r["std"])}
        if r.get("saturated"):
            row["pct_of_heuristic"] = "saturated"
        shown.append(row)
    return format_table(shown, columns)


def _mean_std(mean: float, std: float) -> str:
    """``mean ± std``: one decimal when the mean is 10 or more, else three significant
    digits (a return of 0.0833 clicks is not shown as 0.1)."""
    if abs(mean) >= 10:
        return f"{mean:.1f} ± {std:.1f}"
    return f"{mean:.3g} ± {std:.3g}"
