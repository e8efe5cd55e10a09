"""Speed goals of the throughput benchmarks, as ratios to Phantom 2.2 measured in the same run.

No benchmark stores another system's figures: a goal is a factor (phantomzoo's rate /
Phantom's, median over alternating rounds, see :mod:`phantom_side`) and is checked only
against a side-by-side measurement made by the same run. Without a Phantom interpreter
the speed goals are ``SKIP``; the scaling goal (cost per agent-step flat as the model
grows) is always checked from phantomzoo's own rows. Nothing here is enforced: goals are
reported PASS / MISS / SKIP from the numbers just measured.

This module is for the scripts in ``benchmarks/`` only: the package carries no goals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from phantomzoo.cli.bench import growth_check

#: phantomzoo / Phantom 2.2 aimed for on the supply chain, by number of shops.
SUPPLY_CHAIN_RATIO_GOALS: dict[int, float] = {1: 5.0, 1000: 10.0}
#: phantomzoo / Phantom 2.2 aimed for on the ads market, by number of advertisers; it
#: applies to both the acting protocol and the PettingZoo AEC API.
ADS_RATIO_GOALS: dict[int, float] = {6: 5.0, 1200: 10.0}
#: The side keys of :mod:`phantom_side` rows and how the goal names them.
API_NAMES: dict[str, str] = {"ours": "", "ours_aec": " (AEC API)"}
NO_PHANTOM = "no Phantom interpreter given (--phantom-python PATH or PHANTOM_PY)"


def ratio_goal(
    row: Mapping[str, Any] | None,
    size: int,
    factor: float,
    unit: str,
    key: str = "ours",
    measured_side_by_side: bool = True,
) -> dict[str, Any]:
    """``factor`` x Phantom 2.2 at ``size``, from the median ratio of side ``key`` in
    the side-by-side ``row`` (None: that size was not compared)."""
    shown = unit[:-1] if size == 1 and unit.endswith("s") else unit
    name = f"{factor:g}x Phantom 2.2 at {size:,} {shown}{API_NAMES.get(key, ' (' + key + ')')}"
    base = {"name": name, "target": factor, "size": size, "api": key}
    if not measured_side_by_side:
        return {**base, "measured": None, "status": "SKIP", "detail": NO_PHANTOM}
    if row is None or key not in row["ratios"]:
        return {
            **base,
            "measured": None,
            "status": "SKIP",
            "detail": f"{size:,} not measured side by side",
        }
    ratio = row["ratios"][key]
    status = "PASS" if ratio["median"] >= factor else "MISS"
    detail = (
        f"{ratio['median']:.2f}x [{ratio['min']:.2f}-{ratio['max']:.2f}] over "
        f"{len(ratio['values'])} alternating rounds (target >= {factor:g}x)"
    )
    return {**base, "measured": ratio["median"], "status": status, "detail": detail}


def _ratio_goals(
    side_rows: Sequence[Mapping[str, Any]] | None,
    goals: Mapping[int, float],
    unit: str,
    keys: Sequence[str],
) -> list[dict[str, Any]]:
    by_size = {int(r["size"]): r for r in side_rows or ()}
    return [
        ratio_goal(by_size.get(n), n, f, unit, key, side_rows is not None)
        for n, f in goals.items()
        for key in keys
    ]


def check_supply_chain_goals(
    rows: Sequence[Mapping[str, Any]],
    side_rows: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The ratio goals at 1 and 1000 shops (from ``side_rows``; SKIP when None) and the
    scaling goal (from phantomzoo's own ``rows``)."""
    checks = _ratio_goals(side_rows, SUPPLY_CHAIN_RATIO_GOALS, "shops", ["ours"])
    checks.append(growth_check(rows, "shops", "us_per_shop_step", unit="shop-step"))
    return checks


def check_ads_goals(
    rows: Sequence[Mapping[str, Any]],
    side_rows: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The ratio goals at 6 and 1200 advertisers for both APIs (from ``side_rows``; SKIP
    when None) and the scaling goal (from phantomzoo's own ``rows``)."""
    checks = _ratio_goals(side_rows, ADS_RATIO_GOALS, "advertisers", ["ours", "ours_aec"])
    checks.append(growth_check(rows, "advertisers", "us_per_adv_step", unit="advertiser-step"))
    return checks
