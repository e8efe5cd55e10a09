"""The command line refuses bad input in one line, before any training time is spent.

Every user error must answer with exactly one stderr line starting
``phantomzoo: error:`` and exit status 2, and "Traceback" nowhere. Nothing here
trains: the workflow functions are replaced by ones that fail the test if a refused
command reaches them (see ``cli_helpers.no_training``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from models import PingEnv

from phantomzoo import registry
from phantomzoo.cli import preflight as cli_preflight
from phantomzoo.cli import workflow
from phantomzoo.cli.commands import main
from phantomzoo.errors import ConfigError

# Fixtures a_file, run_dir, fragile, no_training and error_line.
pytest_plugins = ["cli_helpers"]

SC = "supply_chain_v0"


# --------------------------------------------------------------------------- top level
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], "required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--bogus", "list"], "unrecognized arguments: --bogus"),
        (["list", "extra"], "unrecognized arguments: extra"),
        (["list", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_top_level_and_list_mistakes(argv, expected, capsys, error_line):
    assert expected in error_line(capsys, 2, argv)


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"]])
def test_help_and_version_exit_zero(argv, capsys):
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "phantomzoo" in captured.out and captured.err == ""


def test_help_documents_the_new_flags(capsys):
    main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--resume", "--overwrite", "--checkpoint-seconds", "--trust", "--allow"):
        assert flag in out
    main(["rollout", "--help"])
    assert "--trust" in capsys.readouterr().out


# --------------------------------------------------------------------------- train values
@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--seconds", "inf", "finite number of seconds"),
        ("--seconds", "nan", "finite number of seconds"),
        ("--seconds", "0", "finite number of seconds"),
        ("--seconds", "-5", "finite number of seconds"),
        ("--seconds", "abc", "finite number of seconds"),
        ("--seconds", "1e100", "finite number of seconds"),
        ("--timesteps", "-1", "number of agent-steps"),
        ("--timesteps", "0", "number of agent-steps"),
        ("--timesteps", "2.5", "number of agent-steps"),
        ("--timesteps", "1e30", "number of agent-steps"),
        ("--timesteps", "99999999999999999999999", "number of agent-steps"),
        ("--seed", "-1", "a seed from 0"),
        ("--seed", "abc", "a seed from 0"),
        ("--seed", str(2**32), "a seed from 0"),
        ("--checkpoint-seconds", "inf", "finite number of seconds"),
        ("--checkpoint-seconds", "0", "finite number of seconds"),
    ],
)
def test_train_refuses_bad_numbers(flag, value, expected, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", SC, flag, value])
    assert f"argument {flag}" in line and expected in line and repr(value) in line


def test_train_accepts_integers_written_as_floats(capsys, monkeypatch, tmp_path, error_line):
    seen = {}

    def fake_train_env(env_id, backend, config, timesteps, *args, **kwargs):
        seen["timesteps"] = timesteps
        raise ConfigError("stop here")

    monkeypatch.setattr(workflow, "train_env", fake_train_env)
    error_line(capsys, 2, ["train", SC, "--timesteps", "1e3", "--out", str(tmp_path / "r")])
    assert seen["timesteps"] == 1000


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train"], "train needs ENV"),
        (["train", "no_such_env"], "no environment registered as 'no_such_env'"),
        (["train", "supply_chian_v0"], "did you mean 'supply_chain_v0'"),
        (["train", SC, "--backend", "nosuch"], "unknown backend 'nosuch'"),
        (["train", SC, "--config", "oops"], "expected KEY=VALUE"),
        (["train", SC, "--config", "=3"], "expected KEY=VALUE"),
        (["train", SC, "--config", "num_shop=2"], "did you mean 'num_shops'"),
        (["train", SC, "--config", "cost_of_carry=abc"], "cost_of_carry"),
        (["train", SC, "--config", "cost_of_carry=NaN"], "cost_of_carry"),
        (["train", SC, "--trust", "--allow", "x"], "apply to --resume only"),
        (["train", SC, "--allow", "x"], "apply to --resume only"),
    ],
)
def test_train_refuses_bad_env_config_and_flags(argv, expected, capsys, no_training, error_line):
    assert expected.lower() in error_line(capsys, 2, argv).lower()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["nosuch=1"], "nosuch"),
        (["oops"], "expected KEY=VALUE"),
        (["num_envs=abc"], "num_envs"),
        (["learning_rate=-1"], "learning_rate"),
    ],
)
def test_train_refuses_bad_backend_options_in_one_line(
    options, expected, capsys, tmp_path, error_line
):
    pytest.importorskip("torch")
    out = tmp_path / "new" / "run"
    argv = ["train", SC, "--timesteps", "64", "--quiet", "--out", str(out), "--option"]
    assert expected in error_line(capsys, 2, argv + options)
    assert not (tmp_path / "new").exists()  # a failed command leaves no empty directory


def test_a_constructor_type_error_names_the_key(fragile, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", fragile, "--config", "rate=abc", "label=ok"])
    assert "fragile_v0 rejects --config rate='abc'" in line
    assert "ValueError" in line and "label" not in line


def test_a_bad_combination_names_every_key(monkeypatch, capsys, no_training, error_line):
    def picky(a: int = 1, b: int = 1):
        if a + b > 2:
            raise ValueError("a + b must be at most 2")
        return PingEnv()

    monkeypatch.setitem(registry._REGISTRY, "picky_v0", registry.EnvSpec("picky_v0", picky))
    line = error_line(capsys, 2, ["train", "picky_v0", "--config", "a=2", "b=2"])
    assert "a=2, b=2" in line and "a + b must be at most 2" in line


def test_check_env_config_raises_config_error(fragile):
    with pytest.raises(ConfigError, match=r"fragile_v0 rejects --config rate=\[1\]: TypeError"):
        cli_preflight.check_env_config(fragile, {"rate": [1]})
    cli_preflight.check_env_config(fragile, {"rate": 3})  # fine


def test_check_env_config_does_not_blame_keys_for_a_broken_default(monkeypatch):
    def broken(rate: float = 1.0):
        raise ValueError("broken model")

    monkeypatch.setitem(registry._REGISTRY, "broken_v0", registry.EnvSpec("broken_v0", broken))
    cli_preflight.check_env_config("broken_v0", {"rate": 2.0})  # training will report it


@pytest.mark.parametrize(
    "argv",
    [
        ["train", SC, "--out", ""],
        ["train", "--resume", ""],
        ["rollout", ""],
        ["rollout", "somewhere", "--out", "  "],
        ["bench", SC, "--out", ""],
        ["train", SC, "--out", "bad\0name"],
    ],
)
def test_empty_or_nul_paths_are_refused(argv, capsys, no_training, error_line):
    line = error_line(capsys, 2, argv)
    assert "empty string" in line or "NUL byte" in line


def test_an_empty_backend_name_is_refused(capsys, no_training, error_line):
    assert "unknown backend ''" in error_line(capsys, 2, ["train", SC, "--backend", ""])


# --------------------------------------------------------------------------- train paths
def test_train_out_an_existing_file(a_file, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", SC, "--out", str(a_file)])
    assert "is a file, not a directory" in line and str(a_file) in line


def test_train_out_under_a_file(a_file, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", SC, "--out", str(a_file / "run")])
    assert f"{str(a_file)!r} is a file, not a directory" in line


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")
def test_train_out_not_creatable(capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", SC, "--out", "/proc/phantomzoo-x/run"])
    assert "cannot create results directory (--out) '/proc/phantomzoo-x/run'" in line


def test_train_out_holding_a_run_needs_overwrite(run_dir, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", SC, "--out", str(run_dir)])
    assert "already holds a training run" in line and "--overwrite" in line
    assert "--resume" in line


def test_train_out_holding_foreign_files(tmp_path, capsys, no_training, error_line):
    (tmp_path / "thesis.tex").write_text("precious")
    line = error_line(capsys, 2, ["train", SC, "--out", str(tmp_path)])
    assert "not a phantomzoo run (thesis.tex)" in line
    line = error_line(capsys, 2, ["train", SC, "--out", str(tmp_path), "--overwrite"])
    assert "not a phantomzoo run (thesis.tex)" in line and "nothing was deleted" in line
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_train_preflight_leaves_nothing_behind(tmp_path, monkeypatch, capsys, error_line):
    def fail(*args, **kwargs):
        raise ConfigError("stopped after the preflight")

    monkeypatch.setattr(workflow, "train_env", fail)
    out = tmp_path / "a" / "b" / "run"
    assert "stopped after" in error_line(capsys, 2, ["train", SC, "--out", str(out)])
    assert list(tmp_path.iterdir()) == []


def test_train_passes_the_new_flags_to_the_workflow(tmp_path, monkeypatch, capsys, error_line):
    seen = {}

    def fake_train_env(*args, **kwargs):
        seen.update(kwargs)
        raise ConfigError("stop")

    monkeypatch.setattr(workflow, "train_env", fake_train_env)
    argv = ["train", SC, "--out", str(tmp_path / "r"), "--overwrite", "--checkpoint-seconds", "7"]
    error_line(capsys, 2, argv)
    assert seen["overwrite"] is True and seen["checkpoint_seconds"] == 7.0


# --------------------------------------------------------------------------- train --resume
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--config", "num_shops=2"], "--config cannot be combined with --resume"),
        (["--option", "num_envs=2"], "--option cannot be combined with --resume"),
        (["--backend", "sb3"], "--backend cannot be combined with --resume"),
        (["--seed", "3"], "--seed cannot be combined with --resume"),
        (["--overwrite"], "--overwrite cannot be combined with --resume"),
        (["--allow", "my_pkg"], "--allow has no effect without --trust"),
        (["--trust"], "--trust needs --allow"),
    ],
)
def test_resume_refuses_conflicting_flags(
    extra, expected, run_dir, capsys, no_training, error_line
):
    assert expected in error_line(capsys, 2, ["train", "--resume", str(run_dir), *extra])


def test_resume_refuses_bad_directories(tmp_path, a_file, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", "--resume", str(tmp_path / "missing")])
    assert "does not exist" in line
    line = error_line(capsys, 2, ["train", "--resume", str(a_file)])
    assert "is a file, not a results directory" in line


def test_resume_env_must_match_the_run(run_dir, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["train", "type_toy_v0", "--resume", str(run_dir)])
    assert "'type_toy_v0' does not match" in line and "'supply_chain_v0'" in line


def test_resume_calls_the_workflow(run_dir, monkeypatch, capsys, error_line):
    seen = {}

    def fake_resume(directory, **kwargs):
        seen.update(kwargs, directory=directory)
        raise ConfigError("stop")

    monkeypatch.setattr(workflow, "resume_training", fake_resume, raising=False)
    argv = ["train", SC, "--resume", str(run_dir), "--seconds", "5", "--trust", "--allow", "pk"]
    error_line(capsys, 2, argv + ["--checkpoint-seconds", "9", "--quiet"])
    assert seen["directory"] == run_dir and seen["seconds"] == 5.0
    assert seen["timesteps"] is None and seen["trust"] is True and seen["allow"] == ("pk",)
    assert seen["checkpoint_seconds"] == 9.0 and seen["progress"] is False


# --------------------------------------------------------------------------- rollout
def test_rollout_refuses_bad_directories(tmp_path, a_file, capsys, no_training, error_line):
    assert "does not exist" in error_line(capsys, 2, ["rollout", str(tmp_path / "missing")])
    line = error_line(capsys, 2, ["rollout", str(a_file)])
    assert "is a file, not a results directory" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no policies/manifest.json" in error_line(capsys, 2, ["rollout", str(empty)])


def test_rollout_out_must_be_a_writable_file(
    run_dir, tmp_path, a_file, capsys, no_training, error_line
):
    line = error_line(capsys, 2, ["rollout", str(run_dir), "--out", str(tmp_path)])
    assert "is a directory; give a file path such as" in line
    line = error_line(capsys, 2, ["rollout", str(run_dir), "--out", str(a_file / "s.jsonl")])
    assert "is a file, not a directory" in line


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--episodes", "0"], "argument --episodes"),
        (["--episodes", "1e9"], "argument --episodes"),
        (["--seed", "-1"], "argument --seed"),
        (["--allow", "my_pkg"], "--allow has no effect without --trust"),
        (["--trust"], "--trust needs --allow"),
    ],
)
def test_rollout_refuses_bad_values(extra, expected, run_dir, capsys, no_training, error_line):
    assert expected in error_line(capsys, 2, ["rollout", str(run_dir), *extra])


@pytest.mark.parametrize(
    "manifest", ["not json {", "[]", '{"policies": 3}', json.dumps({"version": 99})]
)
def test_rollout_of_a_tampered_manifest_is_one_line(manifest, run_dir, capsys, error_line):
    (run_dir / "policies" / "manifest.json").write_text(manifest)
    line = error_line(capsys, 2, ["rollout", str(run_dir)])
    assert "manifest" in line.lower()


def test_rollout_never_runs_a_command_named_by_the_manifest(tmp_path, capsys, error_line):
    marker = tmp_path / "marker"
    policies = tmp_path / "run" / "policies"
    policies.mkdir(parents=True)
    manifest = {
        "env": {"kind": "import", "name": "os:system", "config": {"command": f"touch {marker}"}},
        "policies": {},
        "agents": {},
    }
    (policies / "manifest.json").write_text(json.dumps(manifest))
    error_line(capsys, 2, ["rollout", str(tmp_path / "run")])
    assert not marker.exists()


def test_rollout_passes_trust_to_the_workflow(run_dir, monkeypatch, capsys, error_line):
    seen = {}

    def fake_rollout(directory, episodes, seed, out, **kwargs):
        seen.update(kwargs)
        raise ConfigError("stop")

    monkeypatch.setattr(workflow, "rollout_results", fake_rollout)
    error_line(capsys, 2, ["rollout", str(run_dir), "--trust", "--allow", "a", "b.c"])
    assert seen == {"trust": True, "allow": ("a", "b.c")}


# --------------------------------------------------------------------------- bench
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--seconds", "inf"], "argument --seconds"),
        (["--timesteps", "-1"], "argument --timesteps"),
        (["--episodes", "0"], "argument --episodes"),
        (["--seed", "-1"], "argument --seed"),
        (["--shops", "0,a"], "argument --shops"),
        (["--shops", "1,,10"], "argument --shops"),
        (["--shops", "1000000"], "argument --shops"),
        (["--min-seconds", "inf"], "argument --min-seconds"),
        (["--backends", "nosuch"], "unknown backend(s) ['nosuch']"),
        (["--backends", "cleanrl,nosuch"], "unknown backend(s) ['nosuch']"),
        (["--backends", "cleanrl,cleanrl"], "named twice"),
        (["--backends", ","], "expected comma-separated backend names"),
        (["--config", "cost_of_carry=abc"], "cost_of_carry"),
        (["--config", "num_shop=2"], "did you mean 'num_shops'"),
    ],
)
def test_bench_refuses_bad_values(extra, expected, capsys, no_training, tmp_path, error_line):
    argv = ["bench", SC, "--out", str(tmp_path / "b"), *extra]
    assert expected in error_line(capsys, 2, argv)
    assert not (tmp_path / "b").exists()


def test_bench_refuses_bad_out_paths(a_file, tmp_path, capsys, no_training, error_line):
    line = error_line(capsys, 2, ["bench", SC, "--out", str(a_file)])
    assert "bench output directory (--out)" in line and "is a file" in line
    line = error_line(capsys, 2, ["bench", SC, "--out", str(a_file / "x")])
    assert "is a file, not a directory" in line
    (tmp_path / "old" / "cleanrl").mkdir(parents=True)
    (tmp_path / "old" / "cleanrl" / "notes.txt").write_text("mine")
    line = error_line(capsys, 2, ["bench", SC, "--out", str(tmp_path / "old")])
    assert "not a phantomzoo run (notes.txt)" in line


def test_bench_may_replace_its_own_previous_runs(tmp_path, monkeypatch, capsys, error_line):
    def stop(*args, **kwargs):
        raise ConfigError("reached bench")

    monkeypatch.setattr(workflow, "bench", stop)
    (tmp_path / "old" / "cleanrl").mkdir(parents=True)
    (tmp_path / "old" / "cleanrl" / "training.json").write_text("{}")
    argv = ["bench", SC, "--out", str(tmp_path / "old"), "--no-throughput"]
    assert "reached bench" in error_line(capsys, 2, argv)


def test_bench_unknown_env(capsys, no_training, error_line):
    assert "did you mean" in error_line(capsys, 2, ["bench", "supply_chian_v0"]).lower()
