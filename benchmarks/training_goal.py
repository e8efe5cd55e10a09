"""The learning-quality goal the training benchmarks share (supply chain, one shop).

Trained policies are evaluated on ``episodes`` episodes from seed 0, next to the
order-up-to heuristic (level searched on other seeds) and random restocking from the
supply chain's own bench module; the verdict is PASS when the policy reaches
``goal_fraction`` of the heuristic within ``goal_seconds`` of wall time.
"""

from __future__ import annotations

from typing import Any

import phantomzoo as ph
from phantomzoo.cli.bench import format_table
from phantomzoo.envs.supply_chain.bench import baseline_returns
from phantomzoo.experiments.evaluation import evaluate

COLUMNS = [
    ("policy", "backend/policy"),
    ("wall", "wall time (s)", ".1f"),
    ("steps", "agent-steps", ",d"),
    ("return", "mean ± std return"),
    ("pct", "% of heuristic", ".1f"),
]


def supply_chain_goal(
    label: str,
    result: Any,
    wall: float,
    episodes: int,
    goal_fraction: float,
    goal_seconds: float,
    wall_note: str = "",
) -> dict[str, Any]:
    """Compare trained supply-chain policies (policy ``"shop"``) with the baselines.

    Prints the table and a PASS/MISS line for ">= goal_fraction of the heuristic within
    goal_seconds of wall time"; returns the rows and the verdict.
    """
    base = baseline_returns(num_episodes=episodes, seed=0)
    env = ph.make("supply_chain_v0")
    mean, std = evaluate(env, result.policies, episodes, seed=0)["policies"]["shop"]
    heuristic = base["heuristic_mean"]
    steps = result.history[-1]["timesteps"] if result.history else 0
    rows = [
        {"policy": label, "wall": wall, "steps": steps, "mean": mean, "std": std},
        {"policy": f"order-up-to {base['level']}", "mean": heuristic, "std": base["heuristic_std"]},
        {"policy": "random", "mean": base["random_mean"], "std": base["random_std"]},
    ]
    for row in rows:
        row["return"] = f"{row['mean']:.1f} ± {row['std']:.1f}"
        row["pct"] = 100.0 * row["mean"] / heuristic
    fraction = mean / heuristic
    verdict = "PASS" if fraction >= goal_fraction and wall <= goal_seconds else "MISS"
    print(f"supply_chain_v0, 1 shop: {episodes} evaluation episodes from seed 0")
    print(format_table(rows, COLUMNS))
    print(
        f"{verdict}: >= {goal_fraction:.0%} of the heuristic within {goal_seconds:.0f} s "
        f"(got {fraction:.1%} after {wall:.0f} s of training{wall_note})"
    )
    return {
        "rows": rows,
        "heuristic_level": base["level"],
        "fraction_of_heuristic": fraction,
        "wall_seconds": wall,
        "agent_steps": steps,
        "goal": f">= {goal_fraction:.0%} of heuristic within {goal_seconds:.0f} s",
        "verdict": verdict,
        "history": result.history,
    }
