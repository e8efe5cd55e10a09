"""Results directories: never silently mixed, checked writable before training starts.

A results directory holds one training run: ``policies/``, ``checkpoints/``,
``tensorboard/`` and ``training.json``. :func:`prepare_results_dir` decides what may
happen to an existing one before any training time is spent:

* it does not exist or is empty: it is created and checked writable;
* it holds a run: refused with :class:`ResultsExistError`, unless ``overwrite=True``
  (the run's own files are deleted first) or ``resume=True`` (training continues from
  its latest checkpoint);
* it holds files that are not a phantomzoo run: refused even with ``overwrite=True``,
  so that overwrite never deletes anything phantomzoo did not write.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import (
    CheckpointError,
    ConfigError,
    PolicyMappingError,
    ResultsExistError,
    TrainingError,
)
from . import records
from .checkpoint import Checkpoint, CheckpointStore
from .files import atomic_write_json, writable_directory
from .mapping import PolicyMapping

#: Options that set a budget: they may change when a run is resumed.
BUDGET_OPTIONS = frozenset({"max_seconds", "checkpoint_every_iterations"})

#: What a training run writes into its results directory.
RUN_FILES = frozenset({"training.json", "policies", "checkpoints", "tensorboard"})


def default_results_dir(name: str, backend: str) -> Path:
    """``results/<name>-<backend>-<time>``, with a suffix if that exists already."""
    stem = Path("results") / f"{name}-{backend}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = stem, 1
    while candidate.exists():
        n += 1
        candidate = stem.with_name(f"{stem.name}-{n}")
    return candidate


def prepare_results_dir(out: Path, overwrite: bool = False, resume: bool = False) -> Path:
    """Make ``out`` ready for a run (see the module docs); returns it."""
    for name, value in (("overwrite", overwrite), ("resume", resume)):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be True or False, got {value!r}")
    if overwrite and resume:
        raise ConfigError("pass overwrite=True or resume=True, not both")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"results directory {str(out)!r} is a file; pass a directory path")
    if resume:
        if not out.is_dir():
            raise CheckpointError(f"cannot resume: results directory {str(out)!r} does not exist")
        if CheckpointStore(out).latest() is None:
            raise CheckpointError(
                f"cannot resume: {str(out)!r} holds no checkpoint (checkpoints/latest.json); "
                "start a new run instead"
            )
        return writable_directory(out)
    contents = sorted(out.iterdir()) if out.is_dir() else []
    if contents:
        names = ", ".join(p.name for p in contents[:5])
        foreign = [p.name for p in contents if p.name not in RUN_FILES]
        if foreign:
            raise ResultsExistError(
                f"results directory {str(out)!r} already holds files that are not a phantomzoo "
                f"run ({', '.join(foreign[:5])}); choose another results_dir (nothing was "
                "deleted)"
            )
        if not overwrite:
            raise ResultsExistError(
                f"results directory {str(out)!r} already holds a training run ({names}); pass "
                "overwrite=True (CLI: --overwrite) to replace it, resume=True (CLI: --resume "
                "DIR) to continue it, or choose another results_dir"
            )
        writable_directory(out)
        remove_run_files(out)
    return writable_directory(out)


def remove_run_files(out: Path) -> None:
    """Delete what a training run wrote into ``out`` (and nothing else)."""
    for path in sorted(Path(out).iterdir()) if Path(out).is_dir() else []:
        if path.name not in RUN_FILES:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def check_saveable(mapping: PolicyMapping) -> None:
    """Refuse, before training, a mapping whose policies could not be saved afterwards."""
    from .trained import _id_json, fixed_entry, space_to_json

    for policy_id, policy_spec in mapping.policies.items():
        if not isinstance(policy_id, str):
            raise PolicyMappingError(
                f"policy id {policy_id!r} is a {type(policy_id).__name__}: policy ids must be "
                "strings so that the trained policies can be saved and loaded"
            )
        try:
            space_to_json(policy_spec.observation_space)
            space_to_json(policy_spec.action_space)
            if not policy_spec.learnt:
                fixed_entry(policy_id, policy_spec.build_fixed())
        except TrainingError as exc:
            raise PolicyMappingError(str(exc)) from None
    for agent_id in mapping.agent_to_policy:
        try:
            _id_json(agent_id)
        except TrainingError as exc:
            raise PolicyMappingError(str(exc)) from None


def run_record(
    backend: str,
    env_info: Mapping[str, Any],
    seed: int,
    mapping: PolicyMapping,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """What identifies a run: a resumed run must match it (budgets aside)."""
    from .trained import fixed_entry

    policies = {}
    for policy_id, policy_spec in mapping.policies.items():
        entry: dict[str, Any] = {"agents": list(policy_spec.agent_ids)}
        if not policy_spec.learnt:
            fixed = fixed_entry(policy_id, policy_spec.build_fixed())
            entry.update({"class": fixed["class"], "config": fixed["config"]})
        policies[policy_id] = entry
    kept = {k: v for k, v in options.items() if k not in BUDGET_OPTIONS}
    return {
        "backend": backend,
        "env": dict(env_info),
        "seed": seed,
        "policies": policies,
        "options": records.encode(kept, "options"),
    }


def checkpoint_to_resume(out: Path, run: Mapping[str, Any]) -> Checkpoint:
    checkpoint = CheckpointStore(out).latest()
    if checkpoint is None:
        raise CheckpointError(f"cannot resume: {out} holds no checkpoint")
    saved = json.loads(json.dumps(checkpoint.run))
    now = json.loads(json.dumps(run))
    differ = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    if differ:
        details = "; ".join(
            f"{k}: saved {saved.get(k)!r:.120} vs now {now.get(k)!r:.120}" for k in differ
        )
        raise CheckpointError(
            f"cannot resume {out}: this call describes a different run ({details}); pass the "
            "same env, env_config, policies, seed, backend and options as the original run"
        )
    return checkpoint


def write_record(
    out: Path,
    run: Mapping[str, Any],
    budget: Mapping[str, Any],
    history: list[Any],
    seconds: float,
    status: str,
) -> None:
    """``training.json``: the run, its budget, status and history (written atomically)."""
    record = {
        "status": status,
        **run,
        "budget": dict(budget),
        "wall_seconds": seconds,
        "history": history,
    }
    atomic_write_json(out / "training.json", record)


# ------------------------------------------------------------------------ finding runs
#: The last path element that stands for the most recent run in its parent directory.
LATEST = "LATEST"


def holds_policies(path: Path) -> bool:
    """Whether ``path`` is a results directory or a policy directory (has a manifest)."""
    return (path / "policies" / "manifest.json").is_file() or (path / "manifest.json").is_file()


def resolve_latest(directory: str | Path) -> Path:
    """``directory`` itself, or, when its last element is ``LATEST`` (Phantom's
    convention), the most recently finished run in its parent directory.

    A run is a sub-directory holding trained policies; the most recent is the one whose
    manifest was written last (ties broken by name). Symbolic links are not followed:
    they could lead outside the parent.

    Raises:
        ConfigError: the parent does not exist or holds no run.
    """
    path = Path(directory).expanduser()
    if path.name != LATEST:
        return path
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(
            f"{str(path)!r}: LATEST stands for the newest run in {str(parent)!r}, which is "
            "not a directory; give the directory that holds your runs"
        )
    runs = []
    for child in parent.iterdir():
        if child.is_symlink() or not child.is_dir() or child.name == LATEST:
            continue
        manifest = child / "policies" / "manifest.json"
        if not manifest.is_file():
            manifest = child / "manifest.json"
        if manifest.is_file():
            runs.append((manifest.stat().st_mtime_ns, child.name, child))
    if not runs:
        raise ConfigError(
            f"{str(path)!r}: no run with trained policies in {str(parent)!r} (LATEST picks "
            "the newest sub-directory holding policies/manifest.json); train first or give "
            "a run's directory"
        )
    return max(runs)[2]


def policies_dir(directory: str | Path) -> Path:
    """The policy directory of a results directory, a policy directory, or ``.../LATEST``.

    Raises:
        ConfigError: ``LATEST`` finds no run (see :func:`resolve_latest`).
    """
    path = resolve_latest(directory)
    if (path / "policies" / "manifest.json").is_file() or (path / "policies").is_dir():
        return path / "policies"
    return path
