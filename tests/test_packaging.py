"""Packaging contracts: a light core import, and a wheel that holds every subpackage."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "ray", "stable_baselines3", "supersuit", "tensorboard"]


def test_import_phantomzoo_pulls_in_no_trainer_library():
    code = (
        "import json, sys, phantomzoo, phantomzoo.envs.supply_chain, phantomzoo.backends; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_core_sources_never_import_trainer_libraries():
    for path in (ROOT / "src" / "phantomzoo").rglob("*.py"):
        text = path.read_text()
        for name in HEAVY:
            assert f"import {name}" not in text and f"from {name}" not in text, (path, name)


@pytest.mark.slow
def test_wheel_contains_backends_and_envs(tmp_path):
    # Build from a copy, so that the test suite never writes into the checkout (build/).
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy2(ROOT / name, source / name)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("src", "backends", "envs"):
        shutil.copytree(ROOT / folder, source / folder, ignore=junk)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(source),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("phantomzoo-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package_dir in ("src/phantomzoo", "backends", "envs"):
        for source in (ROOT / package_dir).rglob("*.py"):
            relative = source.relative_to(ROOT / package_dir).as_posix()
            prefix = {
                "src/phantomzoo": "phantomzoo",
                "backends": "phantomzoo/backends",
                "envs": "phantomzoo/envs",
            }[package_dir]
            assert f"{prefix}/{relative}" in names, f"{prefix}/{relative} missing from the wheel"
    assert "phantomzoo/py.typed" in names
