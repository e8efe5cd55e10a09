"""The command line's failure reports: internal errors, --debug, interrupts, the probes.

An unexpected error answers with one ``phantomzoo: internal error:`` line naming the
file its traceback was written to (exit 1); an interrupt with one
``phantomzoo: interrupted`` line (exit 130). Also: the preflight helpers on their own,
the ``python -m phantomzoo`` entry point, and a few real (tiny) runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from phantomzoo.cli import commands as cli
from phantomzoo.cli import preflight as cli_preflight
from phantomzoo.cli import workflow
from phantomzoo.cli.commands import main
from phantomzoo.errors import ConfigError, ManifestError, TrainingInterrupted

# Fixtures a_file, run_dir, fragile, no_training and error_line.
pytest_plugins = ["cli_helpers"]

SC = "supply_chain_v0"


# --------------------------------------------------------------------------- failures
@pytest.fixture
def boom(monkeypatch, tmp_path):
    """Make ``phantomzoo list`` fail unexpectedly; tracebacks go to ``tmp_path``."""

    def explode(args):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setitem(cli.COMMANDS, "list", explode)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_an_internal_error_is_one_line_and_writes_the_traceback(boom, capsys):
    assert main(["list"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err + captured.out
    line = lines[0]
    assert line.startswith("phantomzoo: internal error: RuntimeError: kaboom second line")
    assert "rerun with --debug to see it" in line
    files = list(boom.glob("phantomzoo-traceback-*.txt"))
    assert len(files) == 1 and str(files[0]) in line
    text = files[0].read_text()
    assert "Traceback (most recent call last)" in text and "kaboom" in text


def test_an_unwritable_traceback_file_is_said(boom, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(boom / "missing" / "dir"))
    assert main(["list"]) == 1
    line = capsys.readouterr().err.strip()
    assert "the full traceback could not be written to" in line and "\n" not in line


@pytest.mark.parametrize("argv", [["--debug", "list"], ["list", "--debug"]])
def test_debug_shows_the_traceback(argv, boom, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "kaboom" in err
    assert err.strip().splitlines()[-1].startswith("phantomzoo: internal error:")


def test_debug_shows_the_traceback_of_a_user_error_too(capsys, no_training):
    assert main(["train", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("phantomzoo: error:")


def test_keyboard_interrupt_is_one_line_exit_130(monkeypatch, capsys):
    def interrupt(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "list", interrupt)
    assert main(["list"]) == 130
    assert capsys.readouterr().err.strip() == "phantomzoo: interrupted"


def test_training_interrupted_says_how_to_resume(monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise TrainingInterrupted("SIGTERM: saved policies and a checkpoint", tmp_path, "SIGTERM")

    monkeypatch.setattr(workflow, "train_env", interrupted)
    assert main(["train", SC, "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("phantomzoo: interrupted: SIGTERM: saved policies") and "\n" not in err
    assert f"phantomzoo train --resume {tmp_path}" in err


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (PermissionError(13, "Permission denied", "/x/y"), "cannot access '/x/y': Permission"),
        (IsADirectoryError(21, "Is a directory", "/x/d"), "cannot access '/x/d': Is a directory"),
        (OSError(30, "Read-only file system", "/ro/f"), "cannot write '/ro/f': Read-only"),
        (OSError(28, "No space left on device", "/full"), "cannot write '/full': No space"),
    ],
)
def test_os_errors_about_a_path_are_user_errors(exc, expected, monkeypatch, capsys, error_line):
    def fail(args):
        raise exc

    monkeypatch.setitem(cli.COMMANDS, "list", fail)
    assert expected in error_line(capsys, 2, ["list"])


def test_an_os_error_without_a_path_is_internal(monkeypatch, capsys, tmp_path):
    def fail(args):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setitem(cli.COMMANDS, "list", fail)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["list"]) == 1
    assert "internal error: OSError" in capsys.readouterr().err


def test_a_multi_line_phantomzoo_error_becomes_one_line(monkeypatch, capsys, error_line):
    def fail(args):
        raise ManifestError("line one\n  line two")

    monkeypatch.setitem(cli.COMMANDS, "list", fail)
    assert error_line(capsys, 2, ["list"]) == "phantomzoo: error: line one line two"


# --------------------------------------------------------------------------- preflight
def test_output_dir_checks(tmp_path, a_file):
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        cli_preflight.output_dir(a_file)
    with pytest.raises(ConfigError, match=r"cannot create output directory .*a_file.txt' is a"):
        cli_preflight.output_dir(a_file / "sub")
    target = tmp_path / "new" / "deeper"
    assert cli_preflight.output_dir(target) == target
    assert not (tmp_path / "new").exists()  # the probe leaves nothing behind


def test_output_file_checks(tmp_path, a_file):
    with pytest.raises(ConfigError, match="is a directory; give a file path such as"):
        cli_preflight.output_file(tmp_path)
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        cli_preflight.output_file(a_file / "x.jsonl")
    assert cli_preflight.output_file(a_file) == a_file
    assert a_file.read_text() == "not a directory\n"  # the probe did not touch it
    new = tmp_path / "n" / "steps.jsonl"
    cli_preflight.output_file(new)
    assert not (tmp_path / "n").exists()


def test_results_dir_checks(tmp_path, a_file, run_dir):
    with pytest.raises(ConfigError, match="does not exist"):
        cli_preflight.results_dir(tmp_path / "nope")
    with pytest.raises(ConfigError, match="is a file, not a results directory"):
        cli_preflight.results_dir(a_file)
    with pytest.raises(ManifestError, match="holds no policies/manifest.json"):
        cli_preflight.results_dir(tmp_path)
    assert cli_preflight.results_dir(run_dir) == run_dir


def test_leave_no_trace_removes_only_new_empty_directories(tmp_path):
    keep = tmp_path / "keep"
    keep.mkdir()
    with pytest.raises(RuntimeError), cli_preflight.leave_no_trace(keep / "a" / "b"):
        (keep / "a" / "b").mkdir(parents=True)
        raise RuntimeError
    assert keep.is_dir() and not (keep / "a").exists()
    with pytest.raises(RuntimeError), cli_preflight.leave_no_trace(keep / "c"):
        (keep / "c").mkdir()
        (keep / "c" / "saved.txt").write_text("x")
        raise RuntimeError
    assert (keep / "c" / "saved.txt").exists()


# --------------------------------------------------------------------------- entry point
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", SC, "--seconds", "inf"], "argument --seconds"),
        (["rollout", "/nonexistent-phantomzoo-dir"], "does not exist"),
    ],
)
def test_python_dash_m_gives_one_line(argv, expected):
    result = subprocess.run(
        [sys.executable, "-m", "phantomzoo", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phantomzoo: error: ") and expected in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_python_dash_m_out_is_a_file(a_file):
    result = subprocess.run(
        [sys.executable, "-m", "phantomzoo", "bench", SC, "--out", str(a_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "is a file" in result.stderr


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_during_training_saves_and_exits_130(signal_name, tmp_path):
    """A real run, stopped by a signal: one ``interrupted`` line, status 130, saved policies."""
    import signal
    import time

    pytest.importorskip("torch")
    out = tmp_path / "run"
    argv = ["train", SC, "--seconds", "120", "--quiet", "--out", str(out)]
    argv += ["--option", "num_envs=1", "num_steps=8"]
    process = subprocess.Popen(
        [sys.executable, "-m", "phantomzoo", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not (out / "training.json").exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        time.sleep(1.0)  # some training steps
        process.send_signal(getattr(signal, signal_name))
        stdout, stderr = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phantomzoo: interrupted: "), stderr
    assert signal_name in lines[0] and f"phantomzoo train --resume {out}" in lines[0]
    assert "Traceback" not in stdout + stderr
    assert (out / "policies" / "manifest.json").is_file()


def test_a_full_disk_without_a_path_is_a_user_error(monkeypatch, capsys, error_line):
    def fail(args):
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(cli.COMMANDS, "list", fail)
    line = error_line(capsys, 2, ["list"])
    assert "cannot write the output: No space left on device" in line


# --------------------------------------------------------------------------- real runs
@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished tiny training run made through the CLI."""
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("cli") / "run"
    argv = ["train", SC, "--timesteps", "64", "--quiet", "--out", str(out)]
    assert main(argv + ["--option", "num_envs=1", "num_steps=8"]) == 0
    return out


def test_train_into_an_existing_run_needs_overwrite_or_resume(trained_run, capsys, error_line):
    capsys.readouterr()
    line = error_line(capsys, 2, ["train", SC, "--timesteps", "64", "--out", str(trained_run)])
    assert "already holds a training run" in line and "--overwrite" in line


def test_resume_continues_a_finished_run(trained_run, capsys):
    capsys.readouterr()
    argv = ["train", "--resume", str(trained_run), "--timesteps", "128", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "(128 agent-steps)" in captured.out and captured.err == ""
    history = json.loads((trained_run / "training.json").read_text())["history"]
    assert history[-1]["timesteps"] == 128


def test_resume_of_a_directory_without_checkpoint(tmp_path, run_dir, capsys, error_line):
    assert "checkpoint" in error_line(capsys, 2, ["train", "--resume", str(run_dir)])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_rollout_to_a_full_device_is_one_line(trained_run, capsys, error_line):
    capsys.readouterr()
    line = error_line(
        capsys, 2, ["rollout", str(trained_run), "--episodes", "1", "--out", "/dev/full"]
    )
    assert "No space left on device" in line
