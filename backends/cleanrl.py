"""cleanrl: the built-in PPO backend, to read top to bottom like CleanRL's ``ppo.py``.

The file has CleanRL's shape: :class:`Args` (``ph.train``'s ``options`` fill it), then
:func:`train` with the loop in CleanRL's order (anneal the learning rate, roll out,
bootstrap and compute GAE, update, log), then the command line
(``python -m phantomzoo.backends.cleanrl --env supply_chain_v0 --timesteps 20000``). The
parts CleanRL keeps in the same file live next to it, one concept each:
:mod:`.cleanrl_nets` (the actor-critic, CleanRL's ``Agent``), :mod:`.cleanrl_buffer`
(the rollout buffer for delayed rewards), :mod:`.cleanrl_runner` (the learners and the
env copies) and :mod:`.cleanrl_state` (checkpoints). What it adds for agent-based models:

* **Policies, not envs, are batched.** Each step, the observations of all acting agents
  of a policy, over all ``num_envs`` env copies, go through one forward pass. Fixed
  policies act through their batched ``compute_actions`` and produce no transitions.
* **Acting agents only.** Envs are driven through the acting-agents protocol, so stages,
  agents that sit a stage out and agents that terminate early (an advertiser out of
  budget: its trajectory ends, the env goes on) are the normal case.
* **Delayed rewards.** A reward, whenever it arrives, is credited to the action that
  earned it (see :mod:`.cleanrl_buffer` for the rule and its invariant).
* **Box actions** are Gaussian (state-independent ``log_std``) in a normalised
  ``[-1, 1]`` space, mapped affinely onto ``[low, high]`` (unbounded Boxes are clipped
  instead); **Discrete** actions are Categorical.
* **Normalisation.** Observations by a running mean/variance per policy, exported with
  it. The statistics are refreshed after each update and the first layers re-scaled to
  compute the same function of raw observations, so the policy does not drift as the
  state distribution shifts. Rewards by the running std of the discounted return.

Logged per policy (TensorBoard ``losses/<policy>/<name>`` and the history's ``losses``):
``policy_loss``, ``value_loss``, ``entropy``, ``approx_kl``, ``clipfrac`` and
``explained_variance``; plus ``charts/learning_rate`` and agent-steps per second. The
history rows (:mod:`._budget`) add ``learning_rate`` and ``losses``; ``iterations`` count
PPO updates (one rollout of ``num_steps`` steps each).

Each learnt policy is exported to a NumPy :class:`~phantomzoo.training.trained.MLPPolicy` with the
same deterministic actions. Same seed, same result: weights, sampling and minibatches
draw from one ``torch.Generator``, episode seeds from ``np.random.default_rng(job.seed)``,
on one torch thread with deterministic algorithms (torch's settings are restored after).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from phantomzoo.errors import CheckpointError, ConfigError, PhantomZooError, TrainingInterrupted
from phantomzoo.training import TrainingJob, TrainingResult
from phantomzoo.training.trained import TrainedPolicies

from ._common import Budget, TrainingLogger, history_row, option_names, validate_options
from ._options import AT_LEAST_1, FLAG, MAX_SECONDS, Rule, choice, is_int, is_number, option
from ._torch_state import torch_settings
from .cleanrl_nets import export_policy
from .cleanrl_runner import Learner, Runner
from .cleanrl_state import generator_state, learner_state, restore_generator, restore_learner

__all__ = ["OPTIONS", "SUPPORTS_CHECKPOINTS", "Args", "Learner", "export_policy", "train"]

#: ph.train may checkpoint this backend and resume it (bit-identically: see cleanrl_state).
SUPPORTS_CHECKPOINTS = True
#: Same seed, same options, same env: the same weights and history (see the module docs).
REPRODUCIBLE = True

_UNIT = Rule("a number in [0, 1]", lambda v: is_number(v) and 0 <= v <= 1)
_NON_NEGATIVE = Rule("a finite number >= 0", lambda v: is_number(v) and 0 <= v < float("inf"))
_POSITIVE = Rule("a finite number > 0", lambda v: is_number(v) and 0 < v < float("inf"))
_FINITE = Rule("a finite number", lambda v: is_number(v) and abs(v) < float("inf"))
_SIZES = Rule(
    "a non-empty list of ints >= 1",
    lambda v: isinstance(v, (list, tuple)) and bool(v) and all(is_int(h) and h >= 1 for h in v),
    tuple,
)


@dataclass
class Args:
    """PPO settings; every field is an ``options`` key of ``ph.train(backend="cleanrl")``."""

    num_envs: int = option(16, AT_LEAST_1)
    """Environment copies stepped in turn; their agents share each forward pass (large
    populations need fewer: 1 copy of 1200 advertisers already batches 400 per policy)."""
    num_steps: int = option(64, AT_LEAST_1)
    """``acting_step`` calls per env copy per iteration (one rollout, one update)."""
    learning_rate: float = option(1e-3, _NON_NEGATIVE)
    """Adam learning rate."""
    anneal_lr: bool = option(True, FLAG)
    """Decay the learning rate linearly to 0 over the budget (timesteps, iterations or
    ``max_seconds``, whichever runs out first)."""
    gamma: float = option(0.99, _UNIT)
    """Discount factor per decision of an agent."""
    gae_lambda: float = option(0.95, _UNIT)
    """Lambda of generalised advantage estimation."""
    num_minibatches: int = option(4, AT_LEAST_1)
    """Minibatches each policy's rollout is split into."""
    update_epochs: int = option(5, AT_LEAST_1)
    """Passes over the rollout per iteration."""
    norm_adv: bool = option(True, FLAG)
    """Normalise advantages within each minibatch."""
    clip_coef: float = option(0.2, _NON_NEGATIVE)
    """PPO surrogate clipping coefficient."""
    clip_vloss: bool = option(False, FLAG)
    """Also clip the value loss around the rollout's values."""
    ent_coef: float = option(0.0, _NON_NEGATIVE)
    """Entropy bonus coefficient."""
    vf_coef: float = option(0.5, _NON_NEGATIVE)
    """Value loss coefficient."""
    max_grad_norm: float = option(0.5, _NON_NEGATIVE)
    """Gradient norm clipping."""
    target_kl: float | None = option(None, _POSITIVE.optional("None or a number > 0"))
    """Stop a policy's epochs early once the approximate KL exceeds this (None: never)."""
    hidden_sizes: tuple[int, ...] = option((64, 64), _SIZES)
    """Hidden layer widths of the actor and of the (separate) critic."""
    activation: str = option("tanh", choice("tanh", "relu"))
    """Hidden activation: ``"tanh"`` or ``"relu"``."""
    log_std_init: float = option(-1.0, _FINITE)
    """Initial log standard deviation of Box actions, in the normalised space."""
    norm_obs: bool = option(True, FLAG)
    """Normalise observations by running statistics (refreshed each iteration, exported)."""
    obs_clip: float = option(10.0, _POSITIVE)
    """Clip normalised observations to ``[-obs_clip, obs_clip]``."""
    norm_reward: bool = option(True, FLAG)
    """Scale rewards by the running std of the discounted return (training only)."""
    reward_clip: float = option(10.0, _POSITIVE)
    """Clip scaled rewards to ``[-reward_clip, reward_clip]``."""
    max_seconds: float | None = option(None, MAX_SECONDS)
    """Wall-time budget: the rollout in progress stops, then a last update runs."""


OPTIONS = option_names(Args)


def make_args(options: dict[str, Any]) -> Args:
    """:class:`Args` from ``options``, every value checked (raises ``ConfigError``)."""
    return validate_options(Args, options, "cleanrl")


def check_options(options: dict[str, Any]) -> None:
    """Refuse bad options before ``ph.train`` touches the results directory."""
    make_args(options)


def train(job: TrainingJob) -> TrainingResult:
    """Train every learnt policy of ``job.mapping`` with PPO (see the module docs)."""
    args = make_args(job.options)
    with torch_settings(threads=1, deterministic=True):
        gen = torch.Generator().manual_seed(job.seed)
        budget = Budget.of(job, args.max_seconds)
        logger = TrainingLogger(
            job.results_dir, list(job.mapping.policies), budget.total,
            "agent-step" if budget.by_steps else "iteration", job.progress,
            initial=budget.shown,
        )  # fmt: skip
        runner = Runner(job, args, gen, logger)
        history = _restore(job, runner, gen, logger) if job.resume is not None else []
        saved_at = budget.iterations_done

        while not budget.done() and not job.stop_requested:
            # 1. Annealing the rate, as CleanRL: linearly to 0 over the budget.
            frac = 1.0 - budget.fraction() if args.anneal_lr else 1.0
            lr = args.learning_rate * frac
            # 2. Rollout: num_steps acting steps in every env copy.
            steps_before, runner.episodes = budget.steps, []
            for _ in range(args.num_steps):
                budget.steps += runner.step(budget.steps)
                if budget.done():
                    break
            budget.iterations_done += 1
            # 3. Bootstrap and GAE, then 4. the PPO update, per learnt policy.
            losses = {}
            for policy_id, learner in runner.learners.items():
                if learner.buffer.size:
                    advantages, returns = learner.advantages(*runner.acting_now(policy_id))
                    losses[policy_id] = learner.update(advantages, returns, lr, gen)
            # 5. Logging: TensorBoard, the progress bar and the history.
            _log(logger, budget, losses, lr, steps_before)
            row = history_row(budget, runner.episodes, logger.mean_returns())
            history.append({**row, "learning_rate": lr, "losses": losses})
            if job.checkpoint_due():
                _checkpoint(job, args, runner, gen, logger, budget, history)
                saved_at = budget.iterations_done

        if saved_at != budget.iterations_done or not job.checkpoints:
            _checkpoint(job, args, runner, gen, logger, budget, history)  # a larger budget
        logger.close()  # may continue from the final state
        return TrainingResult("cleanrl", _export(job, args, runner), job.results_dir, history)


def _log(
    logger: TrainingLogger, budget: Budget, losses: dict, lr: float, steps_before: int
) -> None:
    step = budget.steps
    for policy_id, values in losses.items():
        for name, value in values.items():
            logger.scalar(f"losses/{policy_id}/{name}", value, step)
    logger.scalar("charts/learning_rate", lr, step)
    logger.scalar("charts/agent_steps_per_second", step / budget.seconds(), step)
    logger.advance(step - steps_before if budget.by_steps else 1)


def _export(job: TrainingJob, args: Args, runner: Runner) -> TrainedPolicies:
    """Every policy as trained so far (learnt ones exported to MLPPolicy)."""
    policies = {
        p: export_policy(lrn.net, lrn.spec, lrn.obs_rms, args.obs_clip)
        if (lrn := runner.learners.get(p))
        else runner.actors.policies[p]
        for p in job.mapping.policies
    }
    return TrainedPolicies(policies, job.mapping.agent_to_policy, job.env_info())


def _checkpoint(
    job: TrainingJob,
    args: Args,
    runner: Runner,
    gen: torch.Generator,
    logger: TrainingLogger,
    budget: Budget,
    history: list[dict[str, Any]],
) -> None:
    """Save the run between iterations (every buffer is empty then: see cleanrl_state)."""
    state = {
        "learners": {p: learner_state(lrn) for p, lrn in runner.learners.items()},
        "generator": generator_state(gen),
        "runner": runner.state(),
        "logger": logger.state(),
    }
    seconds, policies = budget.seconds(), _export(job, args, runner)
    job.save_checkpoint(state, history, budget.steps, budget.iterations_done, seconds, policies)


def _restore(
    job: TrainingJob, runner: Runner, gen: torch.Generator, logger: TrainingLogger
) -> list[dict[str, Any]]:
    """Put the checkpoint's state back; returns the history so far."""
    assert job.resume is not None
    state = job.resume.state
    try:
        learners = state["learners"]
        if set(learners) != set(runner.learners):
            raise CheckpointError(
                f"cleanrl: the checkpoint trains policies {sorted(learners)}, this run "
                f"{sorted(runner.learners)}"
            )
        for policy_id, learner in runner.learners.items():
            restore_learner(learner, learners[policy_id], policy_id)
        restore_generator(gen, state["generator"])
        runner.restore(state["runner"])
        logger.restore(state["logger"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"cleanrl: the checkpoint misses part of its state ({exc})") from None
    return list(job.resume.history)


# ------------------------------------------------------------------ command line
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m phantomzoo.backends.cleanrl",
        description="Train a registered environment with PPO: every strategic agent class "
        "gets one learnt policy. Other options: ph.train(..., options={...}).",
    )
    parser.add_argument("--env", required=True, help="registered env id, e.g. supply_chain_v0")
    parser.add_argument("--timesteps", type=int, default=20_000, help="learnt agent-steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="results directory (default: runs/...)")
    parser.add_argument("--num-envs", type=int, default=Args.num_envs)
    parser.add_argument("--num-steps", type=int, default=Args.num_steps)
    parser.add_argument("--learning-rate", type=float, default=Args.learning_rate)
    parser.add_argument("--overwrite", action="store_true", help="replace a run in --out")
    return parser


def policies_by_class(env: Any) -> dict[str, type]:
    """One learnt policy per strategic agent class of ``env`` (named after the class)."""
    from phantomzoo.agents import StrategicAgent

    classes = {type(env.network[a]) for a in env.possible_agents}
    found = {cls.__name__: cls for cls in classes if issubclass(cls, StrategicAgent)}
    if not found:
        raise ConfigError(f"{type(env).__name__} has no strategic agents to train")
    return dict(sorted(found.items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for a user error, 130 on stop)."""
    import phantomzoo as ph

    args = _parser().parse_args(argv)
    try:
        options = {
            "num_envs": args.num_envs,
            "num_steps": args.num_steps,
            "learning_rate": args.learning_rate,
        }
        result = ph.train(
            args.env, policies_by_class(ph.make(args.env)), backend="cleanrl",
            timesteps=args.timesteps, seed=args.seed, results_dir=args.out, options=options,
            overwrite=args.overwrite,
        )  # fmt: skip
    except TrainingInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    except PhantomZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    last = result.history[-1] if result.history else {}
    print(f"trained {last.get('timesteps', 0)} agent-steps in {result.wall_seconds:.1f} s")
    print(f"returns {last.get('returns', {})}; policies in {result.results_dir / 'policies'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
