"""The side-by-side runner (``benchmarks/phantom_side.py``), its workers and the ratio
goals (``benchmarks/goals.py``).

Phantom itself is not installed in the test venv: the Phantom side is played by a fake
interpreter (a shell script printing a fixed result line), which is enough to test the
alternation, the ratios, the goals and the errors; phantomzoo's worker runs for real
(briefly). The one test that needs Phantom runs only when ``PHANTOM_PY`` is set.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from phantomzoo.errors import ConfigError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def mods():
    """The benchmark modules (benchmarks/ is not a package; its siblings import each other)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {
            name: importlib.import_module(name) for name in ("phantom_side", "side_report", "goals")
        }
    finally:
        sys.path.remove(str(BENCHMARKS))


FAKE_RESULT = {
    "phantom": "fake",
    "python": "3",
    "examples": "/nowhere",
    "agent_steps_per_s": 1000.0,
    "agent_steps_per_cpu_s": 1000.0,
    "cpu_over_wall": 1.0,
    "other_cores": 0.0,
    "acting_per_acting_step": 1.0,
}


def executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def fake_phantom(tmp_path) -> str:
    """A stand-in Phantom interpreter: any arguments, one fixed result line."""
    line = "SIDE_RESULT " + json.dumps(FAKE_RESULT)
    return executable(tmp_path / "fake_python", f"#!/bin/sh\necho '{line}'\n")


# ------------------------------------------------------------------ interpreter / options
def test_no_interpreter_means_no_side_by_side(mods):
    assert mods["phantom_side"].resolve_phantom_python(None, environ={}) is None
    assert mods["phantom_side"].resolve_phantom_python("", environ={"PHANTOM_PY": ""}) is None


def test_the_option_wins_over_the_environment(mods, fake_phantom, tmp_path):
    ps = mods["phantom_side"]
    assert ps.resolve_phantom_python(None, {"PHANTOM_PY": fake_phantom}) == fake_phantom
    other = executable(tmp_path / "other", "#!/bin/sh\n")
    assert ps.resolve_phantom_python(other, {"PHANTOM_PY": fake_phantom}) == other


def test_a_missing_interpreter_is_refused(mods, tmp_path):
    ps = mods["phantom_side"]
    with pytest.raises(ConfigError, match=r"--phantom-python=.*no such file.*venv where Phantom"):
        ps.resolve_phantom_python(str(tmp_path / "nope"), {})
    with pytest.raises(ConfigError, match=r"PHANTOM_PY=.*no such file"):
        ps.resolve_phantom_python(None, {"PHANTOM_PY": str(tmp_path / "nope")})


def test_a_file_that_is_not_executable_is_refused(mods, tmp_path):
    plain = tmp_path / "python"
    plain.write_text("")
    with pytest.raises(ConfigError, match="is not executable"):
        mods["phantom_side"].resolve_phantom_python(str(plain), {})


@pytest.mark.skipif(
    importlib.util.find_spec("phantom") is not None, reason="phantom importable here"
)
def test_an_interpreter_without_phantom_is_refused(mods):
    with pytest.raises(ConfigError, match="cannot import phantom"):
        mods["phantom_side"].check_phantom(sys.executable)


@pytest.mark.parametrize("pairs", [0, 1, 2])
def test_fewer_than_three_pairs_are_refused(mods, pairs):
    with pytest.raises(ConfigError, match="--pairs must be at least 3"):
        mods["phantom_side"].check_pairs(pairs)


@pytest.mark.parametrize("seconds", [-1.0, float("inf"), float("nan")])
def test_a_bad_quiet_wait_is_refused(mods, seconds):
    with pytest.raises(ConfigError, match="--quiet-wait must be a number of seconds >= 0"):
        mods["phantom_side"].check_quiet_wait(seconds)


def test_no_quiet_wait_returns_at_once(mods):
    assert mods["phantom_side"].wait_quiet(0.0) is None


# ------------------------------------------------------------------------------ workers
def test_a_failing_worker_raises_with_its_message(mods, tmp_path):
    ps = mods["phantom_side"]
    bad = executable(tmp_path / "bad", "#!/bin/sh\necho 'it broke' >&2\nexit 3\n")
    with pytest.raises(ps.SideBySideError, match=r"(?s)status 3 and no result.*it broke"):
        ps._run([bad])
    silent = executable(tmp_path / "silent", "#!/bin/sh\necho hello\n")
    with pytest.raises(ps.SideBySideError, match="status 0 and no result"):
        ps._run([silent])


def test_a_worker_that_hangs_is_stopped(mods, tmp_path):
    ps = mods["phantom_side"]
    slow = executable(tmp_path / "slow", "#!/bin/sh\nexec sleep 5\n")
    with pytest.raises(ps.SideBySideError, match="took longer than 0.2 s"):
        ps._run([slow], timeout=0.2)


def pz_worker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / "side_pz_worker.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def result_of(proc: subprocess.CompletedProcess) -> dict:
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("SIDE_RESULT ")][-1]
    return json.loads(line.removeprefix("SIDE_RESULT "))


def test_the_phantomzoo_worker_measures_whole_supply_chain_episodes():
    out = result_of(pz_worker("sc", "2", "0.05", "0", "--count"))
    assert out["system"] == "phantomzoo" and out["api"] == "ParallelEnv"
    assert out["agents"] == 13 and out["strategic"] == 2
    assert out["steps_per_episode"] == 100 and out["acting_per_acting_step"] == 2
    assert out["agent_steps"] == 2 * out["env_steps"] > 0
    assert out["count"]["messages"] == 12 * 2 * 100  # 12 messages per shop and step


@pytest.mark.parametrize("kind", ["ads", "ads_aec"])
def test_the_phantomzoo_worker_drives_the_ads_market_through_both_apis(kind):
    out = result_of(pz_worker(kind, "6", "0.05", "0"))
    assert out["agents"] == 8 and out["strategic"] == 6
    assert out["steps_per_episode"] == 10  # impressions
    assert 0 < out["acting_per_acting_step"] <= 6
    if kind == "ads_aec":
        assert out["api"] == "AEC API" and out["dead_steps"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sc", "x", "1", "0"], "usage: KIND N MIN_SECONDS SEED"),
        (["nope", "1", "1", "0"], "bad arguments"),
        (["sc", "1", "0", "0"], "MIN_SECONDS > 0"),
        (["ads", "4", "1", "0"], "multiple of 3"),
    ],
)
def test_the_phantomzoo_worker_refuses_bad_arguments(args, message):
    proc = pz_worker(*args)
    assert proc.returncode == 2 and message in proc.stderr


@pytest.mark.skipif(not os.environ.get("PHANTOM_PY"), reason="needs PHANTOM_PY (Phantom 2.2)")
def test_the_phantom_worker_measures_the_tutorial_supply_chain(mods):
    ps = mods["phantom_side"]
    python = ps.resolve_phantom_python(None)
    assert ps.check_phantom(python)["phantom"].startswith("2.")
    side = ps.supply_chain_sides(python)[0]
    out = ps.run_side(side, 2, 0.05, 0, count=True)
    assert out["system"] == "phantom" and out["agents"] == 13
    assert out["count"]["messages"] == 12 * 2 * 100


# ---------------------------------------------------------------------------- comparing
def fake_run(rates: dict[str, list[float]], calls: list):
    """A ``run`` for :func:`compare` that records its calls and returns given rates."""

    def run(side, n, min_seconds, seed, count, quiet_wait):
        calls.append((side.key, n, seed, count, quiet_wait))
        rate = rates[side.key][seed]
        return {**FAKE_RESULT, "agent_steps_per_s": rate, "agent_steps_per_cpu_s": rate}

    return run


def test_compare_alternates_the_sides_and_reports_ratios_with_their_range(mods):
    ps = mods["phantom_side"]
    sides = ps.ads_sides("phantom-python")
    rates = {"phantom": [100.0, 100.0, 200.0], "ours": [500, 400, 1200], "ours_aec": [300] * 3}
    calls: list = []
    run = fake_run(rates, calls)
    row = ps.compare(sides, 6, 3, 0.1, 0, log=lambda _: None, run=run, quiet_wait=1.5)
    assert [c[0] for c in calls] == ["phantom", "ours", "ours_aec"] * 3
    assert [c[2] for c in calls] == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # seed + round
    assert [c[3] for c in calls] == [True] * 3 + [False] * 6  # messages counted once
    assert {c[4] for c in calls} == {1.5}
    ratio = row["ratios"]["ours"]
    assert (ratio["median"], ratio["min"], ratio["max"]) == (5.0, 4.0, 6.0)
    assert row["ratios"]["ours_aec"]["values"] == [3.0, 3.0, 1.5]
    assert row["cpu_ratios"]["ours"]["median"] == 5.0
    assert row["spread"] == pytest.approx(2.0)  # 1200 / 400 - 1
    sr = mods["side_report"]
    lines = sr.table_rows([row])
    assert [line["api"] for line in lines] == ["acting protocol", "AEC API"]
    assert lines[0]["ratio_range"] == "4.00-6.00" and lines[0]["phantom"] == 100.0
    assert any("rounds disagree by 200%" in note for note in sr.notes([row]))


# -------------------------------------------------------------------------------- goals
def side_row(size: int, ratios: dict[str, list[float]]) -> dict:
    return {
        "size": size,
        "ratios": {
            k: {"median": sorted(v)[1], "min": min(v), "max": max(v), "values": v}
            for k, v in ratios.items()
        },
    }


def test_speed_goals_are_skipped_without_a_same_run_measurement(mods):
    gl = mods["goals"]
    rows = [{"shops": 1, "us_per_shop_step": 10.0}, {"shops": 1000, "us_per_shop_step": 11.0}]
    checks = gl.check_supply_chain_goals(rows)
    assert [c["status"] for c in checks] == ["SKIP", "SKIP", "PASS"]
    assert "--phantom-python" in checks[0]["detail"] and checks[0]["measured"] is None


def test_speed_goals_compare_the_median_ratio_of_the_same_run(mods):
    gl = mods["goals"]
    side = [side_row(6, {"ours": [5.2, 5.5, 4.0], "ours_aec": [4.9, 4.0, 6.0]})]
    checks = gl.check_ads_goals([{"advertisers": 6, "us_per_adv_step": 1.0}], side)
    by_name = {c["name"]: c for c in checks}
    assert by_name["5x Phantom 2.2 at 6 advertisers"]["status"] == "PASS"
    aec = by_name["5x Phantom 2.2 at 6 advertisers (AEC API)"]
    assert aec["status"] == "MISS" and aec["measured"] == 4.9
    assert "4.90x [4.00-6.00]" in aec["detail"]
    assert by_name["10x Phantom 2.2 at 1,200 advertisers"]["status"] == "SKIP"
    assert "not measured side by side" in by_name["10x Phantom 2.2 at 1,200 advertisers"]["detail"]


def test_no_benchmark_carries_stored_phantom_figures():
    for path in BENCHMARKS.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("PHANTOM_REFERENCE", "PHANTOM_2_2", "11_600", "27_000", "(old)"):
            assert banned not in text, (path.name, banned)
