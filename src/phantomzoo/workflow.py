"""The experiment workflows behind the ``phantomzoo`` command line.

Each function is usable from Python too: :func:`train_env` trains a registered model
with its default policy mapping, :func:`rollout_results` replays saved policies, and
:func:`bench` trains every requested backend under one budget and compares the trained
policies with the model's baselines on the same evaluation seeds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError, TrainingError
from .evaluation import episode_returns, policy_act_fn
from .registry import EnvSpec, make, spec
from .trained import TrainedPolicies, load_policies
from .training import TrainingResult, train

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
) -> TrainingResult:
    """Train a registered model's default policies with one backend.

    The budget is ``timesteps`` agent-steps and/or ``seconds`` of wall time (default
    :data:`DEFAULT_SECONDS` when neither is given).
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
    )


def pooled_returns(env: Any, policies: TrainedPolicies, episodes: int, seed: int) -> np.ndarray:
    """Episode returns of every strategic agent, pooled (shape ``episodes * agents``)."""
    returns = episode_returns(env, policy_act_fn(env, policies), episodes, seed)
    return np.concatenate([returns[i] for i in env.possible_agents])


def check_compatible(env: Any, policies: TrainedPolicies, where: Path | str) -> None:
    """Raise :class:`TrainingError` if the saved policies do not fit ``env``'s agents."""
    for agent_id in env.possible_agents:
        if agent_id not in policies.agent_to_policy:
            raise TrainingError(
                f"the policies in {where} do not cover agent {agent_id!r} of this environment; "
                "they were trained on a different model or configuration"
            )
        policy = policies[policies.agent_to_policy[agent_id]]
        if policy.observation_space != env.observation_space(agent_id) or (
            policy.action_space != env.action_space(agent_id)
        ):
            raise TrainingError(
                f"the policies in {where} were trained with other spaces for agent "
                f"{agent_id!r} ({policy.observation_space} / {policy.action_space}) than this "
                f"environment has ({env.observation_space(agent_id)} / "
                f"{env.action_space(agent_id)}); they come from an incompatible environment"
            )


def rollout_results(
    results_dir: Path, episodes: int = 10, seed: int = 0, out: Path | None = None
) -> dict[str, Any]:
    """Replay the policies saved by a training run; optionally write JSON lines to ``out``.

    Returns:
        ``{"env": ..., "episodes": n, "returns": {agent_id: (mean, std)}}``.
    """
    from .rollout import rollout

    directory = Path(results_dir)
    if not directory.is_dir():
        raise ConfigError(f"results directory {str(directory)!r} does not exist")
    policies_dir = directory / "policies" if (directory / "policies").is_dir() else directory
    policies = load_policies(policies_dir)
    info = policies.env_info
    if not info.get("name"):
        raise TrainingError(f"{policies_dir} does not record the environment it was trained on")
    from .training import EnvSource

    source = EnvSource(info["kind"], info["name"], dict(info.get("config", {})))
    env = source.make()
    check_compatible(env, policies, policies_dir)
    env_ref = info["name"] if source.kind == "registered" else source.factory()
    rollouts = rollout(
        env_ref,
        policies,
        env_config=source.config,
        num_repeats=episodes,
        seed=seed,
        show_progress_bar=False,
    )
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
        "env": info,
        "episodes": episodes,
        "returns": {a: (float(np.mean(v)), float(np.std(v))) for a, v in totals.items()},
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

    Writes ``out/bench.json``, ``out/learning_curves.png`` and the model's own plots.

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
            env_id, backend, config, timesteps, seconds, seed, out / backend, progress=progress
        )
        steps = result.history[-1]["timesteps"] if result.history else 0
        returns = pooled_returns(env, result.policies, episodes, seed)
        histories[backend] = result.history
        trained[backend] = result.policies
        rows.append(_row(backend, "trained", result.wall_seconds, steps, returns))
    for label, policies in baselines.items():
        rows.append(
            _row(label, "baseline", None, None, pooled_returns(env, policies, episodes, seed))
        )
    yardstick = next(r["mean"] for r in rows if r["source"] == "baseline")
    for row in rows:
        row["pct_of_heuristic"] = 100.0 * row["mean"] / yardstick if yardstick else math.nan
    paths = []
    if histories:
        paths.append(
            plots.learning_curves(
                histories, out / "learning_curves.png", {next(iter(baselines)): yardstick}
            )
        )
    plot_hook = env_spec.hook("plots")
    if plot_hook is not None:
        best = max(
            trained, key=lambda b: next(r["mean"] for r in rows if r["policy"] == b), default=None
        )
        shown = trained[best] if best is not None else next(iter(baselines.values()))
        paths.extend(plot_hook(shown, out, seed, config))
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


def _row(
    name: str, source: str, wall: float | None, steps: int | None, returns: np.ndarray
) -> dict[str, Any]:
    return {
        "policy": name,
        "source": source,
        "wall_seconds": wall,
        "agent_steps": steps,
        "agent_steps_per_s": steps / wall if wall and steps else None,
        "mean": float(returns.mean()),
        "std": float(returns.std()),
    }


BENCH_COLUMNS: list[tuple[str, str, str]] = [
    ("policy", "policy", "s"),
    ("source", "source", "s"),
    ("wall_seconds", "wall s", ",.1f"),
    ("agent_steps_per_s", "train agent-steps/s", ",.0f"),
    ("return", "return (mean ± std)", "s"),
    ("pct_of_heuristic", "% of heuristic", ".1f"),
]


def bench_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The comparison table of :func:`bench` as aligned text."""
    from .benchmarking import format_table

    shown = [{**r, "return": f"{r['mean']:.1f} ± {r['std']:.1f}"} for r in rows]
    return format_table(shown, BENCH_COLUMNS)
