"""Speed goals of the throughput benchmarks and the OLD Phantom 2.2 figures they use.

The Phantom 2.2 figures below are old numbers, measured once on a machine of the same
kind; they were not re-measured alongside phantomzoo (the performance work will run
Phantom side by side and replace them). Goals are reported PASS / MISS / SKIP from the
numbers just measured, never assumed; nothing here is enforced.

This module is for the scripts in ``benchmarks/`` only: the package itself carries no
reference figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from phantomzoo.cli.bench import growth_check

#: OLD figures: Phantom 2.2, supply chain, shop-steps per second by number of shops
#: (with one shop an env-step is a shop-step). No other sizes were measured.
PHANTOM_2_2_SUPPLY_CHAIN: dict[int, float] = {1: 11_600.0, 1000: 7_000.0}
#: Speed-up over those figures phantomzoo aims for, by number of shops.
SUPPLY_CHAIN_SPEEDUP_GOALS: dict[int, float] = {1: 5.0, 1000: 10.0}

#: OLD figures: Phantom 2.2, digital ads (paper section 3.2 setting), advertiser-steps
#: per second by number of advertisers.
PHANTOM_2_2_ADS: dict[int, float] = {6: 27_000.0, 1200: 16_000.0}
#: Speed-up over those figures aimed for, by number of advertisers.
ADS_SPEEDUP_GOALS: dict[int, float] = {6: 5.0, 1200: 10.0}

#: Extra columns of the supply-chain table once :func:`with_phantom_columns` added them.
PHANTOM_COLUMNS: list[tuple[str, str, str]] = [
    ("phantom_shop_steps_per_s", "Phantom 2.2 shop-steps/s (old)", ",.0f"),
    ("speedup_vs_phantom", "vs Phantom", ".1f"),
]


def with_phantom_columns(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Supply-chain throughput rows plus the old Phantom 2.2 figure and the speed-up."""
    out = []
    for row in rows:
        reference = PHANTOM_2_2_SUPPLY_CHAIN.get(int(row["shops"]))
        ours = float(row["shop_steps_per_s"])
        out.append(
            {
                **row,
                "phantom_env_steps_per_s": None if reference is None else reference / row["shops"],
                "phantom_shop_steps_per_s": reference,
                "speedup_vs_phantom": None if reference is None else ours / reference,
            }
        )
    return out


def speed_goal(
    row: Mapping[str, Any] | None, size: int, factor: float, reference: float, key: str, unit: str
) -> dict[str, Any]:
    """``factor`` x the old Phantom 2.2 figure ``reference`` at ``size``, from ``row[key]``."""
    target = factor * reference
    shown = unit[:-1] if size == 1 and unit.endswith("s") else unit
    name = f"{factor:g}x Phantom 2.2 (old figure) at {size:,} {shown}"
    if row is None:
        detail = f"{size:,} not measured"
        return {
            "name": name,
            "target": target,
            "measured": None,
            "status": "SKIP",
            "detail": detail,
        }
    measured = float(row[key])
    status = "PASS" if measured >= target else "MISS"
    detail = f"{measured:,.0f}/s (target >= {target:,.0f}; {measured / target:.2f}x target)"
    return {
        "name": name,
        "target": target,
        "measured": measured,
        "status": status,
        "detail": detail,
    }


def check_supply_chain_goals(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The two speed goals (1 and 1000 shops) and the scaling goal of the supply chain."""
    by_size = {int(r["shops"]): r for r in rows}
    checks = [
        speed_goal(by_size.get(n), n, f, PHANTOM_2_2_SUPPLY_CHAIN[n], "shop_steps_per_s", "shops")
        for n, f in SUPPLY_CHAIN_SPEEDUP_GOALS.items()
    ]
    checks.append(growth_check(rows, "shops", "us_per_shop_step", unit="shop-step"))
    return checks


def check_ads_goals(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The two speed goals (6 and 1200 advertisers) and the scaling goal of the ads market."""
    by_size = {int(r["advertisers"]): r for r in rows}
    checks = [
        speed_goal(by_size.get(n), n, f, PHANTOM_2_2_ADS[n], "adv_steps_per_s", "advertisers")
        for n, f in ADS_SPEEDUP_GOALS.items()
    ]
    checks.append(growth_check(rows, "advertisers", "us_per_adv_step", unit="advertiser-step"))
    return checks
