"""When the ads market's trained policies count as converged (fixed before any run).

``benchmarks/ads_scaling.py`` evaluates the policies every ``eval_every`` seconds of
training, deterministically, on the same fixed seeds as the value heuristic, and calls a
size converged at the first evaluation where all three hold:

1. **clicks**: mean clicks per advertiser per episode >= the value heuristic's;
2. **behaviour** (the paper's): travel advertisers' mean bid on user 2 (who never clicks
   travel ads) is below :data:`BID_RATIO` of their mean bid on user 1, and sport
   advertisers bid on user 2 (who always clicks sport ads): their mean bid on user 2 is
   at least ``min_bid`` and above their mean bid on user 1;
3. **plateau**: over the last :data:`WINDOW` of the training time so far, the clicks
   curve improved by less than :data:`TOLERANCE` (relative to its value at the start of
   that window, the latest evaluation at or before 80% of the time), with at least
   :data:`MIN_EVALUATIONS` evaluations made. When clicks are *saturated* (every
   impression of every evaluation episode clicked, for the policies and the heuristic),
   clicks cannot move, so the overall cost per click must also have fallen by less than
   :data:`TOLERANCE` over the window (lower is better once clicks saturate).

This module holds only the rule (pure functions of evaluation summaries), so it can be
tested apart from any training run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Travel's bid on user 2 must be below this fraction of its bid on user 1.
BID_RATIO = 0.10
#: The trailing fraction of the training time the plateau is judged over.
WINDOW = 0.20
#: Largest relative improvement over the window that still counts as a plateau.
TOLERANCE = 0.02
#: Evaluations needed before the plateau can be judged.
MIN_EVALUATIONS = 3

#: The definition, as stored in the JSON results.
DEFINITION: dict[str, Any] = {
    "evaluation": "deterministic actions on fixed seeds, the same for policies and heuristic",
    "clicks": "mean clicks per advertiser per episode >= the value heuristic's",
    "behaviour": (
        f"travel mean bid on user 2 < {BID_RATIO:.0%} of its mean bid on user 1; sport mean "
        "bid on user 2 >= min_bid and > its mean bid on user 1"
    ),
    "plateau": (
        f"clicks per advertiser improved by < {TOLERANCE:.0%} over the last {WINDOW:.0%} of "
        f"the training time (>= {MIN_EVALUATIONS} evaluations); when clicks saturate, cost "
        f"per click also fell by < {TOLERANCE:.0%}"
    ),
}


def behaviour(mean_bid: Mapping[str, Mapping[int, float]], min_bid: float) -> dict[str, Any]:
    """The paper's qualitative behaviour from ``{family: {user: mean bid}}``."""
    travel, sport = mean_bid.get("travel", {}), mean_bid.get("sport", {})
    travel_1, travel_2 = travel.get(1, 0.0), travel.get(2, 0.0)
    sport_1, sport_2 = sport.get(1, 0.0), sport.get(2, 0.0)
    travel_ratio = travel_2 / travel_1 if travel_1 > 0 else float("inf")
    travel_ok = travel_1 > 0 and travel_ratio < BID_RATIO
    sport_ok = sport_2 >= min_bid and sport_2 > sport_1
    return {
        "travel_bid_ratio_user2_user1": travel_ratio,
        "sport_bid_user2": sport_2,
        "sport_bid_user1": sport_1,
        "travel_stops_on_user2": travel_ok,
        "sport_bids_on_user2": sport_ok,
        "ok": travel_ok and sport_ok,
    }


def window_change(curve: Sequence[tuple[float, float]], window: float = WINDOW) -> float | None:
    """Relative change of the last value over the trailing ``window`` of the time.

    ``curve`` is ``[(seconds, value), ...]`` in time order. The reference is the latest
    point at or before ``(1 - window)`` of the last time; None with fewer than
    :data:`MIN_EVALUATIONS` points or a zero reference.
    """
    if len(curve) < MIN_EVALUATIONS:
        return None
    end_time, end_value = curve[-1]
    start = (1.0 - window) * end_time
    before = [value for seconds, value in curve[:-1] if seconds <= start]
    if not before or before[-1] == 0:
        return None
    return (end_value - before[-1]) / abs(before[-1])


def check(
    point: Mapping[str, Any],
    heuristic: Mapping[str, Any],
    curve: Sequence[Mapping[str, Any]],
    min_bid: float,
) -> dict[str, Any]:
    """Whether the evaluation ``point`` (the last of ``curve``) meets the definition.

    Args:
        point: The policies' summary (``market_summary`` of the ads bench module).
        heuristic: The value heuristic's summary on the same seeds.
        curve: Every evaluation so far, each a summary with ``train_seconds``, in order.
        min_bid: The market's ``min_bid``.

    Returns:
        ``clicks_ok``, ``behaviour`` (see :func:`behaviour`), ``saturated``,
        ``clicks_change`` and ``cost_change`` over the window, ``plateau_ok`` and
        ``converged``.
    """
    clicks_ok = point["clicks_per_advertiser"] >= heuristic["clicks_per_advertiser"]
    shown = behaviour(point["mean_bid"], min_bid)
    saturated = bool(point["saturated"] and heuristic["saturated"])
    clicks = window_change([(p["train_seconds"], p["clicks_per_advertiser"]) for p in curve])
    plateau_ok = clicks is not None and clicks < TOLERANCE
    cost = None
    if saturated:
        costs = [(p["train_seconds"], p["cost_per_click"]) for p in curve]
        cost = None if any(c is None for _, c in costs) else window_change(costs)
        plateau_ok = plateau_ok and cost is not None and -cost < TOLERANCE
    return {
        "clicks_ok": clicks_ok,
        "behaviour": shown,
        "saturated": saturated,
        "clicks_change": clicks,
        "cost_change": cost,
        "plateau_ok": plateau_ok,
        "converged": clicks_ok and shown["ok"] and plateau_ok,
    }
