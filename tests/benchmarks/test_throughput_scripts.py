"""``benchmarks/throughput.py`` and ``benchmarks/ads_throughput.py`` end to end, briefly:
without a Phantom interpreter (phantomzoo's figures and the floor ratio only, speed goals
SKIP), with a stand-in Phantom interpreter (the side-by-side table and same-run ratio
goals), and their argument errors (refused before anything is measured).
"""

from __future__ import annotations

import importlib
import json
import stat
import sys
from pathlib import Path

import pytest

from phantomzoo.errors import ConfigError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
QUICK_SC = ["--shops", "1", "--min-seconds", "0.05", "--repeats", "1"]
QUICK_ADS = ["--advertisers", "6", "--min-seconds", "0.05", "--repeats", "1", "--episodes", "1"]


@pytest.fixture(scope="module")
def scripts():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {name: importlib.import_module(name) for name in ("throughput", "ads_throughput")}
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture
def fake_phantom(tmp_path) -> str:
    """A stand-in Phantom interpreter: whatever it is asked, 1,000 agent-steps/s."""
    result = {
        "phantom": "fake",
        "python": "3",
        "agent_steps_per_s": 1000.0,
        "agent_steps_per_cpu_s": 1000.0,
        "cpu_over_wall": 1.0,
        "other_cores": 0.0,
        "acting_per_acting_step": 1.0,
    }
    path = tmp_path / "fake_python"
    path.write_text(f"#!/bin/sh\necho 'SIDE_RESULT {json.dumps(result)}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize(
    ("script", "quick", "sizes"),
    [("throughput", QUICK_SC, 2), ("ads_throughput", QUICK_ADS, 4)],
)
def test_without_phantom_only_phantomzoo_figures_are_reported(
    scripts, script, quick, sizes, tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("PHANTOM_PY", raising=False)
    out = tmp_path / "r.json"
    assert scripts[script].main([*quick, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Side by side: off" in text and "ours/floor" in text
    assert "Phantom /s" not in text and "(old)" not in text
    report = json.loads(out.read_text())
    assert report["side_by_side"] is None
    speed = [g for g in report["goals"] if "Phantom" in g["name"]]
    assert len(speed) == sizes and {g["status"] for g in speed} == {"SKIP"}
    assert not any("reference" in key for key in report)
    assert all("phantom" not in key for row in report["rows"] for key in row)


def test_the_supply_chain_is_compared_side_by_side_with_a_phantom_interpreter(
    scripts, fake_phantom, tmp_path, capsys
):
    out = tmp_path / "r.json"
    argv = [*QUICK_SC, "--out", str(out), "--phantom-python", fake_phantom]
    assert scripts["throughput"].main(argv) == 0
    text = capsys.readouterr().out
    assert "phantomzoo / Phantom 2.2, supply chain" in text and "ratio min-max" in text
    report = json.loads(out.read_text())
    (row,) = report["side_by_side"]["rows"]
    assert row["size"] == 1 and len(row["ratios"]["ours"]["values"]) == 3
    assert row["sides"]["ours"]["messages"] == 1200
    goals = {g["name"]: g for g in report["goals"]}
    one = goals["5x Phantom 2.2 at 1 shop"]
    assert one["status"] == "PASS" and one["measured"] == row["ratios"]["ours"]["median"]
    assert goals["10x Phantom 2.2 at 1,000 shops"]["status"] == "SKIP"


def test_the_ads_market_is_compared_through_both_apis(scripts, fake_phantom, tmp_path):
    out = tmp_path / "r.json"
    argv = [*QUICK_ADS, "--out", str(out), "--phantom-python", fake_phantom]
    assert scripts["ads_throughput"].main(argv) == 0
    report = json.loads(out.read_text())
    (row,) = report["side_by_side"]["rows"]
    assert set(row["ratios"]) == {"ours", "ours_aec"}
    assert all(len(r["values"]) == 3 for r in row["ratios"].values())
    statuses = {g["name"]: g["status"] for g in report["goals"]}
    assert statuses["5x Phantom 2.2 at 6 advertisers (AEC API)"] in ("PASS", "MISS")
    assert statuses["10x Phantom 2.2 at 1,200 advertisers (AEC API)"] == "SKIP"


@pytest.mark.parametrize("script", ["throughput", "ads_throughput"])
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--phantom-python", "/no/such/python"], "no such file"),
        (["--pairs", "2"], "--pairs must be at least 3"),
        (["--quiet-wait", "-1"], "--quiet-wait must be a number of seconds"),
    ],
)
def test_bad_side_by_side_options_are_refused_before_measuring(
    scripts, script, extra, message, fake_phantom, tmp_path, capsys
):
    argv = [*extra, "--out", str(tmp_path / "r.json")]
    if "--pairs" in extra:
        argv += ["--phantom-python", fake_phantom]
    with pytest.raises(ConfigError, match=message):
        scripts[script].main(argv)
    assert "env-steps/s" not in capsys.readouterr().out  # nothing was measured
    assert not (tmp_path / "r.json").exists()


def test_phantom_python_is_read_from_the_environment(scripts, tmp_path, monkeypatch):
    monkeypatch.setenv("PHANTOM_PY", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="PHANTOM_PY=.*no such file"):
        scripts["throughput"].main(["--out", str(tmp_path / "r.json")])
