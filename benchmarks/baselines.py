"""Baseline returns of the tutorial supply chain (one shop): order-up-to vs random.

The order-up-to level ``S`` is searched on seeds kept apart from the evaluation seeds
(``--search-seed``, default 10,000); the best level and uniform random actions are then
evaluated on ``--episodes`` episodes (seeds ``--seed`` ...). A learned policy should be
judged against these two numbers::

    python benchmarks/baselines.py
    python benchmarks/baselines.py --episodes 1000 --seed 5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from phantomzoo.cli import bench as bm
from phantomzoo.envs.supply_chain import bench as sc
from phantomzoo.errors import PhantomZooError

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "baselines.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--episodes", type=int, default=100, help="evaluation episodes per policy (default: 100)"
    )
    parser.add_argument("--seed", type=int, default=0, help="first evaluation seed (default: 0)")
    parser.add_argument(
        "--search-episodes",
        type=int,
        default=20,
        help="episodes per candidate level in the search (default: 20)",
    )
    parser.add_argument(
        "--search-seed",
        type=int,
        default=10_000,
        help="first seed of the level search (default: 10000)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON file to write (default: benchmarks/results/baselines.json)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = sc.baseline_returns(
        num_episodes=args.episodes,
        seed=args.seed,
        search_episodes=args.search_episodes,
        search_seed=args.search_seed,
    )
    print(
        f"supply_chain_v0, 1 shop: {args.episodes} episodes from seed {args.seed}; "
        f"level searched on {args.search_episodes} episodes from seed {args.search_seed}\n"
    )
    print(bm.format_table(sc.baseline_rows(result), sc.BASELINE_COLUMNS))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": "supply_chain_v0 baselines", "machine": bm.machine_info(), **result}
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except PhantomZooError as exc:
        raise SystemExit(f"{Path(__file__).name}: error: {exc}") from None
