"""The rows of ``phantomzoo bench``'s table (``phantomzoo.cli.bench_rows``) and the
learning-curve plot's per-policy yardsticks: tiny returns shown with their digits, a
model's extra columns, "saturated" instead of a meaningless ~100%."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from phantomzoo.cli import plots
from phantomzoo.cli.bench_rows import add_summaries, bench_table, make_row, policy_means


def _rows() -> list[dict]:
    rows = [
        make_row("cleanrl", "trained", 10.0, 1000, np.array([0.0833, 0.0833])),
        make_row("value heuristic", "baseline", None, None, np.array([0.0833, 0.0833])),
        make_row("random bids", "baseline", None, None, np.array([0.05, 0.02])),
    ]
    for row in rows:
        row["pct_of_heuristic"] = 100.0 * row["mean"] / rows[1]["mean"]
    return rows


def _spec(hook):
    """A stand-in EnvSpec whose bench module defines ``summary`` = ``hook``."""
    return SimpleNamespace(bench_module=lambda: SimpleNamespace(summary=hook))


def test_tiny_returns_keep_three_significant_digits():
    table = bench_table(_rows())
    assert "0.0833 ± 0" in table and "0.1 ±" not in table


def test_large_returns_keep_one_decimal():
    (row,) = [make_row("x", "baseline", None, None, np.array([815.0, 815.0]))]
    row["pct_of_heuristic"] = 100.0
    assert "815.0 ± 0.0" in bench_table([row])


def test_summary_columns_and_saturated_rows():
    rows = _rows()
    by_policy = {"cleanrl": 1, "value heuristic": 1, "random bids": 0}

    def hook(policies, env, episodes, seed):
        saturated = bool(by_policy[policies])
        return {"cost/click": 0.5 if saturated else 0.9, "saturated": saturated}

    policies = {name: name for name in by_policy}  # the hook only reads the key back
    add_summaries(_spec(hook), None, rows, policies, 10, 0)
    assert [r["saturated"] for r in rows] == [True, True, False]
    assert rows[0]["summary"]["cost/click"] == 0.5
    table = bench_table(rows)
    header, _, trained, heuristic, random = table.splitlines()
    assert "cost/click" in header and "saturated" not in header
    assert trained.rstrip().endswith("saturated") and heuristic.rstrip().endswith("saturated")
    assert random.rstrip().endswith(f"{rows[2]['pct_of_heuristic']:.1f}")


def test_no_row_is_saturated_unless_the_yardstick_is():
    rows = _rows()

    def hook(policies, env, episodes, seed):
        return {"saturated": policies != "value heuristic"}

    add_summaries(_spec(hook), None, rows, {r["policy"]: r["policy"] for r in rows}, 10, 0)
    assert not any(r["saturated"] for r in rows)
    assert "saturated" not in bench_table(rows)


def test_no_summary_hook_leaves_the_rows_alone():
    rows = _rows()
    add_summaries(SimpleNamespace(bench_module=lambda: None), None, rows, {}, 10, 0)
    assert all("summary" not in r and "saturated" not in r for r in rows)


def test_policy_means_are_per_policy_means_of_its_agents():
    mapping = {"A1": "a", "A2": "a", "B1": "b"}
    returns = {"A1": np.array([1.0, 3.0]), "A2": np.array([5.0, 7.0]), "B1": np.array([2.0])}
    means = policy_means({**returns, "X": np.array([9.0])}, mapping)  # X: no policy
    assert means == {"a": pytest.approx(4.0), "b": pytest.approx(2.0)}


def test_learning_curves_draw_each_policy_against_its_own_level(tmp_path):
    pytest.importorskip("matplotlib")
    history = [
        {"timesteps": t, "returns": {"travel": 0.1 * t, "sport": 0.2 * t}} for t in (1, 2, 3)
    ]
    levels = {"value heuristic": {"travel": 0.25, "sport": 0.5}}
    path = plots.learning_curves({"cleanrl": history}, tmp_path / "c.png", levels)
    assert path.read_bytes().startswith(b"\x89PNG")
    path = plots.learning_curves({"cleanrl": history}, tmp_path / "d.png", {"one": 0.3})
    assert path.is_file()


def test_curves_with_references_and_log_scale(tmp_path):
    pytest.importorskip("matplotlib")
    series = {"6": ([1, 2], [10.0, 12.0]), "1200": ([5, 10], [0.08, 0.0833])}
    path = plots.curves(series, tmp_path / "s.png", "s", "clicks", "t", {"6": 14.0}, log_y=True)
    assert path.read_bytes().startswith(b"\x89PNG")
