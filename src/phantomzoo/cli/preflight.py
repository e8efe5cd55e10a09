"""Checks the command line runs before it spends any training or measuring time.

A run that trains for an hour and then cannot write its results, or that fails on its
first step because of a ``--config`` typo, wastes the hour. So every output location
is tried first (the directories are created, a probe file is written and removed, and
whatever did not exist before is removed again), every input directory is checked to
be what it should be, and the environment is built, reset and stepped once with the
given configuration.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..engine.masks import sample_legal
from ..errors import ConfigError, ManifestError, PhantomZooError
from ..training.results import resolve_latest
from .report import one_line


# --------------------------------------------------------------------------- cleanup
def _missing_chain(path: Path) -> list[Path]:
    """``path`` and those of its ancestors that do not exist yet, deepest first."""
    chain = []
    current = path.absolute()
    while not os.path.lexists(current) and current != current.parent:
        chain.append(current)
        current = current.parent
    return chain


@contextlib.contextmanager
def leave_no_trace(path: Path) -> Iterator[None]:
    """On an exception in the block, remove the directories of ``path`` that it created.

    Only directories that did not exist when the block started and are empty again are
    removed, so a failed command leaves no empty results directory behind, and an
    interrupted run (which saved something) keeps everything.
    """
    created = _missing_chain(Path(path))
    try:
        yield
    except BaseException:
        for directory in created:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _first_existing(path: Path) -> Path:
    current = path.absolute()
    while not os.path.lexists(current) and current != current.parent:
        current = current.parent
    return current


def _refuse_file_ancestor(path: Path, what: str) -> None:
    ancestor = _first_existing(path)
    if ancestor != path.absolute() and not ancestor.is_dir():
        raise ConfigError(
            f"cannot create {what} {str(path)!r}: {str(ancestor)!r} is a file, not a "
            "directory; choose a path under a directory"
        )


def _cannot(action: str, what: str, path: Path, exc: OSError) -> ConfigError:
    reason = exc.strerror or one_line(exc)
    return ConfigError(
        f"cannot {action} {what} {str(path)!r}: {reason}; choose a location you can write to"
    )


# --------------------------------------------------------------------------- outputs
def output_dir(path: str | Path, what: str = "output directory") -> Path:
    """Check that ``path`` can be (or already is) a directory this run can write in.

    Nothing is left behind: directories made for the probe are removed again.

    Raises:
        ConfigError: ``path`` is an existing file, lies under a file, or cannot be
            created or written (the message names the path and the system's reason).
    """
    path = Path(path).expanduser()
    if os.path.lexists(path) and not path.is_dir():
        raise ConfigError(
            f"{what} {str(path)!r} is a file, not a directory; give a directory path "
            "(a new one, or an existing directory)"
        )
    _refuse_file_ancestor(path, what)
    created = _missing_chain(path)
    try:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot("create", what, path, exc) from None
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".phantomzoo-probe-"):
                pass
        except OSError as exc:
            raise _cannot("write in", what, path, exc) from None
    finally:
        for directory in created:
            with contextlib.suppress(OSError):
                directory.rmdir()
    return path


def output_file(path: str | Path, what: str = "output file", example: str = "out.txt") -> Path:
    """Check that ``path`` can be written as a file (replacing an existing one).

    Raises:
        ConfigError: ``path`` is a directory, lies under a file, or cannot be written.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError(
            f"{what} {str(path)!r} is a directory; give a file path such as {str(path / example)!r}"
        )
    _refuse_file_ancestor(path, what)
    if os.path.lexists(path):
        try:
            with open(path, "ab"):  # appending nothing: tests write access, changes nothing
                pass
        except OSError as exc:
            raise _cannot("write", what, path, exc) from None
        return path
    created = _missing_chain(path.parent)
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "xb"):
                pass
            path.unlink()
        except OSError as exc:
            raise _cannot("create", what, path, exc) from None
    finally:
        for directory in created:
            with contextlib.suppress(OSError):
                directory.rmdir()
    return path


# --------------------------------------------------------------------------- inputs
def results_dir(path: str | Path, need_manifest: bool = True) -> Path:
    """Check that ``path`` is a results directory a training run wrote.

    Raises:
        ConfigError: it does not exist, or it is a file.
        ManifestError: it is a directory without ``policies/manifest.json`` (with
            ``need_manifest``).
    """
    path = resolve_latest(path)  # <runs>/LATEST: the newest run (Phantom's convention)
    if not os.path.lexists(path):
        raise ConfigError(
            f"results directory {str(path)!r} does not exist; give the directory "
            "'phantomzoo train' wrote (its --out)"
        )
    if not path.is_dir():
        raise ConfigError(
            f"{str(path)!r} is a file, not a results directory; give the directory "
            "'phantomzoo train' wrote (its --out)"
        )
    if need_manifest and not (
        (path / "policies" / "manifest.json").is_file() or (path / "manifest.json").is_file()
    ):
        raise ManifestError(
            f"{str(path)!r} is not a results directory: it holds no policies/manifest.json; "
            "give the directory 'phantomzoo train' wrote (its --out)"
        )
    return path


# --------------------------------------------------------------------------- env config
_CONSTRUCTOR_ERRORS = (TypeError, ValueError, ArithmeticError, KeyError, IndexError)


def check_env_config(env_id: str, config: Mapping[str, Any], seed: int = 0) -> None:
    """Build ``env_id`` with ``config``, reset it and take one random step.

    Whatever the environment raises becomes a :class:`ConfigError` naming the key(s)
    responsible, so a bad ``--config`` value is refused before training starts. A
    failure that the default configuration shares is not blamed on the user's keys.

    Raises:
        PhantomZooError: the environment's own typed error (unknown env, bad key).
        ConfigError: a constructor or the first step failed, or gave a non-finite reward.
    """
    from ..registry import spec

    spec(env_id)  # an unknown id: RegistryError with a "did you mean" hint
    problem = _trial(env_id, dict(config), seed)
    if problem is None:
        return
    if isinstance(problem, PhantomZooError):
        raise problem  # the environment's own typed refusal, already naming the key
    if not config or _trial(env_id, {}, seed) is not None:
        return  # the default configuration fails the same trial: not the user's keys
    keys = _culprits(env_id, dict(config), seed)
    cause = problem.error if isinstance(problem, _Inconclusive) else problem
    detail = (
        f"non-finite reward {cause.reward!r} on the first step"
        if isinstance(cause, _UnfiniteReward)
        else f"{type(cause).__name__}: {one_line(cause)}"
    )
    given = ", ".join(f"{k}={config[k]!r}" for k in keys)
    raise ConfigError(
        f"{env_id} rejects --config {given}: {detail}; check the value's type and range "
        "in the environment's documentation"
    ) from cause


class _UnfiniteReward(Exception):
    """The first step gave a NaN, infinite or non-numeric reward."""

    def __init__(self, reward: Any) -> None:
        super().__init__(f"non-finite reward {reward!r}")
        self.reward = reward


class _Inconclusive(Exception):
    """A typed error raised while stepping with random actions: maybe the actions' fault."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _trial(env_id: str, config: dict[str, Any], seed: int) -> BaseException | None:
    """The exception one build-reset-step of the env raises, or None if it worked."""
    from ..registry import make

    try:
        env = make(env_id, **config)
    except PhantomZooError as exc:
        return exc
    except _CONSTRUCTOR_ERRORS as exc:
        return exc
    if not hasattr(env, "acting_step"):
        return None  # not a phantomzoo env: building it is all this trial can check
    try:
        env.acting_reset(seed=seed)
        actions = {}
        for agent_id in env.acting_agents:
            space = env.action_space(agent_id)
            space.seed(seed)
            actions[agent_id] = sample_legal(env, agent_id, space)
        _, rewards, *_ = env.acting_step(actions)
    except (PhantomZooError, *_CONSTRUCTOR_ERRORS) as exc:
        return exc if not isinstance(exc, PhantomZooError) else _Inconclusive(exc)
    for reward in rewards.values():
        try:
            finite = math.isfinite(float(reward))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            return _UnfiniteReward(reward)
    return None


def _culprits(env_id: str, config: dict[str, Any], seed: int) -> list[str]:
    """The keys of ``config`` that fail the trial on their own (all keys if none does)."""
    if len(config) == 1:
        return list(config)
    alone = [k for k in config if _trial(env_id, {k: config[k]}, seed) is not None]
    return alone or list(config)
