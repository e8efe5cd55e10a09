"""phantomzoo and Phantom 2.2 measured side by side, alternating, on equal work.

Used by ``throughput.py`` and ``ads_throughput.py`` when a Phantom interpreter is given
(``--phantom-python PATH`` or the environment variable ``PHANTOM_PY``: the ``python`` of
a venv where Phantom 2.2 is installed; ``benchmarks/README.md`` says how to build one).
No figure of Phantom is stored anywhere: every ratio comes from the same run.

Each measurement is its own subprocess (each system lives in its own venv), started from
an empty folder, single-threaded, ``PYTHONHASHSEED=0``:

* Phantom:    ``PHANTOM_PY side_phantom_worker.py KIND N MIN_SECONDS SEED``
* phantomzoo: ``sys.executable side_pz_worker.py KIND N MIN_SECONDS SEED``

Both workers time the same loop (:mod:`side_harness`): whole episodes with resets,
uniform random actions drawn as one seeded batch per step, the same agent counts,
episode lengths and messages per step. A configuration is measured in ``pairs`` rounds
of Phantom, phantomzoo (and, for the ads market, phantomzoo through the AEC API), in
that order: A B A B ..., so a drifting machine hits both sides alike. Each round gives a
ratio phantomzoo / Phantom; the median and the min-max over rounds are reported, with
the same ratio on CPU time (less sensitive to other programs on the machine); the
table itself is :mod:`side_report`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from side_harness import RESULT_PREFIX, busy_jiffies

from phantomzoo.errors import ConfigError, PhantomZooError

HERE = Path(__file__).resolve().parent
PHANTOM_PY_ENV = "PHANTOM_PY"
NO_PHANTOM_HINT = f"give --phantom-python PATH or set {PHANTOM_PY_ENV}"
PHANTOM_WORKER = HERE / "side_phantom_worker.py"
PZ_WORKER = HERE / "side_pz_worker.py"
#: Fewest rounds: a median and a min-max need three.
MIN_PAIRS = 3
WORKER_TIMEOUT_S = 900.0
#: With ``--quiet-wait``, a measurement waits while others keep more CPUs than this busy.
QUIET_CORES = 0.35


class SideBySideError(PhantomZooError, RuntimeError):
    """A side-by-side worker program failed or printed no result."""


@dataclass(frozen=True)
class Side:
    """One system (and API) of a comparison: which interpreter runs which worker kind."""

    key: str
    label: str
    python: str
    script: Path
    kind: str


# ---------------------------------------------------------------------- interpreter
def resolve_phantom_python(
    given: str | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The Phantom interpreter: ``given`` (``--phantom-python``), else ``$PHANTOM_PY``,
    else None (no side-by-side). ConfigError when the path is not an executable file."""
    environ = os.environ if environ is None else environ
    source = "--phantom-python"
    if not given:
        given, source = environ.get(PHANTOM_PY_ENV) or None, PHANTOM_PY_ENV
    if given is None:
        return None
    path = Path(given).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"{source}={given!r}: no such file; give the python of a venv where Phantom 2.2 "
            "is installed (see benchmarks/README.md), or leave it unset to measure "
            "phantomzoo alone"
        )
    if not os.access(path, os.X_OK):
        raise ConfigError(f"{source}={given!r} is not executable; give a python interpreter")
    return str(path)


def check_phantom(python: str) -> dict[str, Any]:
    """Phantom's version and examples as that interpreter sees them; ConfigError if it
    cannot import phantom or find Phantom's example models."""
    try:
        return _run([python, str(PHANTOM_WORKER), "check"], timeout=300.0)
    except SideBySideError as exc:
        raise ConfigError(f"{python} cannot run the Phantom side: {exc}") from None


def check_pairs(pairs: int) -> int:
    """``pairs`` when it is at least :data:`MIN_PAIRS`; ConfigError otherwise."""
    if pairs < MIN_PAIRS:
        raise ConfigError(
            f"--pairs must be at least {MIN_PAIRS} (a median and a min-max over rounds), "
            f"got {pairs}"
        )
    return pairs


def check_quiet_wait(seconds: float) -> float:
    """``seconds`` when it is finite and >= 0; ConfigError otherwise."""
    if not 0 <= seconds < float("inf"):
        raise ConfigError(f"--quiet-wait must be a number of seconds >= 0, got {seconds}")
    return seconds


def wait_quiet(max_wait: float) -> float | None:
    """Wait up to ``max_wait`` s while other processes keep more than
    :data:`QUIET_CORES` CPUs busy; the CPUs they kept busy in the last second (None
    when unknown or when not waiting)."""
    if max_wait <= 0:
        return None
    deadline = time.monotonic() + max_wait
    while True:
        j0 = busy_jiffies()
        time.sleep(1.0)
        j1 = busy_jiffies()
        if j0 is None or j1 is None:
            return None
        busy = (j1 - j0) / os.sysconf("SC_CLK_TCK")
        if busy <= QUIET_CORES or time.monotonic() >= deadline:
            return busy


def supply_chain_sides(phantom_python: str) -> list[Side]:
    """Phantom's tutorial supply chain vs ``supply_chain_v0`` through ``ParallelEnv``."""
    return [
        Side("phantom", "Phantom 2.2", phantom_python, PHANTOM_WORKER, "sc"),
        Side("ours", "ParallelEnv", sys.executable, PZ_WORKER, "sc"),
    ]


def ads_sides(phantom_python: str) -> list[Side]:
    """Phantom's ads example vs ``digital_ads_v0`` through both of phantomzoo's APIs."""
    return [
        Side("phantom", "Phantom 2.2", phantom_python, PHANTOM_WORKER, "ads"),
        Side("ours", "acting protocol", sys.executable, PZ_WORKER, "ads"),
        Side("ours_aec", "AEC API", sys.executable, PZ_WORKER, "ads_aec"),
    ]


# ------------------------------------------------------------------------- workers
def child_env() -> dict[str, str]:
    """The environment of a worker: single-threaded numerics, fixed hashing."""
    env = dict(os.environ)
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        NUMEXPR_NUM_THREADS="1",
        PYTHONHASHSEED="0",
    )
    env.pop("PYTHONPATH", None)
    return env


def _run(cmd: Sequence[str], timeout: float = WORKER_TIMEOUT_S) -> dict[str, Any]:
    """Run a worker from an empty folder; its result line as a dict (SideBySideError if
    it fails, times out or prints none)."""
    folder = tempfile.mkdtemp(prefix="phantom_side_")  # a stray ./gym breaks ray 2.7.1
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=folder,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SideBySideError(f"{' '.join(cmd)} took longer than {timeout:g} s") from None
    except OSError as exc:
        raise SideBySideError(f"{' '.join(cmd)} could not start: {exc}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        raise SideBySideError(
            f"{' '.join(cmd)} exited with status {proc.returncode} and no result:\n{tail}"
        )
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def run_side(
    side: Side, n: int, min_seconds: float, seed: int, count: bool, quiet_wait: float = 0.0
) -> dict[str, Any]:
    """One measurement of ``side`` at size ``n`` (after waiting up to ``quiet_wait`` s
    for the machine to be quiet)."""
    busy_before = wait_quiet(quiet_wait)
    cmd = [side.python, str(side.script), side.kind, str(n), repr(min_seconds), str(seed)]
    result = _run([*cmd, "--count"] if count else cmd)
    result["busy_cores_before"] = busy_before
    return result


# ------------------------------------------------------------------------ comparing
def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of ``values`` (and the values)."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": list(values),
    }


def spread(values: Sequence[float]) -> float:
    """max / min - 1 of positive values."""
    return max(values) / min(values) - 1.0


def compare(
    sides: Sequence[Side],
    n: int,
    pairs: int,
    min_seconds: float,
    seed: int,
    log: Callable[[str], None] = print,
    run: Callable[..., dict[str, Any]] = run_side,
    quiet_wait: float = 0.0,
) -> dict[str, Any]:
    """``pairs`` rounds of every side in turn at size ``n``; ratios vs ``sides[0]``."""
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {side.key: [] for side in sides}
    for pair in range(pairs):
        for side in sides:
            result = run(side, n, min_seconds, seed + pair, count=pair == 0, quiet_wait=quiet_wait)
            runs[side.key].append(result)
            others = result.get("other_cores")
            log(
                f"    {n:>6,} {side.label:<16} round {pair + 1}: "
                f"{result['agent_steps_per_s']:>11,.0f} /s  "
                f"(cpu/wall {result['cpu_over_wall']:.2f}, other CPUs busy "
                f"{'?' if others is None else f'{others:.2f}'})"
            )
    return _row(sides, n, pairs, runs, load_before, os.getloadavg())


def _row(
    sides: Sequence[Side],
    n: int,
    pairs: int,
    runs: Mapping[str, list[dict[str, Any]]],
    load_before: Sequence[float],
    load_after: Sequence[float],
) -> dict[str, Any]:
    """The JSON row of one compared size."""
    base = runs[sides[0].key]
    row: dict[str, Any] = {
        "size": n,
        "pairs": pairs,
        "load_before": list(load_before),
        "load_after": list(load_after),
        "sides": {},
        "ratios": {},
        "cpu_ratios": {},
    }
    for side in sides:
        results = runs[side.key]
        rates = [r["agent_steps_per_s"] for r in results]
        row["sides"][side.key] = {
            "label": side.label,
            "agent_steps_per_s": summary(rates),
            "agent_steps_per_cpu_s": summary([r["agent_steps_per_cpu_s"] for r in results]),
            "other_cores": [r.get("other_cores") for r in results],
            "acting_per_acting_step": statistics.median(
                r["acting_per_acting_step"] for r in results
            ),
            "agents": results[0].get("agents"),
            "strategic": results[0].get("strategic"),
            "messages": (results[0].get("count") or {}).get("messages"),
        }
        if side is not sides[0]:
            row["ratios"][side.key] = summary(
                [o["agent_steps_per_s"] / b["agent_steps_per_s"] for o, b in zip(results, base)]
            )
            row["cpu_ratios"][side.key] = summary(
                [
                    o["agent_steps_per_cpu_s"] / b["agent_steps_per_cpu_s"]
                    for o, b in zip(results, base)
                ]
            )
    row["spread"] = max(
        [spread(r["values"]) for r in row["ratios"].values()]
        + [spread(s["agent_steps_per_s"]["values"]) for s in row["sides"].values()]
    )
    return row


def compare_sizes(
    sides: Sequence[Side],
    sizes: Sequence[int],
    pairs: int,
    min_seconds: float,
    seed: int,
    log: Callable[[str], None] = print,
    quiet_wait: float = 0.0,
) -> list[dict[str, Any]]:
    """:func:`compare` at every size."""
    return [compare(sides, n, pairs, min_seconds, seed, log, quiet_wait=quiet_wait) for n in sizes]


# ----------------------------------------------------------------- script helpers
def add_arguments(parser: Any) -> None:
    """``--phantom-python``, ``--pairs`` and ``--quiet-wait`` on a script's parser."""
    parser.add_argument(
        "--phantom-python",
        default=None,
        metavar="PATH",
        help=f"python of a venv with Phantom 2.2: also measure side by side, alternating "
        f"(default: ${PHANTOM_PY_ENV}; unset: phantomzoo alone)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=MIN_PAIRS,
        help=f"alternating rounds per size when side by side (default and least: {MIN_PAIRS})",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"side by side: before each measurement wait up to this long while other "
        f"programs keep more than {QUIET_CORES} CPUs busy (default: 0, no wait)",
    )


def prepare(args: Any, log: Callable[[str], None] = print) -> tuple[str | None, dict | None]:
    """Check the side-by-side options before anything is measured: the interpreter (None
    when not given) and what it reported about Phantom. ConfigError when unusable."""
    check_pairs(args.pairs)
    check_quiet_wait(args.quiet_wait)
    python = resolve_phantom_python(args.phantom_python)
    if python is None:
        log(f"Side by side: off ({NO_PHANTOM_HINT}); phantomzoo's figures alone.")
        return None, None
    info = check_phantom(python)
    log(f"Side by side with Phantom {info['phantom']} (Python {info['python']}) at {python}")
    return python, info
