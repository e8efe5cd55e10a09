"""RLlib backend: PPO on RLlib's new API stack (Ray 2.60), one RLModule per learnt policy.

* :class:`PhantomMultiAgentEnv` (:mod:`.rllib_env`) adapts the acting-agents protocol to RLlib's
  ``MultiAgentEnv``: observations of the learnt agents acting next (plus final ones),
  rewards of any rewarded learnt agent (RLlib adds a reward that comes without an
  observation to the agent's pending action: the protocol's delayed-reward rule), and
  per-agent terminateds/truncateds plus RLlib's ``"__all__"`` key, which lives only here.
  **Fixed policies act inside the adapter**, which plays on through turns where only
  fixed agents act: RLlib sees learnt agents only. The adapter tracks every episode with
  ``EpisodeTracker`` (returns of all policies, fixed ones too, and user metrics); an
  ``on_episode_end`` callback ships the summaries to the driver's progress bar,
  TensorBoard files and history. Env runners rebuild the env from ``job.env_source``.
* Ray (:mod:`.rllib_ray`): a session the caller started is reused (and left running);
  ``address`` joins a cluster; else a private local instance starts (auth off unless
  ``RAY_AUTH_MODE`` is set, short private temp dir, loopback only) and is shut down at
  the end.
* Budget: ``iterations`` = ``algo.train()`` calls; ``timesteps`` stops after the call in
  which the learnt agent-steps sampled reach it; ``max_seconds`` starts no call expected
  to end later. The driver (sampler with 0 env runners, and learner) uses 1 torch thread.
* Action masks (:mod:`.rllib_masks`): a policy serving masked agents observes
  ``{"observations", "action_mask"}`` Dicts and learns with a PPO module that masks its
  logits; it exports like the others (the exported policy takes the env's masks).
* Export: the default PPO module's actor encoder and pi head become an ``MLPPolicy``.
  Box actions are learnt in RLlib's normalised space (``normalize_actions=True``:
  unsquashed, then clipped to the bounds), hence ``action_scaling="normalized"``; with
  ``free_log_std`` (default) the exported ``log_std`` is exact (else it is not exported).

Options: ``num_env_runners`` (0: sample in the driver), ``address``, ``train_batch_size``
(env-steps per ``train()``), ``minibatch_size``, ``num_epochs``, ``lr``, ``gamma``,
``model`` (keys of :data:`DEFAULT_MODEL`), ``overrides`` (``{PPOConfig attribute: value}``
applied last, e.g. ``{"lambda_": 0.95}``; ``vf_clip_param`` defaults to 1e6 here because
RLlib's 10 stalls value learning when returns are large), ``max_seconds`` and
``checkpoint_every_iterations`` (also checkpoint every N ``train()`` calls; Phantom's
``checkpoint_freq`` of :func:`phantomzoo.utils.rllib.train`).

**Checkpoints, stop and resume** (:mod:`.rllib_checkpoint`): after each ``train()`` call
a checkpoint is saved when ``checkpoint_seconds`` have passed (or every
``checkpoint_every_iterations``), and always at the end, as plain data from
``algo.get_state()`` (never RLlib's pickled checkpoint). SIGINT/SIGTERM stops after the
current ``train()`` call; ``ph.train(..., resume=True)`` restores weights, optimiser and
connector state, counters and the driver's RNGs, and continues to the total budget.
Episodes in progress and remote env runners' RNGs are not restored: a resumed run
continues training, it does not replay the uninterrupted run bit for bit. With remote
env runners, stop with ``kill -INT <driver pid>``: a terminal's Ctrl-C also reaches
Ray's own processes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.algorithms.ppo.ppo_catalog import PPOCatalog
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.tune.registry import register_env

from phantomzoo.backends._common import (
    Budget,
    TrainingLogger,
    history_row,
    option_names,
    validate_options,
)
from phantomzoo.backends._options import (
    AT_LEAST_1,
    FLAG,
    MAPPING,
    MAX_SECONDS,
    POSITIVE,
    Rule,
    choice,
    int_at_least,
    is_int,
    is_number,
    option,
)
from phantomzoo.backends._torch_state import torch_settings
from phantomzoo.errors import ConfigError
from phantomzoo.training import TrainingJob, TrainingResult
from phantomzoo.training.mapping import PolicySpec
from phantomzoo.training.trained import TrainedPolicies

from ._masks import masked_policies
from .rllib_checkpoint import algo_state, restore_algo
from .rllib_env import (
    SUMMARY_KEY,
    PhantomMultiAgentEnv,
    _log_episode_summary,
    _make_env,
    _PolicyOf,
    rllib_space,
)
from .rllib_export import export_module
from .rllib_imports import check_runners_can_import, explain_runner_failure
from .rllib_masks import MaskedPPOTorchRLModule, masked_observation_space
from .rllib_ray import ray_session

__all__ = [
    "DEFAULTS",
    "OPTIONS",
    "SUPPORTS_CHECKPOINTS",
    "PhantomMultiAgentEnv",
    "build_config",
    "export_module",
    "ray_session",
    "resolve_options",
    "rllib_space",
    "train",
]
ENV_NAME = "phantomzoo_env"
#: ph.train's checkpoint contract: periodic checkpoints, stop on SIGINT/SIGTERM, resume.
SUPPORTS_CHECKPOINTS = True
_HIDDENS = Rule(
    "a non-empty list of ints >= 1",
    lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(is_int(h) and h >= 1 for h in v),
    list,
)


@dataclass
class Args:
    """The rllib backend's options (see the module docs); checked by ``validate_options``."""

    num_env_runners: int = option(0, int_at_least(0))
    address: str | None = option(
        None,
        Rule("a Ray address", lambda v: isinstance(v, str) and bool(v)).optional(
            "a Ray address (or None)"
        ),
    )
    train_batch_size: int = option(4000, AT_LEAST_1)
    minibatch_size: int = option(256, AT_LEAST_1)
    num_epochs: int = option(10, AT_LEAST_1)
    lr: float = option(3e-4, POSITIVE)
    gamma: float = option(0.99, Rule("in (0, 1]", lambda v: is_number(v) and 0 < v <= 1))
    model: dict[str, Any] = option(None, MAPPING, factory=dict)
    overrides: dict[str, Any] = option(None, MAPPING, factory=dict)
    max_seconds: float | None = option(None, MAX_SECONDS)
    checkpoint_every_iterations: int | None = option(
        None, AT_LEAST_1.optional("None or an int >= 1 (iterations between checkpoints)")
    )


@dataclass
class ModelArgs:
    """RLlib ``DefaultModelConfig`` fields the ``model`` option may set, with our defaults."""

    fcnet_hiddens: list[int] = option(None, _HIDDENS, factory=lambda: [64, 64])
    fcnet_activation: str = option("tanh", choice("tanh", "relu"))
    vf_share_layers: bool = option(False, FLAG)
    free_log_std: bool = option(True, FLAG)


#: Option defaults (their keys are the accepted options).
DEFAULTS: dict[str, Any] = asdict(Args())
OPTIONS = option_names(Args)
#: The ``model`` option's keys with our defaults.
DEFAULT_MODEL: dict[str, Any] = asdict(ModelArgs())


# --------------------------------------------------------------------- options
def check_options(options: Mapping[str, Any]) -> None:
    """Refuse bad options before ``ph.train`` touches the results directory."""
    resolve_options(options)


def resolve_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in, each checked (raises ``ConfigError``)."""
    opts = asdict(validate_options(Args, options, "rllib"))
    if opts["minibatch_size"] > opts["train_batch_size"]:
        raise ConfigError(
            f"rllib option minibatch_size ({opts['minibatch_size']}) must not exceed "
            f"train_batch_size ({opts['train_batch_size']})"
        )
    probe = PPOConfig()
    for key, value in opts["overrides"].items():
        try:
            setting = getattr(probe, key, len) if isinstance(key, str) else len
        except Exception as exc:  # noqa: BLE001 - Ray raises ValueError for deprecated names
            raise ConfigError(f"rllib option overrides: {key!r}: {exc}") from None
        if key.startswith("_") or callable(setting):
            raise ConfigError(
                f"rllib option overrides: {key!r} is not a PPOConfig setting (e.g. "
                "'entropy_coeff', 'lambda_', 'vf_clip_param', 'num_envs_per_env_runner')"
            )
        try:
            PPOConfig().update_from_dict({key: value})
        except Exception as exc:  # noqa: BLE001 - any Ray config error names the key here
            raise ConfigError(
                f"rllib option overrides: {key}={value!r} is refused by RLlib: {exc}"
            ) from None
    return {**opts, "model": resolve_model(opts["model"])}


def resolve_model(model: Mapping[str, Any]) -> dict[str, Any]:
    """The ``model`` option with :data:`DEFAULT_MODEL` filled in, checked."""
    return asdict(validate_options(ModelArgs, model, "rllib option model", what="key"))


# ----------------------------------------------------------------- RLlib config
def module_spec(
    policy: PolicySpec, model: Mapping[str, Any], mask_size: int | None = None
) -> RLModuleSpec:
    """The RLModule spec of one learnt policy: RLlib's default PPO torch module, or
    (``mask_size``: its agents have masks of that length) one masking its logits."""
    config = dict(model)
    if not isinstance(policy.action_space, gym.spaces.Box):
        config["free_log_std"] = False  # RLlib has it for Gaussian actions only
    obs_space = policy.observation_space
    if mask_size is not None:
        obs_space = masked_observation_space(obs_space, mask_size)
    return RLModuleSpec(
        module_class=DefaultPPOTorchRLModule if mask_size is None else MaskedPPOTorchRLModule,
        catalog_class=PPOCatalog,
        observation_space=obs_space,
        action_space=rllib_space(policy.action_space),
        model_config=config,
    )


def _flat_box(space: gym.Space[Any]) -> bool:
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1


def build_config(
    job: TrainingJob, opts: Mapping[str, Any], masked: Mapping[str, int] | None = None
) -> PPOConfig:
    """The job's ``PPOConfig``, its env registered under :data:`ENV_NAME`; ``masked``: the
    mask lengths of the policies with action masks (default: found from a new env)."""
    learnt = job.mapping.learnt
    if masked is None:
        masked = masked_policies(job.make_env(), job.mapping)
    for spec in learnt.values():
        obs, act = spec.observation_space, spec.action_space
        if not (_flat_box(obs) and (isinstance(act, gym.spaces.Discrete) or _flat_box(act))):
            raise ConfigError(
                f"rllib backend: policy {spec.policy_id!r} has spaces {obs} / {act}; it "
                "supports 1-D Box observations and Discrete or 1-D Box actions"
            )
    register_env(ENV_NAME, _make_env)
    env_config = {"env_source": job.env_source, "mapping": job.mapping, "metrics": job.metrics}
    env_config["seed"] = job.seed
    if job.resume is not None:  # fresh episode seeds after a resume (see rllib_checkpoint)
        env_config["resumed_at"] = int(job.resume.progress.get("iterations", 0))
    config = (
        PPOConfig()
        .environment(env=ENV_NAME, env_config=env_config, normalize_actions=True)
        .env_runners(num_env_runners=opts["num_env_runners"], num_envs_per_env_runner=1)
        .learners(num_learners=0)
        .multi_agent(
            policies=set(learnt),
            policy_mapping_fn=_PolicyOf(job.mapping.agent_to_policy),
            policies_to_train=list(learnt),
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={
                    p: module_spec(s, opts["model"], masked.get(p)) for p, s in learnt.items()
                }
            )
        )
        .training(
            train_batch_size_per_learner=opts["train_batch_size"],
            minibatch_size=opts["minibatch_size"],
            num_epochs=opts["num_epochs"],
            lr=opts["lr"],
            gamma=opts["gamma"],
            # RLlib's default (10) clips the value loss so hard that values of returns in
            # the hundreds (the supply chain's) are never learnt; override to restore it.
            vf_clip_param=1e6,
        )
        .callbacks(on_episode_end=_log_episode_summary)
        .debugging(seed=job.seed, log_level="ERROR")
    )
    if opts["overrides"]:
        config.update_from_dict(dict(opts["overrides"]))
    return config


# -------------------------------------------------------------------- training
def train(job: TrainingJob) -> TrainingResult:
    """Train the job's learnt policies with RLlib PPO (see the module docs)."""
    opts = resolve_options(job.options)
    budget = Budget.of(job, opts["max_seconds"])  # totals over resumed sessions
    logger = TrainingLogger(
        job.results_dir, list(job.mapping.policies), budget.total,
        unit="step" if budget.by_steps else "it", progress=job.progress,
    )  # fmt: skip
    history: list[dict[str, Any]] = list(job.resume.history) if job.resume is not None else []
    try:
        check_runners_can_import(job.env_source, opts["num_env_runners"], opts["address"])
        masked = masked_policies(job.make_env(), job.mapping)
        with torch_settings(threads=1), ray_session(opts["address"], opts["num_env_runners"]):
            config = build_config(job, opts, masked)
            try:
                algo = config.build_algo()
            except IndexError as exc:  # RLlib's symptom of runners that could not start
                if opts["num_env_runners"] == 0:
                    raise
                raise explain_runner_failure(exc, job.env_source) from exc
            try:
                if job.resume is not None:
                    restore_algo(algo, job.resume, list(job.mapping.learnt))
                    logger.advance(budget.shown)
                loop = _Loop(job, opts, algo, config, logger, history, budget, masked)
                loop.run()
                policies = loop.policies()
            finally:
                algo.stop()
    finally:
        logger.close()
    return TrainingResult(
        backend="rllib", policies=policies, results_dir=job.results_dir, history=history
    )


def _export(
    job: TrainingJob, opts: Mapping[str, Any], config: Any, algo: Any, masked: Mapping[str, int]
) -> TrainedPolicies:
    """Every policy as trained so far (learnt ones exported to MLPPolicy)."""
    weights = algo.learner_group.get_weights(module_ids=list(job.mapping.learnt))
    policies: dict[str, Any] = {}
    for policy_id, spec in job.mapping.policies.items():
        if spec.learnt:
            module = module_spec(spec, opts["model"], masked.get(policy_id)).build()
            module.set_state(weights[policy_id])
            policies[policy_id] = export_module(module, spec, config.normalize_actions)
        else:
            policies[policy_id] = spec.build_fixed()
    return TrainedPolicies(policies, job.mapping.agent_to_policy, job.env_info())


class _Loop:
    """``algo.train()`` until a budget is used or a stop is requested, checkpointing
    every ``checkpoint_seconds``, every ``checkpoint_every_iterations`` and at the end."""

    def __init__(
        self,
        job: TrainingJob,
        opts: Mapping[str, Any],
        algo: Any,
        config: Any,
        logger: TrainingLogger,
        history: list[dict[str, Any]],
        budget: Budget,
        masked: Mapping[str, int],
    ) -> None:
        self.job, self.opts, self.algo, self.config = job, opts, algo, config
        self.masked = masked
        self.logger, self.history, self.budget = logger, history, budget
        self.saved_at = len(history) if job.resume is not None else -1

    @property
    def steps(self) -> int:
        """Learnt agent-steps sampled so far."""
        return self.budget.steps

    def policies(self) -> TrainedPolicies:
        return _export(self.job, self.opts, self.config, self.algo, self.masked)

    def run(self) -> None:
        """Iterate; ``max_seconds`` starts no ``train()`` call expected to end later."""
        job, budget, every = self.job, self.budget, self.opts["checkpoint_every_iterations"]
        last_duration = 0.0
        while not self._done() and job.stop_requested is None:
            if self.history and budget.max_seconds and budget.out_of_time(last_duration):
                break
            tick = time.perf_counter()
            self._iterate()
            last_duration = time.perf_counter() - tick
            if job.checkpoint_due() or (every and len(self.history) % every == 0):
                self.save()
        self.save()  # the final checkpoint (skipped if just saved)

    def save(self) -> None:
        if self.saved_at == len(self.history):
            return
        self.saved_at = len(self.history)
        state, budget = algo_state(self.algo), self.budget
        self.job.save_checkpoint(
            state, self.history, budget.steps, len(self.history), budget.seconds(), self.policies()
        )

    def _done(self) -> bool:
        """Steps or iterations used up (the time budget is checked ahead in :meth:`run`)."""
        budget = self.budget
        if budget.iterations is not None and len(self.history) >= budget.iterations:
            return True
        return budget.timesteps is not None and budget.steps >= budget.timesteps

    def _iterate(self) -> None:
        runners = self.algo.train().get("env_runners", {})
        sampled = runners.get("num_agent_steps_sampled_lifetime", 0)
        new_steps = int(sum(sampled.values()) if isinstance(sampled, Mapping) else sampled)
        summaries = runners.get(SUMMARY_KEY) or []
        for summary in summaries:
            self.logger.episode(summary, new_steps)
        budget = self.budget
        self.logger.advance(new_steps - budget.steps if budget.by_steps else 1)
        budget.steps, budget.iterations_done = new_steps, len(self.history) + 1
        row = history_row(budget, summaries, self.logger.mean_returns())
        self.history.append(
            {
                **row,
                # RLlib's own view: sum over a module's agents, smoothed over episodes.
                "rllib_module_returns": {
                    str(k): float(v)
                    for k, v in runners.get("module_episode_returns_mean", {}).items()
                },
            }
        )
