"""PettingZoo's ``performance_benchmark`` on every registered env's AEC form.

The benchmark plays random turns until its clock says 5 s have passed and prints turns
per second. Its clock is sped up here (``SPEED`` times real time) so each env costs
5 / SPEED s of CI time; the printed rates are scaled back to real turns per second and
must clear a floor far below what the envs do on this machine, so a regression that
makes an env orders of magnitude slower (or a crash inside the loop) fails the test.
The benchmark samples legal actions only from masks in Dict observations, so a masked
env runs in its Dict-observation form.
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
from consumer_envs import DICT_MASKS, REGISTERED, aec_env, is_masked
from pettingzoo.test import performance_benchmark

from phantomzoo.errors import ActionError

SPEED = 25  # the benchmark's 5 s last 0.2 s
MIN_TURNS_PER_SECOND = 500  # real agent turns per second, small configurations


@pytest.fixture
def fast_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark module's ``time.time`` running ``SPEED`` times faster."""
    start = time.time()
    clock = SimpleNamespace(time=lambda: start + (time.time() - start) * SPEED)
    monkeypatch.setattr(sys.modules["pettingzoo.test.performance_benchmark"], "time", clock)


@pytest.mark.parametrize("name", REGISTERED)
def test_pettingzoo_performance_benchmark(name, fast_clock, capsys: Any):
    env = aec_env(name, **DICT_MASKS.get(name, {}))  # it reads masks from Dict obs only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        performance_benchmark(env)
    printed = capsys.readouterr().out
    match = re.search(r"([\d.]+) turns per second", printed)
    assert match, printed
    real_rate = float(match.group(1)) * SPEED
    assert real_rate > MIN_TURNS_PER_SECOND, f"{name}: {real_rate:.0f} turns/s"
    print(f"{name}: {real_rate:.0f} turns/s")


@pytest.mark.parametrize("name", [n for n in REGISTERED if is_masked(n)])
def test_benchmark_ignores_masks_in_infos_and_meets_the_action_error(name, fast_clock):
    with warnings.catch_warnings(), pytest.raises(ActionError, match="action mask rules it out"):
        warnings.simplefilter("ignore")
        performance_benchmark(aec_env(name))
