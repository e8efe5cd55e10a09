"""``phantomzoo lint ENV``: prints the findings; exit 0 clean (or warnings only), 1 on
errors, 2 on usage errors (one ``phantomzoo: error:`` line, no traceback)."""

from __future__ import annotations

import pytest
from lint_models import MODELS, clean_env

from phantomzoo import registry
from phantomzoo.cli.commands import main


@pytest.fixture
def lint_models(monkeypatch):
    """Register the lint test models as ``lint_<code>_v0`` and ``lint_clean_v0``."""
    builders = {f"lint_{code.replace('-', '_')}_v0": build for code, build in MODELS.items()}
    builders["lint_clean_v0"] = clean_env
    registry.registered_envs()  # load the bundled registrations first
    for name, build in builders.items():
        monkeypatch.setitem(registry._REGISTRY, name, registry.EnvSpec(name, build))
    return builders


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _error_line(capsys, argv: list[str]) -> str:
    status, out, err = _run(capsys, argv)
    assert status == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phantomzoo: error: "), err
    assert "Traceback" not in out + err
    return lines[0]


@pytest.mark.parametrize(
    "argv", [["supply_chain_v0"], ["supply_chain_v0", "--config", "num_shops=3"]]
)
def test_a_bundled_model_is_clean(capsys, argv: list[str]) -> None:
    status, out, _ = _run(capsys, ["lint", *argv])
    assert status == 0
    assert out.strip().splitlines()[-1].startswith("supply_chain_v0: clean (3 random-action")


def test_errors_exit_1_and_are_printed(capsys, lint_models) -> None:
    status, out, _ = _run(capsys, ["lint", "lint_unrewarded_actor_v0"])
    assert status == 1
    assert "error [unrewarded-actor] stage 'a'" in out
    assert "  agents: A" in out and "  stages: a" in out
    assert out.strip().splitlines()[-1].startswith("lint_unrewarded_actor_v0: 1 error, 0 warnings")


def test_warnings_alone_exit_0(capsys, lint_models) -> None:
    status, out, _ = _run(capsys, ["lint", "lint_unreachable_stage_v0"])
    assert status == 0
    assert "warning [unreachable-stage]" in out and "0 errors, 1 warning" in out


def test_ignore_and_episodes_reach_lint(capsys, lint_models) -> None:
    status, out, _ = _run(capsys, ["lint", "lint_message_bounce_v0", "--ignore", "message-bounce"])
    assert status == 0 and "[message-bounce]" not in out
    status, out, _ = _run(capsys, ["lint", "lint_message_bounce_v0", "--episodes", "0"])
    assert status == 0 and "clean (0 random-action episode(s)" in out  # a dynamic finding
    status, out, _ = _run(capsys, ["lint", "lint_episode_error_v0", "--seed", "7"])
    assert status == 1 and "episode seed 7, step 1" in out


def test_a_clean_test_model_exits_0(capsys, lint_models) -> None:
    status, out, _ = _run(capsys, ["lint", "lint_clean_v0", "--max-steps", "2"])
    assert status == 0 and "at most 2 steps each" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["lint"], "the following arguments are required: ENV"),
        (["lint", "nope_v0"], "no environment registered as 'nope_v0'"),
        (["lint", "supply_chain_v0", "--ignore", "bogus"], "invalid choice: 'bogus'"),
        (["lint", "supply_chain_v0", "--episodes", "-1"], "argument --episodes"),
        (["lint", "supply_chain_v0", "--max-steps", "0"], "argument --max-steps"),
        (["lint", "supply_chain_v0", "--config", "num_shops=-1"], "num_shops must be an int"),
        (["lint", "supply_chain_v0", "--config", "colour=3"], "colour"),
        (["lint", "supply_chain_v0", "--config", "oops"], "expected KEY=VALUE"),
    ],
)
def test_usage_errors_exit_2(capsys, argv: list[str], match: str) -> None:
    assert match in _error_line(capsys, argv)
