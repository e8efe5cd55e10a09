"""Plain SB3 PPO through SuperSuit on the staged models' parallel view, vs the heuristics.

For each staged bundled model (``supply_chain_paper_v0``, ``digital_ads_v0``) this
script builds the model's parallel view (``<env>.parallel_env()``, a
``ph.StagedParallelEnv``), converts it the usual SuperSuit way
(``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1(..., base_class=
"stable_baselines3")``, then SB3's ``VecMonitor`` and ``VecNormalize``) and trains one
plain SB3 PPO policy shared by every agent of the env, with no phantomzoo backend in
between. The trained policy is then evaluated deterministically on held-out seeds by
driving the parallel view's ``step`` itself (actions for the acting agents), next to the
bundled heuristic and a random policy on the same seeds.

Between the parallel view and SuperSuit sits ``shared_spaces.SharedSpaces``: one
observation and one action space for all agents (actions in [-1, 1], rescaled to each
agent's ``Box``) and black death done right (SuperSuit's ``black_death_v3`` never ends
an episode: it combines terminations and truncations with ``&``).

SB3's ``PPO(seed=...)`` fails on SuperSuit's vector env (it calls a missing ``seed()``):
the copies' first reset is seeded instead (copy ``i`` with ``--seed + i``) and torch is
seeded with ``torch.manual_seed`` (SB3's minibatch shuffling draws from NumPy's global
generator, which this script does not touch, so two runs are close but not bitwise
equal). Every seed comes from the command line::

    python benchmarks/parallel_view_sb3.py                       # both envs, ~2-4 min each
    python benchmarks/parallel_view_sb3.py --envs digital_ads_v0 --timesteps 100000
    python benchmarks/parallel_view_sb3.py --quick --out /tmp/pv.json   # seconds

``--timesteps`` counts SB3 timesteps, i.e. agent-steps (one per agent slot per parallel
step). The JSON goes to ``benchmarks/results/parallel_view_sb3.json`` by default.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from shared_spaces import SharedSpaces

from phantomzoo.cli import bench as bm
from phantomzoo.errors import ConfigError
from phantomzoo.policy import RandomPolicy
from phantomzoo.training.trained import TrainedPolicies

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "parallel_view_sb3.json"

#: ``act(observations of the acting agents) -> their actions``.
ActFn = Callable[[Mapping[str, Any]], Mapping[str, Any]]


# --------------------------------------------------------------------------- wrapper
# --------------------------------------------------------------------------- the two envs
@dataclass(frozen=True)
class Bench:
    """What the script needs to know about one staged model."""

    name: str
    config: dict[str, Any]
    quick_config: dict[str, Any]
    ppo: dict[str, Any]
    #: ``baselines(view, args, config) -> {"heuristic": ..., "random": ...}``.
    baselines: Callable[[Any, argparse.Namespace, dict[str, Any]], dict[str, TrainedPolicies]]
    heuristic_label: str

    def parallel_env(self, config: Mapping[str, Any]) -> Any:
        """The model's parallel view, from its ``<name>`` module's ``parallel_env``."""
        import importlib

        return importlib.import_module(f"phantomzoo.envs.{self.name}").parallel_env(**config)


def _supply_chain_baselines(
    view: Any, args: argparse.Namespace, config: dict[str, Any]
) -> dict[str, TrainedPolicies]:
    """Order-up-to per cost of carry (levels searched on ``--search-seed``..) and random."""
    from phantomzoo.envs.supply_chain_paper import bench, heuristics

    settings = {k: v for k, v in config.items() if k != "cost_of_carry"}
    search = {"costs": (0.1, 1.0), "num_episodes": 1, "coarse_step": 25} if args.quick else {}
    rows = heuristics.best_order_up_to_by_cost(
        settings,
        costs=search.get("costs", bench.COSTS),
        num_episodes=search.get("num_episodes", args.search_episodes),
        seed=args.search_seed,
        coarse_step=search.get("coarse_step", 5),
    )
    staged = view.env
    every = dict.fromkeys(staged.possible_agents, "policy")
    first = staged.possible_agents[0]
    spaces = (staged.observation_space(first), staged.action_space(first))
    random = RandomPolicy(*spaces, seed=args.seed)
    return {
        "heuristic": TrainedPolicies({"policy": heuristics.cost_table_policy(rows, staged)}, every),
        "random": TrainedPolicies({"policy": random}, every),
    }


def _ads_baselines(
    view: Any, args: argparse.Namespace, config: dict[str, Any]
) -> dict[str, TrainedPolicies]:
    """The bundled value bidder (one per family) and uniform random bids."""
    from phantomzoo.envs.digital_ads import bench

    found = bench.baselines(view.env, seed=args.seed)
    return {"heuristic": found["value heuristic"], "random": found["random bids"]}


BENCHES: dict[str, Bench] = {
    "supply_chain_paper_v0": Bench(
        name="supply_chain_paper_v0",
        config={},
        quick_config={"num_cycles": 10},
        # A restocking decision shows in the same cycle's sale: a short horizon suffices.
        ppo={
            "n_envs": 8,
            "n_steps": 128,
            "batch_size": 512,
            "n_epochs": 10,
            "learning_rate": 1e-3,
            "anneal_lr": True,
            "gamma": 0.9,
            # Observations are already in [0, 1] (cost 0.1-1): normalising them costs precision.
            "normalize": {"norm_obs": False, "norm_reward": True},
            "policy_kwargs": {"log_std_init": -1.0},
        },
        baselines=_supply_chain_baselines,
        heuristic_label="order-up-to per cost",
    ),
    "digital_ads_v0": Bench(
        name="digital_ads_v0",
        config={},
        quick_config={"num_steps": 10},
        # Budgets run out over the episode: pacing needs a long horizon.
        ppo={
            "n_envs": 8,
            "n_steps": 128,
            "batch_size": 512,
            "n_epochs": 10,
            "learning_rate": 3e-4,
            "gamma": 0.99,
            "normalize": {"norm_obs": True, "norm_reward": True},
        },
        baselines=_ads_baselines,
        heuristic_label="value bidder",
    ),
}


# --------------------------------------------------------------------------- training
@dataclass
class Trained:
    """A trained SB3 model, its observation normaliser and how long training took."""

    model: Any
    normalizer: Any
    wall_seconds: float
    timesteps: int
    #: Agent-episodes (one per slot and life) VecMonitor counted during training.
    agent_episodes_seen: int
    #: VecMonitor's mean return of the last (up to) 100 agent-episodes (raw rewards).
    recent_training_return: float


def vec_env(view: Any, ppo: Mapping[str, Any], seed: int) -> tuple[Any, Any]:
    """SuperSuit's SB3 vector env of ``view`` (``n_envs`` copies), monitored and normalised.

    Returns ``(VecNormalize env, the ConcatVecEnv under it)``; the copies' next reset is
    seeded with ``seed``, ``seed + 1``, ...
    """
    import supersuit as ss
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    markov = ss.pettingzoo_env_to_vec_env_v1(SharedSpaces(view))
    concat = ss.concat_vec_envs_v1(
        markov, ppo["n_envs"], num_cpus=0, base_class="stable_baselines3"
    )
    concat.venv.reset(seed=seed)  # PPO(seed=...) would call the missing ConcatVecEnv.seed()
    with warnings.catch_warnings():  # SuperSuit's vector env reports no render_mode
        warnings.simplefilter("ignore")
        monitored = VecMonitor(concat)
    normalize = dict(ppo.get("normalize") or {})
    return VecNormalize(monitored, gamma=ppo["gamma"], **normalize), concat


def train(
    bench: Bench, config: dict[str, Any], ppo: dict[str, Any], timesteps: int, seed: int
) -> Trained:
    """Train one PPO policy shared by every agent of ``bench``'s env for ``timesteps``."""
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    vec, _ = vec_env(bench.parallel_env(config), ppo, seed)
    kwargs = {k: v for k, v in ppo.items() if k not in ("n_envs", "normalize", "anneal_lr")}
    if ppo.get("anneal_lr"):  # linearly down to 0 over the budget (SB3 passes 1 -> 0)
        rate = float(kwargs["learning_rate"])
        kwargs["learning_rate"] = lambda remaining: rate * remaining
    started = time.perf_counter()
    model = PPO("MlpPolicy", vec, device="cpu", verbose=0, **kwargs)
    model.learn(total_timesteps=timesteps)
    wall = time.perf_counter() - started
    vec.training = False
    recent = [info["r"] for info in model.ep_info_buffer]
    return Trained(
        model,
        vec,
        wall,
        int(model.num_timesteps),
        int(vec.venv.episode_count),
        float(np.mean(recent)) if recent else float("nan"),
    )


def sb3_act(trained: Trained, shared: SharedSpaces) -> ActFn:
    """Deterministic actions of the trained policy for a dict of observations."""

    def act(observations: Mapping[str, Any]) -> dict[str, Any]:
        if not observations:
            return {}
        ids = list(observations)
        batch = np.stack([np.asarray(observations[a], np.float32) for a in ids])
        actions, _ = trained.model.predict(
            trained.normalizer.normalize_obs(batch), deterministic=True
        )
        return {a: shared.native_action(a, actions[k]) for k, a in enumerate(ids)}

    return act


# --------------------------------------------------------------------------- evaluation
def episode_reward_per_agent(view: Any, act: ActFn, seed: int) -> float:
    """One episode of the parallel view from ``seed``: the mean total reward per agent.

    Only the acting agents' observations are passed to ``act`` (``infos[agent]["acting"]``);
    the others' actions would be ignored by the view anyway.
    """
    observations, infos = view.reset(seed=seed)
    totals = dict.fromkeys(view.possible_agents, 0.0)
    while view.agents:
        acting = {a: observations[a] for a in view.agents if infos[a]["acting"]}
        observations, rewards, _, _, infos = view.step(act(acting))
        for agent, reward in rewards.items():
            totals[agent] += reward
    return float(np.mean(list(totals.values())))


def evaluate(view: Any, act: ActFn, seeds: Sequence[int]) -> dict[str, Any]:
    """Mean (and min, max over seeds) of the per-agent episode reward on ``seeds``."""
    per_seed = [episode_reward_per_agent(view, act, s) for s in seeds]
    return {
        "mean": float(np.mean(per_seed)),
        "min": float(np.min(per_seed)),
        "max": float(np.max(per_seed)),
        "per_seed": per_seed,
    }


def run_bench(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """Train, evaluate and compare on one env; print its table; return its JSON record."""
    config = {**bench.config, **(bench.quick_config if args.quick else {})}
    timesteps = args.timesteps or (QUICK_TIMESTEPS if args.quick else DEFAULT_TIMESTEPS[bench.name])
    seeds = list(range(args.eval_seed, args.eval_seed + args.episodes))
    ppo = {**bench.ppo, **(QUICK_PPO if args.quick else {})}
    trained = train(bench, config, ppo, timesteps, args.seed)
    view = bench.parallel_env(config)
    started = time.perf_counter()
    baselines = bench.baselines(view, args, config)
    search_seconds = time.perf_counter() - started
    acts: dict[str, ActFn] = {
        "sb3 PPO": sb3_act(trained, SharedSpaces(view)),
        bench.heuristic_label: baselines["heuristic"].compute_actions,
        "random": baselines["random"].compute_actions,
    }
    rows = [{"policy": label, **evaluate(view, act, seeds)} for label, act in acts.items()]
    heuristic = rows[1]["mean"]
    for row in rows:
        row["fraction_of_heuristic"] = row["mean"] / heuristic if heuristic else float("nan")
    _print_table(bench.name, trained, rows, len(seeds))
    return {
        "env": bench.name,
        "config": config,
        "agents": len(view.possible_agents),
        "timesteps": trained.timesteps,
        "train_wall_seconds": trained.wall_seconds,
        "training_agent_episodes": trained.agent_episodes_seen,
        "recent_training_return_per_agent": trained.recent_training_return,
        "heuristic_build_seconds": search_seconds,
        "ppo": ppo,
        "eval_seeds": seeds,
        "rows": rows,
    }


def _print_table(name: str, trained: Trained, rows: list[dict[str, Any]], episodes: int) -> None:
    print(
        f"{name}: PPO trained {trained.timesteps:,} agent-steps in {trained.wall_seconds:.0f} s; "
        f"{episodes} evaluation episodes (deterministic)"
    )
    shown = [{**r, "env": name, "range": f"{r['min']:.1f} .. {r['max']:.1f}"} for r in rows]
    print(
        bm.format_table(
            shown,
            [
                ("env", "env"),
                ("policy", "policy"),
                ("mean", "mean reward/agent/episode", ".2f"),
                ("range", "min .. max over seeds"),
                ("fraction_of_heuristic", "fraction of heuristic", ".3f"),
            ],
        )
    )
    print()


# --------------------------------------------------------------------------- command line
#: Default SB3 timesteps (agent-steps) per env: about 2-4 minutes each on this machine.
DEFAULT_TIMESTEPS = {"supply_chain_paper_v0": 500_000, "digital_ads_v0": 1_000_000}
QUICK_TIMESTEPS = 512
#: ``--quick`` PPO overrides: small rollouts, so the smoke run takes seconds.
QUICK_PPO = {"n_envs": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 2}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked (ConfigError on a bad value)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--envs", default=",".join(BENCHES), help=f"comma-separated, from {list(BENCHES)}"
    )
    parser.add_argument(
        "--timesteps", type=int, default=None, help="SB3 agent-steps per env (default per env)"
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed (copies: seed + i)")
    parser.add_argument("--eval-seed", type=int, default=1000, help="first evaluation seed")
    parser.add_argument("--episodes", type=int, default=20, help="evaluation episodes (seeds)")
    parser.add_argument(
        "--search-seed", type=int, default=10_000, help="first seed of the heuristic's search"
    )
    parser.add_argument(
        "--search-episodes", type=int, default=10, help="episodes per heuristic candidate"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny budgets (seconds)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    args = parser.parse_args(argv)
    check_args(args)
    return args


def check_args(args: argparse.Namespace) -> None:
    """ConfigError naming the first bad command-line value and what would be accepted."""
    names = [n.strip() for n in str(args.envs).split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHES]
    if unknown or not names:
        raise ConfigError(
            f"--envs: unknown or no env(s) {unknown or names}; choose from {list(BENCHES)}"
        )
    args.envs = names
    if args.timesteps is not None and args.timesteps < 1:
        raise ConfigError(f"--timesteps must be an int >= 1 (agent-steps), got {args.timesteps}")
    for flag in ("episodes", "search_episodes"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    for flag in ("seed", "eval_seed", "search_seed"):
        if getattr(args, flag) < 0:
            raise ConfigError(f"--{flag.replace('_', '-')} must be >= 0, got {getattr(args, flag)}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns what it writes to ``--out``."""
    args = parse_args(argv)
    out: dict[str, Any] = {
        "benchmark": "parallel_view_sb3",
        "machine": bm.machine_info(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "envs": {},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in args.envs:
            out["envs"][name] = run_bench(BENCHES[name], args)
    path = bm.write_json(args.out, out)
    print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main()
