"""The phantomzoo side-by-side worker with the supply chain's batched path on.

    python side_pz_batched_worker.py sc N MIN_SECONDS SEED [--count]

Exactly :mod:`side_pz_worker` (same timing loop, same equal work), except that the
supply chain is built with ``batched=True`` (:mod:`phantomzoo.engine.batched`). Started
by ``throughput.py --batched`` when a Phantom interpreter is given.
"""

from __future__ import annotations

import sys
from typing import Any

import side_pz_worker as worker

_plain_build = worker.build


def build(kind: str, n: int) -> Any:
    """The worker's env, with the batched twins switched on for the supply chain."""
    env = _plain_build(kind, n)
    if kind == "sc":
        env.engine.batched = True
    return env


worker.build = build

if __name__ == "__main__":
    worker.main(sys.argv[1:])
