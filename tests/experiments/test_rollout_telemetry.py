"""``ph.rollout(..., telemetry=dir)``: one telemetry log per episode, in process or on
workers, the same records either way."""

from __future__ import annotations

import pytest

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import ConfigError
from phantomzoo.ranges import ListRange

HEURISTIC = {"SHOP": (OrderUpToPolicy, {"level": 25})}


def play(directory, **kwargs):
    return ph.rollout(
        "supply_chain_v0",
        env_config={"num_steps": 5, "cost_of_carry": ListRange([0.1, 0.5])},
        custom_policy_mapping=HEURISTIC,
        num_repeats=2,
        show_progress_bar=False,
        telemetry=directory,
        **kwargs,
    )


def test_every_episode_writes_its_own_log_tagged_with_its_configuration(tmp_path):
    play(tmp_path / "logs")
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == [f"episode-{c:05d}-{r:05d}.jsonl" for c in (0, 1) for r in (0, 1)]
    records = ph.telemetry.read_records(tmp_path / "logs")
    steps = [r for r in records if r["kind"] == "step"]
    assert len(steps) == 4 * 5
    assert {(r["config_index"], r["repeat"]) for r in steps} == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert any(r["kind"] == "message" for r in records)


def test_workers_write_the_same_records(tmp_path):
    play(tmp_path / "here")
    play(tmp_path / "there", num_workers=2, backend="processes", batch_size=1)

    def strip(records):
        return sorted((repr(sorted(r.items())) for r in records if r["kind"] != "end"), key=str)

    here = ph.telemetry.read_records(tmp_path / "here")
    there = ph.telemetry.read_records(tmp_path / "there")
    assert len(here) == len(there) and strip(here) == strip(there)


def test_bad_telemetry_arguments_are_refused_before_any_episode(tmp_path):
    with pytest.raises(ConfigError, match="telemetry_options needs telemetry=<directory>"):
        ph.rollout("supply_chain_v0", custom_policy_mapping=HEURISTIC,
                   telemetry_options={"messages": False}, show_progress_bar=False)  # fmt: skip
    with pytest.raises(ConfigError, match="telemetry must be a directory path"):
        play(3)
    with pytest.raises(ConfigError):
        play(tmp_path / "logs", telemetry_options={"layout": "nonsense"})
    assert not (tmp_path / "logs").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError):
        play(tmp_path / "file")
