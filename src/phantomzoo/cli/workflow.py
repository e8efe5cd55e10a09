"""The experiment workflows behind the ``phantomzoo`` command line.

Each function is usable from Python too: :func:`train_env` trains a registered model
with its default policy mapping, :func:`rollout_results` replays saved policies,
:func:`bench` trains every requested backend under one budget and compares the trained
policies with the model's baselines on the same evaluation seeds, and
:func:`bench_throughput` measures the env's steps per second.

Model-specific helpers come from the env's bench module (``EnvSpec.hook``, see
:mod:`phantomzoo.registry`); this module names no model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, ManifestError
from ..experiments.evaluation import episode_returns, pooled_returns
from ..registry import EnvSpec, make, spec
from ..training.api import DEFAULT_CHECKPOINT_SECONDS, EnvSource, TrainingResult, train
from ..training.records import decode
from ..training.results import policies_dir as find_policies
from ..training.results import resolve_latest
from ..training.trained import TrainedPolicies, load_policies
from .bench import ThroughputReport
from .bench_rows import BENCH_COLUMNS as BENCH_COLUMNS  # re-exported: the table lives there
from .bench_rows import add_summaries, make_row, policy_means
from .bench_rows import bench_table as bench_table

#: Budget used when neither timesteps nor seconds are given.
DEFAULT_SECONDS = 60.0
_UNBOUNDED_STEPS = 10**12  # "no step limit": training stops on max_seconds instead
# (backends/_common.UNBOUNDED: progress bars then show no total)


def parse_config(pairs: Sequence[str]) -> dict[str, Any]:
    """``["num_shops=3", "auction=second"]`` -> ``{"num_shops": 3, "auction": "second"}``.

    Values are read as JSON when they parse (numbers, booleans, lists), else as strings.
    """
    config: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"expected KEY=VALUE, got {pair!r}")
        try:
            config[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            config[key.strip()] = text
    return config


def _hook(env_spec: EnvSpec, name: str) -> Any:
    hook = env_spec.hook(name)
    if hook is None:
        raise ConfigError(
            f"{env_spec.id} registers no {name!r} helper; train it from Python with "
            "ph.train(env, policies, ...) instead"
        )
    return hook


def train_env(
    env_id: str,
    backend: str,
    env_config: Mapping[str, Any] | None = None,
    timesteps: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
    out: Path | None = None,
    options: Mapping[str, Any] | None = None,
    progress: bool = True,
    *,
    overwrite: bool = False,
    resume: bool = False,
    checkpoint_seconds: float | None = DEFAULT_CHECKPOINT_SECONDS,
) -> TrainingResult:
    """Train a registered model's default policies with one backend.

    The budget is ``timesteps`` agent-steps and/or ``seconds`` of wall time (default
    :data:`DEFAULT_SECONDS` when neither is given). ``overwrite``, ``resume`` and
    ``checkpoint_seconds`` are passed to :func:`phantomzoo.train`.
    """
    env_spec = spec(env_id)
    env = make(env_id, **dict(env_config or {}))
    policies = _hook(env_spec, "policies")(env)
    if timesteps is None and seconds is None:
        seconds = DEFAULT_SECONDS
    opts = dict(options or {})
    if seconds is not None:
        opts["max_seconds"] = float(seconds)
    return train(
        env_id,
        policies,
        backend=backend,
        env_config=env_config,
        timesteps=timesteps if timesteps is not None else _UNBOUNDED_STEPS,
        seed=seed,
        results_dir=out,
        options=opts,
        progress=progress,
        overwrite=overwrite,
        resume=resume,
        checkpoint_seconds=checkpoint_seconds,
    )


def resume_training(
    results_dir: Path | str,
    *,
    timesteps: int | None = None,
    seconds: float | None = None,
    progress: bool = True,
    trust: bool = False,
    allow: Sequence[str] | None = None,
    checkpoint_seconds: float | None = DEFAULT_CHECKPOINT_SECONDS,
) -> TrainingResult:
    """Continue the run in ``results_dir`` from its latest checkpoint.

    The run is rebuilt from the checkpoint's own record (backend, environment, policy
    mapping, seed, options), under the same rules as any loaded results directory:
    only registered environments, and fixed-policy classes of phantomzoo or already
    imported, unless ``trust=True`` with an ``allow`` list (:mod:`phantomzoo.training.trust`).
    The budget is the original one unless ``timesteps`` / ``seconds`` give a new total.
    """
    from ..errors import CheckpointError
    from ..training.checkpoint import CheckpointStore
    from ..training.trust import TrustPolicy

    directory = Path(results_dir)
    if not directory.is_dir():
        raise ConfigError(f"results directory {str(directory)!r} does not exist")
    checkpoint = CheckpointStore(directory).latest()
    if checkpoint is None:
        raise CheckpointError(f"{directory} holds no checkpoint to resume from")
    where = str(checkpoint.directory / "state.json")
    policy = TrustPolicy(trust, allow)
    run = checkpoint.run
    source = EnvSource.from_record(run.get("env"), where, policy)
    policies = _mapping_from_record(run.get("policies"), where, policy)
    options = decode(run.get("options", {}), f"{where} (options)")
    record = _previous_budget(directory)
    if timesteps is None and seconds is None:
        timesteps, seconds = record.get("timesteps"), record.get("seconds")
    if seconds is not None:
        options["max_seconds"] = float(seconds)
    env_ref = source.name if source.kind == "registered" else source.factory()
    return train(
        env_ref,
        policies,
        backend=str(run.get("backend")),
        env_config=source.config,
        timesteps=timesteps if timesteps is not None else _UNBOUNDED_STEPS,
        seed=int(run.get("seed", 0)),
        results_dir=directory,
        options=options,
        progress=progress,
        resume=True,
        checkpoint_seconds=checkpoint_seconds,
    )


def _mapping_from_record(data: Any, where: str, policy: Any) -> dict[str, Any]:
    """The ``policies`` argument of the recorded run: ids lists, fixed classes resolved."""
    if not isinstance(data, dict) or not data:
        raise ManifestError(f"{where}: the run record lists no policies")
    out: dict[str, Any] = {}
    for policy_id, entry in data.items():
        agents = entry.get("agents") if isinstance(entry, dict) else None
        if not isinstance(agents, list) or not agents:
            raise ManifestError(f"{where}: policy {policy_id!r} lists no agents")
        if "class" in entry:
            cls = policy.policy_class(entry["class"], where)
            config = entry.get("config", {})
            if not isinstance(config, dict):
                raise ManifestError(f"{where}: policy {policy_id!r} config must be an object")
            out[policy_id] = (cls, agents, config)
        else:
            out[policy_id] = agents
    return out


def _previous_budget(directory: Path) -> dict[str, Any]:
    """The budget the interrupted run was started with (from ``training.json``)."""
    path = directory / "training.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    budget = record.get("budget", {})
    return budget if isinstance(budget, dict) else {}


def check_compatible(env: Any, policies: TrainedPolicies, where: Path | str) -> None:
    """Raise :class:`TrainingError` if the saved policies do not fit ``env``'s agents."""
    policies.check_fits(env, f"the policies in {where}")


def rollout_results(
    results_dir: Path,
    episodes: int = 10,
    seed: int = 0,
    out: Path | None = None,
    *,
    trust: bool = False,
    allow: Sequence[str] | None = None,
    plots: Path | None = None,
) -> dict[str, Any]:
    """Replay the policies saved by a training run; optionally write JSON lines to ``out``
    and the first episode's message graph and timeline (:mod:`phantomzoo.plots`) to ``plots``.

    The directory is untrusted input (:mod:`phantomzoo.training.manifest`,
    :mod:`phantomzoo.training.trust`): its environment must be registered, unless
    ``trust=True`` with an ``allow`` list covers its import path.

    Returns:
        ``{"env": ..., "episodes": n, "returns": {agent_id: (mean, std)}, "plots": [...]}``.
    """
    from ..experiments.rollout import rollout
    from ..training.trust import TrustPolicy

    directory = resolve_latest(results_dir)
    if not directory.is_dir():
        raise ConfigError(f"results directory {str(directory)!r} does not exist")
    policies_dir = find_policies(directory)
    policies = load_policies(policies_dir, trust=trust, allow=allow)
    where = str(policies_dir / "manifest.json")
    source = EnvSource.from_record(policies.env_info, where, TrustPolicy(trust, allow))
    env = source.make()
    check_compatible(env, policies, policies_dir)
    env_ref = source.name if source.kind == "registered" else source.factory()
    rollouts = rollout(
        env_ref,
        policies,
        env_config=source.config,
        num_repeats=episodes,
        seed=seed,
        show_progress_bar=False,
        record_messages=plots is not None,
    )
    pictures: list[Path] = []
    if plots is not None:
        from ..plots import episode_plots

        pictures = episode_plots(rollouts[0], plots, env=env)
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("")
        for item in rollouts:
            item.to_json_lines(out)
    totals: dict[Any, list[float]] = {}
    for item in rollouts:
        for agent_id in env.possible_agents:
            totals.setdefault(agent_id, []).append(
                float(np.sum(item.rewards_for_agent(agent_id, drop_nones=True)))
            )
    return {
        "env": policies.env_info,
        "episodes": episodes,
        "returns": {a: (float(np.mean(v)), float(np.std(v))) for a, v in totals.items()},
        "plots": [str(p) for p in pictures],
    }


def bench(
    env_id: str,
    backends: Sequence[str] = ("cleanrl",),
    env_config: Mapping[str, Any] | None = None,
    timesteps: int | None = None,
    seconds: float | None = None,
    episodes: int = 100,
    seed: int = 0,
    out: Path = Path("bench_out"),
    progress: bool = True,
) -> dict[str, Any]:
    """Train each backend under one budget; compare with the baselines on the same seeds.

    Writes ``out/bench.json``, ``out/learning_curves.png``, the model's own plots and the
    message graph and timeline of one episode of the best policies (:func:`episode_pictures`).

    Returns:
        ``{"rows": [...], "plots": [...], ...}``; each row has ``policy``, ``source``,
        ``wall_seconds``, ``agent_steps_per_s``, ``mean``, ``std`` and
        ``pct_of_heuristic``.
    """
    from . import plots

    env_spec = spec(env_id)
    config = dict(env_config or {})
    env = make(env_id, **config)
    baselines = _hook(env_spec, "baselines")(env, seed)
    out = Path(out)
    rows: list[dict[str, Any]] = []
    histories: dict[str, list[dict[str, Any]]] = {}
    trained: dict[str, TrainedPolicies] = {}
    for backend in backends:
        result = train_env(
            env_id,
            backend,
            config,
            timesteps,
            seconds,
            seed,
            out / backend,
            progress=progress,
            overwrite=True,  # a bench re-run replaces its own per-backend runs
        )
        steps = result.history[-1]["timesteps"] if result.history else 0
        returns = pooled_returns(env, result.policies, episodes, seed)
        histories[backend] = result.history
        trained[backend] = result.policies
        rows.append(make_row(backend, "trained", result.wall_seconds, steps, returns))
    references: dict[str, float] = {}
    for k, (label, policies) in enumerate(baselines.items()):
        by_agent = episode_returns(env, policies, episodes, seed)
        if k == 0:  # the first baseline is the yardstick: its level per policy
            references = policy_means(by_agent, policies.agent_to_policy)
        pooled = np.concatenate([by_agent[i] for i in env.possible_agents])
        rows.append(make_row(label, "baseline", None, None, pooled))
    yardstick = next(r["mean"] for r in rows if r["source"] == "baseline")
    for row in rows:
        row["pct_of_heuristic"] = 100.0 * row["mean"] / yardstick if yardstick else math.nan
    add_summaries(env_spec, env, rows, {**trained, **baselines}, episodes, seed)
    paths = []
    if histories:
        curves_of = {p for h in histories.values() for r in h for p in r.get("returns", {})}
        level: float | dict[str, float] = yardstick
        if curves_of and curves_of <= set(references):  # each policy against its own level
            level = {p: references[p] for p in sorted(curves_of)}
        paths.append(
            plots.learning_curves(
                histories, out / "learning_curves.png", {next(iter(baselines)): level}
            )
        )
    best = max(
        trained, key=lambda b: next(r["mean"] for r in rows if r["policy"] == b), default=None
    )
    shown = trained[best] if best is not None else next(iter(baselines.values()))
    plot_hook = env_spec.hook("plots")
    if plot_hook is not None:
        paths.extend(plot_hook(shown, out, seed, config))
    paths.extend(episode_pictures(env_id, shown, config, seed, out, env))
    report = {
        "env": env_id,
        "env_config": config,
        "backends": list(backends),
        "timesteps": timesteps,
        "seconds": seconds,
        "episodes": episodes,
        "seed": seed,
        "rows": rows,
        "plots": [str(p) for p in paths],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report


def episode_pictures(
    env_id: str,
    policies: TrainedPolicies,
    env_config: Mapping[str, Any],
    seed: int,
    out: Path,
    env: Any = None,
) -> list[Path]:
    """``out/message_graph.png`` and ``out/timeline.png`` of the episode of seed ``seed``
    played by ``policies`` (messages recorded); the paths written."""
    from ..experiments.rollout import rollout
    from ..plots import episode_plots

    episodes = rollout(
        env_id,
        policies,
        env_config=dict(env_config),
        seed=seed,
        record_messages=True,
        show_progress_bar=False,
    )
    return episode_plots(episodes[0], out, env=env)


def bench_throughput(
    env_id: str,
    env_config: Mapping[str, Any] | None = None,
    sizes: Sequence[int] | None = None,
    min_seconds: float = 3.0,
    seed: int = 0,
    repeats: int = 3,
) -> ThroughputReport:
    """Throughput of ``env_id``: its bench module's ``throughput`` hook, or the generic one.

    The hook (``throughput(sizes, min_seconds, seed, repeats)``) measures the sizes the
    model defines (``sizes=None``: its defaults; ``env_config`` does not apply, as the
    sizes define the configs); without a hook the env built from ``env_config`` is
    measured under random actions.

    Raises:
        ConfigError: ``sizes`` given for an env without a ``throughput`` hook.
    """
    from .bench import check_budget, generic_throughput

    check_budget(min_seconds)
    hook = spec(env_id).hook("throughput")
    if hook is None:
        if sizes is not None:
            raise ConfigError(
                f"{env_id} defines no sizes to measure (its bench module has no "
                "'throughput' hook); leave out --sizes to measure the env as configured"
            )
        return generic_throughput(env_id, env_config, min_seconds, seed, repeats)
    return hook(sizes, min_seconds, seed, repeats)
