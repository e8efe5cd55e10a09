"""cleanrl: the built-in PPO backend, one file to read top to bottom.

In the spirit of CleanRL's ``ppo.py``: an :class:`Args` dataclass (``ph.train``'s
``options`` fill it), a small actor-critic per learnt policy, and the loop. What it adds
for agent-based models:

* **Policies, not envs, are batched.** Each step, the observations of all acting agents
  of a policy, over all ``num_envs`` env copies, go through one forward pass. Fixed
  policies act through their batched ``compute_actions`` and produce no transitions.
* **Acting agents only.** Envs are driven through the acting-agents protocol, so stages,
  agents that sit a stage out and agents that terminate early (an advertiser out of
  budget: its trajectory ends, the env goes on) are the normal case.
* **Delayed rewards.** Each (env copy, agent) slot keeps the index of its last pending
  transition; a reward, whenever it arrives, is added to it. A transition's next value
  is that of the slot's next decision (linked when made), of its final observation if
  truncated, or zero if terminated. At the end of a rollout an open transition
  bootstraps from its agent's current observation if the agent acts now, else from its
  own value; a reward arriving after that rollout is not credited to it.
* **Box actions** are Gaussian (state-independent ``log_std``) in a normalised
  ``[-1, 1]`` space, mapped affinely onto ``[low, high]`` (unbounded Boxes are clipped
  instead); **Discrete** actions are Categorical.
* **Normalisation.** Observations by a running mean/variance per policy, exported with
  it. The statistics are refreshed after each update and the first layers re-scaled to
  compute the same function of raw observations, so the policy does not drift as the
  state distribution shifts. Rewards by the running std of the discounted return.

Each learnt policy is exported to a NumPy :class:`~phantomzoo.training.trained.MLPPolicy` with the
same deterministic actions. Same seed, same result: weights, sampling and minibatches
draw from one ``torch.Generator``, episode seeds from ``np.random.default_rng(job.seed)``,
on one torch thread.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, fields
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from phantomzoo.errors import CheckpointError, ConfigError
from phantomzoo.training import TrainingJob, TrainingResult
from phantomzoo.training.mapping import PolicySpec
from phantomzoo.training.trained import MLPPolicy, TrainedPolicies

from ._common import EpisodeTracker, TrainingLogger
from ._torch_state import set_generator_state
from .cleanrl_state import (
    decode_log,
    encode_log,
    generator_state,
    learner_state,
    restore_generator,
    restore_learner,
)

#: ph.train may checkpoint this backend and resume it (bit-identically: see cleanrl_state).
SUPPORTS_CHECKPOINTS = True


@dataclass
class Args:
    """PPO settings; every field is an ``options`` key of ``ph.train(backend="cleanrl")``."""

    num_envs: int = 16
    """Environment copies stepped in turn; their agents share each forward pass (large
    populations need fewer: 1 copy of 1200 advertisers already batches 400 per policy)."""
    num_steps: int = 64
    """``acting_step`` calls per env copy per iteration (one rollout, one update)."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the budget (timesteps, iterations or
    ``max_seconds``, whichever runs out first)."""
    gamma: float = 0.99
    """Discount factor per decision of an agent."""
    gae_lambda: float = 0.95
    """Lambda of generalised advantage estimation."""
    num_minibatches: int = 4
    """Minibatches each policy's rollout is split into."""
    update_epochs: int = 5
    """Passes over the rollout per iteration."""
    norm_adv: bool = True
    """Normalise advantages within each minibatch."""
    clip_coef: float = 0.2
    """PPO surrogate clipping coefficient."""
    clip_vloss: bool = False
    """Also clip the value loss around the rollout's values."""
    ent_coef: float = 0.0
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    max_grad_norm: float = 0.5
    """Gradient norm clipping."""
    target_kl: float | None = None
    """Stop a policy's epochs early once the approximate KL exceeds this (None: never)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the actor and of the (separate) critic."""
    activation: str = "tanh"
    """Hidden activation: ``"tanh"`` or ``"relu"``."""
    log_std_init: float = -1.0
    """Initial log standard deviation of Box actions, in the normalised space."""
    norm_obs: bool = True
    """Normalise observations by running statistics (refreshed each iteration, exported)."""
    obs_clip: float = 10.0
    """Clip normalised observations to ``[-obs_clip, obs_clip]``."""
    norm_reward: bool = True
    """Scale rewards by the running std of the discounted return (training only)."""
    reward_clip: float = 10.0
    """Clip scaled rewards to ``[-reward_clip, reward_clip]``."""
    max_seconds: float | None = None
    """Wall-time budget: the rollout in progress stops, then a last update runs."""


OPTIONS = frozenset(f.name for f in fields(Args))
_RULES: list[tuple[tuple[str, ...], str, Any]] = [  # (options, expected, check)
    (
        ("num_envs", "num_steps", "num_minibatches", "update_epochs"),
        "an int >= 1",
        lambda v: _int(v) and v >= 1,
    ),
    (("gamma", "gae_lambda"), "a number in [0, 1]", lambda v: _num(v) and 0 <= v <= 1),
    (
        ("learning_rate", "clip_coef", "ent_coef", "vf_coef", "max_grad_norm"),
        "a finite number >= 0",
        lambda v: _num(v) and 0 <= v < math.inf,
    ),
    (("obs_clip", "reward_clip"), "a finite number > 0", lambda v: _num(v) and 0 < v < math.inf),
    (
        ("anneal_lr", "norm_adv", "clip_vloss", "norm_obs", "norm_reward"),
        "True or False",
        lambda v: isinstance(v, bool),
    ),
    (
        ("target_kl", "max_seconds"),
        "None or a number > 0",
        lambda v: v is None or (_num(v) and v > 0),
    ),
    (("log_std_init",), "a finite number", lambda v: _num(v) and math.isfinite(v)),
    (("activation",), "'tanh' or 'relu'", lambda v: v in ("tanh", "relu")),
    (
        ("hidden_sizes",),
        "a non-empty list of ints >= 1",
        lambda v: isinstance(v, (list, tuple)) and bool(v) and all(_int(h) and h >= 1 for h in v),
    ),
]
_CHECKS = {name: (expected, check) for names, expected, check in _RULES for name in names}


def _int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _num(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def make_args(options: dict[str, Any]) -> Args:
    """:class:`Args` from ``options``, every value checked.

    Raises:
        ConfigError: for an unknown option or a value of the wrong type or range.
    """
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise ConfigError(f"cleanrl: unknown option(s) {unknown}; options are {sorted(OPTIONS)}")
    for name, value in options.items():
        expected, ok = _CHECKS[name]
        if not ok(value):
            raise ConfigError(f"cleanrl: option {name} must be {expected}, got {value!r}")
    args = Args(**options)
    args.hidden_sizes = tuple(args.hidden_sizes)
    return args


class RunningMeanStd:
    """Running mean and variance of a stream of batches (parallel-variance update)."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean, self.var, self.count = np.zeros(shape), np.ones(shape), 1e-4

    def update(self, batch: np.ndarray) -> None:
        n, mean, var = len(batch), batch.mean(axis=0), batch.var(axis=0)
        delta, total = mean - self.mean, self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs; Gaussian (Box) or Categorical (Discrete) actions.

    Args:
        obs_dim: Flattened observation size.
        action_space: The policy's Box or Discrete action space.
        args: Hidden sizes, activation and initial ``log_std``.
        generator: Draws the (orthogonal) initial weights.
    """

    def __init__(
        self, obs_dim: int, action_space: gym.Space[Any], args: Args, generator: torch.Generator
    ) -> None:
        super().__init__()
        self.box = isinstance(action_space, gym.spaces.Box)
        out = int(np.prod(action_space.shape)) if self.box else int(action_space.n)
        self.activation = args.activation

        def mlp(out_dim: int, head_gain: float) -> nn.Sequential:
            sizes, layers = [obs_dim, *args.hidden_sizes], []
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                layers.append(_init(nn.Linear(n_in, n_out), math.sqrt(2), generator))
                layers.append(nn.Tanh() if args.activation == "tanh" else nn.ReLU())
            return nn.Sequential(
                *layers, _init(nn.Linear(sizes[-1], out_dim), head_gain, generator)
            )

        self.actor, self.critic = mlp(out, 0.01), mlp(1, 1.0)
        self.log_std = (
            nn.Parameter(torch.full((out,), float(args.log_std_init))) if self.box else None
        )

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def sample(self, obs: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
        """Sampled actions, their log-probabilities and the values."""
        out = self.actor(obs)
        if self.box:
            noise = torch.randn(out.shape, generator=gen)
            actions = out + noise * self.log_std.exp()
            logp = (-0.5 * noise.square() - self.log_std - _HALF_LOG_2PI).sum(-1)
        else:
            logits = torch.log_softmax(out, dim=-1)
            actions = torch.multinomial(logits.exp(), 1, generator=gen).squeeze(-1)
            logp = logits.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        return actions, logp, self.value(obs)

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Log-probabilities of ``actions``, entropies and values."""
        out = self.actor(obs)
        if self.box:
            z = (actions - out) * torch.exp(-self.log_std)
            logp = (-0.5 * z.square() - self.log_std - _HALF_LOG_2PI).sum(-1)
            entropy = (self.log_std + 0.5 + _HALF_LOG_2PI).sum().expand(len(obs))
        else:
            logits = torch.log_softmax(out, dim=-1)
            logp = logits.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
            entropy = -(logits.exp() * logits).sum(-1)
        return logp, entropy, self.value(obs)

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic actions: the clipped mean (Box, normalised space) or the argmax."""
        out = self.actor(obs)
        return out.clamp(-1.0, 1.0) if self.box else out.argmax(-1)


def _init(layer: nn.Linear, gain: float, generator: torch.Generator) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain, generator=generator)
    nn.init.zeros_(layer.bias)
    return layer


def export_policy(
    net: ActorCritic, spec: PolicySpec, obs_rms: RunningMeanStd | None, obs_clip: float
) -> MLPPolicy:
    """The actor of ``net`` as a NumPy :class:`MLPPolicy` with the same deterministic actions."""
    weights = [
        (m.weight.detach().double().numpy().T.copy(), m.bias.detach().double().numpy().copy())
        for m in net.actor
        if isinstance(m, nn.Linear)
    ]
    return MLPPolicy(
        spec.observation_space,
        spec.action_space,
        layers=weights[:-1],
        head=weights[-1],
        activation=net.activation,
        log_std=None if net.log_std is None else net.log_std.detach().double().numpy().copy(),
        obs_mean=None if obs_rms is None else obs_rms.mean.copy(),
        obs_var=None if obs_rms is None else obs_rms.var.copy(),
        obs_clip=obs_clip,
        action_scaling="normalized" if _bounded(spec.action_space) else "clip",
    )


def _bounded(space: gym.Space[Any]) -> bool:
    return isinstance(space, gym.spaces.Box) and bool(space.is_bounded("both"))


class Learner:
    """One learnt policy: its network, optimiser, normalisers and rollout buffer.

    Transitions are rows of preallocated arrays, in the order they were made; ``next``
    links each to its slot's next decision (-1: none yet, or the trajectory ended).
    """

    def __init__(self, spec: PolicySpec, args: Args, num_envs: int, generator: torch.Generator):
        obs_space, act_space = spec.observation_space, spec.action_space
        if not isinstance(obs_space, gym.spaces.Box):
            raise ConfigError(
                f"cleanrl: policy {spec.policy_id!r} observes {obs_space}; only Box "
                "observations are supported (flatten Dict observations in the agent)"
            )
        if not isinstance(act_space, (gym.spaces.Box, gym.spaces.Discrete)):
            raise ConfigError(
                f"cleanrl: policy {spec.policy_id!r} acts in {act_space}; only Box and "
                "Discrete actions are supported"
            )
        self.spec, self.args, self.box = spec, args, isinstance(act_space, gym.spaces.Box)
        obs_dim = int(np.prod(obs_space.shape))
        self.net = ActorCritic(obs_dim, act_space, args, generator)
        self.optimizer = torch.optim.Adam(
            self.net.parameters(), lr=args.learning_rate, eps=1e-5, fused=True
        )
        self.obs_rms = RunningMeanStd((obs_dim,)) if args.norm_obs else None
        self.ret_rms = RunningMeanStd()
        self.index = {agent_id: n for n, agent_id in enumerate(spec.agent_ids)}
        self.num_agents = len(spec.agent_ids)
        slots = num_envs * self.num_agents
        self.pending = np.full(slots, -1)  # slot -> its open transition
        self.discounted = np.zeros(slots)  # slot -> running discounted return
        if self.box:
            self.low, self.high = act_space.low.reshape(-1), act_space.high.reshape(-1)
            self.normalized = _bounded(act_space)
        cap = args.num_steps * slots
        self.obs = np.zeros((cap, obs_dim), np.float32)
        act_shape = (int(np.prod(act_space.shape)),) if self.box else ()
        self.actions = np.zeros((cap, *act_shape), np.float32 if self.box else np.int64)
        self.logp, self.values = np.zeros(cap, np.float32), np.zeros(cap, np.float32)
        self.rewards, self.boot, self.next = np.zeros(cap), np.zeros(cap), np.full(cap, -1)
        self.size, self.chunks, self.returns_seen, self.raw_seen = 0, [], [], []

    def normalise(self, obs: np.ndarray) -> np.ndarray:
        """Normalised float32 observations."""
        if self.obs_rms is None:
            return obs.astype(np.float32)
        scaled = (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + 1e-8)
        return np.clip(scaled, -self.args.obs_clip, self.args.obs_clip).astype(np.float32)

    def refresh_normaliser(self) -> None:
        """Fold the rollout's observations into the statistics, keeping the networks'
        functions of raw observations unchanged (their first layers absorb the change), so
        the policy does not drift as the state distribution moves."""
        if self.obs_rms is None or not self.raw_seen:
            return
        old_mean, old_std = self.obs_rms.mean, np.sqrt(self.obs_rms.var + 1e-8)
        self.obs_rms.update(np.concatenate(self.raw_seen))
        new_std = np.sqrt(self.obs_rms.var + 1e-8)
        scale = torch.from_numpy((new_std / old_std).astype(np.float32))
        shift = torch.from_numpy(((self.obs_rms.mean - old_mean) / old_std).astype(np.float32))
        with torch.no_grad():  # W x_old + b == (W * scale) x_new + (b + W shift)
            for layer in (self.net.actor[0], self.net.critic[0]):
                layer.bias += layer.weight @ shift
                layer.weight *= scale

    def values_of(self, raw_obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net.value(torch.from_numpy(self.normalise(raw_obs))).numpy()

    def act(self, raw_obs: np.ndarray, slots: np.ndarray, gen: torch.Generator) -> list[Any]:
        """Sample actions for a batch of agents, record the transitions, return env actions."""
        obs = self.normalise(raw_obs)
        self.raw_seen.append(raw_obs)
        with torch.no_grad():
            actions, logp, values = self.net.sample(torch.from_numpy(obs), gen)
        start, end = self.size, self.size + len(slots)
        rows = np.arange(start, end)
        self.obs[start:end], self.actions[start:end] = obs, actions.numpy()
        self.logp[start:end], self.values[start:end] = logp.numpy(), values.numpy()
        self.rewards[start:end], self.boot[start:end], self.next[start:end] = 0.0, 0.0, -1
        previous = self.pending[slots]
        self.next[previous[previous >= 0]] = rows[previous >= 0]
        self.pending[slots] = rows
        self.returns_seen.append(self.discounted[slots])
        self.discounted[slots] *= self.args.gamma
        self.size = end
        self.chunks.append((start, end))
        chosen = self.actions[start:end]
        space = self.spec.action_space
        if not self.box:
            return (chosen + int(space.start)).tolist()
        if self.normalized:
            chosen = self.low + (np.clip(chosen, -1.0, 1.0) + 1.0) * 0.5 * (self.high - self.low)
        else:
            chosen = np.clip(chosen, self.low, self.high)
        return list(chosen.astype(space.dtype).reshape(len(slots), *space.shape))

    def reward(self, slots: np.ndarray, rewards: np.ndarray) -> None:
        """Credit rewards to each slot's pending transition (the action that earned them)."""
        open_ = self.pending[slots]
        np.add.at(self.rewards, open_[open_ >= 0], rewards[open_ >= 0])
        np.add.at(self.discounted, slots, rewards)

    def end(self, slots: np.ndarray, boot_values: np.ndarray) -> None:
        """End the slots' trajectories; ``boot_values``: 0 if terminated, V(final obs)."""
        open_ = self.pending[slots]
        self.boot[open_[open_ >= 0]] = boot_values[open_ >= 0]
        self.returns_seen.append(self.discounted[slots[open_ >= 0]])
        self.pending[slots], self.discounted[slots] = -1, 0.0

    def advantages(self, slots: np.ndarray, raw_obs: np.ndarray) -> tuple[np.ndarray, ...]:
        """GAE advantages and returns; open transitions bootstrap from ``raw_obs`` of the
        ``slots`` that act now, else from their own value."""
        n, args = self.size, self.args
        open_ = self.pending[self.pending >= 0]
        self.boot[open_] = self.values[open_]
        if len(slots):
            index = self.pending[slots]
            self.boot[index[index >= 0]] = self.values_of(raw_obs[index >= 0])
        rewards = self.rewards[:n]
        if args.norm_reward:
            self.ret_rms.update(np.concatenate(self.returns_seen))
            rewards = rewards / np.sqrt(self.ret_rms.var + 1e-8)
            rewards = np.clip(rewards, -args.reward_clip, args.reward_clip)
        values, nxt = self.values[:n].astype(np.float64), self.next[:n]
        linked = nxt >= 0
        follow = np.where(linked, nxt, n)  # row n holds a zero: the recursion stops there
        next_values = np.where(linked, np.append(values, 0.0)[follow], self.boot[:n])
        delta = rewards + args.gamma * next_values - values
        adv = np.zeros(n + 1)
        for start, end in reversed(self.chunks):  # a transition's successor comes later
            adv[start:end] = (
                delta[start:end] + args.gamma * args.gae_lambda * adv[follow[start:end]]
            )
        return adv[:n], adv[:n] + values

    def update(
        self, slots: np.ndarray, raw_obs: np.ndarray, lr: float, gen: torch.Generator
    ) -> dict[str, float]:
        """Clipped PPO epochs over the rollout, then an empty buffer; mean loss statistics."""
        args, net, n = self.args, self.net, self.size
        adv, ret = (torch.from_numpy(a.astype(np.float32)) for a in self.advantages(slots, raw_obs))
        obs, actions = torch.from_numpy(self.obs[:n]), torch.from_numpy(self.actions[:n])
        old_logp, old_values = torch.from_numpy(self.logp[:n]), torch.from_numpy(self.values[:n])
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        size = max(1, math.ceil(n / args.num_minibatches))
        names = ("policy_loss", "value_loss", "entropy", "approx_kl")
        stats: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.update_epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, size):
                mb = order[start : start + size]
                logp, entropy, values = net.evaluate(obs[mb], actions[mb])
                log_ratio = logp - old_logp[mb]
                ratio = log_ratio.exp()
                mb_adv = adv[mb]
                if args.norm_adv and len(mb) > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                clipped = ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(-mb_adv * ratio, -mb_adv * clipped).mean()
                v_loss = (values - ret[mb]).square()
                if args.clip_vloss:
                    v_clip = old_values[mb] + (values - old_values[mb]).clamp(
                        -args.clip_coef, args.clip_coef
                    )
                    v_loss = torch.max(v_loss, (v_clip - ret[mb]).square())
                v_loss = 0.5 * v_loss.mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), args.max_grad_norm, foreach=True)
                self.optimizer.step()
                kl = ((ratio - 1) - log_ratio).mean()
                for name, value in zip(names, (pg_loss, v_loss, entropy.mean(), kl)):
                    stats[name].append(value.item())
            if args.target_kl is not None and stats["approx_kl"][-1] > args.target_kl:
                break
        self.refresh_normaliser()
        self.size, self.chunks, self.returns_seen, self.raw_seen = 0, [], [], []
        self.pending[:] = -1
        return {k: float(np.mean(v)) for k, v in stats.items()}


class Runner:
    """The env copies and the policies acting in them, stepped together."""

    def __init__(self, job: TrainingJob, args: Args, gen: torch.Generator, logger: TrainingLogger):
        mapping = job.mapping
        self.gen, self.logger, self.policy_ids = gen, logger, list(mapping.policies)
        self.seeds = np.random.default_rng(job.seed)
        self.learners = {p: Learner(s, args, args.num_envs, gen) for p, s in mapping.learnt.items()}
        self.fixed = {p: s.build_fixed() for p, s in mapping.fixed.items()}
        self.owners = [  # per env copy: agent -> (policy id, its slot in the learner or -1)
            {a: (p, self._slot(p, e, a)) for a, p in mapping.agent_to_policy.items()}
            for e in range(args.num_envs)
        ]
        self.envs = [job.make_env() for _ in range(args.num_envs)]
        self.trackers = [EpisodeTracker(mapping, job.metrics) for _ in self.envs]
        self.episode_seeds = [0] * args.num_envs  # per copy: its current episode's seed
        self.logs: list[list[dict[Any, Any]]] = [[] for _ in self.envs]  # and its actions
        self.observations = [self._reset(e) for e in range(args.num_envs)]
        self.episodes: list[dict[str, Any]] = []  # summaries of the episodes finished

    def _slot(self, policy_id: str, e: int, agent_id: Any) -> int:
        learner = self.learners.get(policy_id)
        return -1 if learner is None else e * learner.num_agents + learner.index[agent_id]

    def _reset(self, e: int, seed: int | None = None) -> dict[Any, Any]:
        self.trackers[e].start()
        self.episode_seeds[e] = int(self.seeds.integers(2**31)) if seed is None else seed
        self.logs[e] = []
        return self.envs[e].acting_reset(seed=self.episode_seeds[e])[0]

    # -------------------------------------------------------------- checkpoints
    def state(self) -> dict[str, Any]:
        """Seeds, each copy's episode so far (seed + actions) and fixed policies' RNGs."""
        return {
            "seeds": self.seeds.bit_generator.state,
            "copies": [
                {"seed": seed, "log": encode_log(log), "digest": _digest(obs)}
                for seed, log, obs in zip(self.episode_seeds, self.logs, self.observations)
            ],
            "fixed": {p: _space_rng(policy) for p, policy in self.fixed.items()},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Rebuild every env copy by replaying its episode (see ``cleanrl_state``)."""
        copies = state["copies"]
        if len(copies) != len(self.envs):
            raise CheckpointError(
                f"cleanrl: the checkpoint has {len(copies)} env copies, this run {len(self.envs)}"
            )
        set_generator_state(self.seeds, state["seeds"])
        for policy_id, rng_state in state.get("fixed", {}).items():
            if rng_state is not None and policy_id in self.fixed:
                set_generator_state(self.fixed[policy_id].action_space.np_random, rng_state)
        for e, copy in enumerate(copies):
            obs, env = self._reset(e, int(copy["seed"])), self.envs[e]
            for actions in decode_log(copy["log"]):
                stage = getattr(env, "current_stage", None)
                obs, rewards, *_ = env.acting_step(actions)
                self.trackers[e].step(env, rewards, stage)
                self.logs[e].append(actions)
            if _digest(obs) != copy["digest"]:
                raise CheckpointError(
                    f"cleanrl: env copy {e} did not replay to the state it was saved in; the "
                    "model is not deterministic given its seed and actions, so this run cannot "
                    "be resumed exactly (start it again, or fix the model's randomness)"
                )
            self.observations[e] = obs

    def step(self, global_step: int) -> int:
        """One ``acting_step`` in every env copy; returns the learnt transitions made."""
        acting: dict[str, list[tuple[int, Any, int, Any]]] = {p: [] for p in self.policy_ids}
        for e, env in enumerate(self.envs):
            obs, owner = self.observations[e], self.owners[e]
            for agent_id in env.acting_agents:
                policy_id, slot = owner[agent_id]
                acting[policy_id].append((e, agent_id, slot, obs[agent_id]))
        actions: list[dict[Any, Any]] = [{} for _ in self.envs]
        made = 0
        for policy_id, entries in acting.items():
            if not entries:
                continue
            where, ids, slots, batch = zip(*entries)
            if policy_id in self.learners:  # one forward pass for all its acting agents
                raw = np.asarray(batch, np.float64).reshape(len(ids), -1)
                chosen = self.learners[policy_id].act(raw, np.asarray(slots), self.gen)
                made += len(ids)
            else:
                chosen = self.fixed[policy_id].compute_actions(list(batch))
            for e, agent_id, action in zip(where, ids, chosen):
                actions[e][agent_id] = action
        rewarded = {p: ([], []) for p in self.learners}  # slots, rewards
        ended = {p: ([], []) for p in self.learners}  # slots, final obs (None: terminated)
        for e, env in enumerate(self.envs):
            stage = getattr(env, "current_stage", None)
            self.logs[e].append(actions[e])
            obs, rewards, terminations, truncations, _ = env.acting_step(actions[e])
            self.trackers[e].step(env, rewards, stage)
            owner = self.owners[e]
            for agent_id, reward in rewards.items():
                policy_id, slot = owner[agent_id]
                if slot >= 0:
                    rewarded[policy_id][0].append(slot), rewarded[policy_id][1].append(reward)
            for agent_id, terminated in terminations.items():
                policy_id, slot = owner[agent_id]
                if slot >= 0 and (terminated or truncations[agent_id]):
                    ended[policy_id][0].append(slot)
                    ended[policy_id][1].append(None if terminated else obs.get(agent_id))
            if not env.acting_agents:  # the episode is over
                self.episodes.append(self.trackers[e].finish())
                self.logger.episode(self.episodes[-1], global_step + made)
                obs = self._reset(e)
            self.observations[e] = obs
        for policy_id, learner in self.learners.items():
            slots, values = rewarded[policy_id]
            if slots:
                learner.reward(np.asarray(slots), np.asarray(values, np.float64))
            slots, final = ended[policy_id]
            if slots:
                boot = np.zeros(len(slots))
                truncated = [n for n, o in enumerate(final) if o is not None]
                if truncated:
                    raw = np.asarray([final[n] for n in truncated], np.float64)
                    boot[truncated] = learner.values_of(raw.reshape(len(truncated), -1))
                learner.end(np.asarray(slots), boot)
        return made

    def acting_now(self, policy_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Slots and raw observations of the policy's agents that act next."""
        slots, batch = [], []
        for env, owner, obs in zip(self.envs, self.owners, self.observations):
            for agent_id in env.acting_agents:
                if owner[agent_id][0] == policy_id:
                    slots.append(owner[agent_id][1]), batch.append(obs[agent_id])
        return np.asarray(slots, np.int64), np.asarray(batch, np.float64).reshape(len(slots), -1)


def train(job: TrainingJob) -> TrainingResult:
    """Train every learnt policy of ``job.mapping`` with PPO (see the module docs)."""
    args = make_args(job.options)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)  # small MLPs: more threads only fight over shared cores
    torch.use_deterministic_algorithms(True)
    try:
        return _train(job, args)
    finally:  # leave torch's process-wide settings as they were
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(job: TrainingJob, args: Args) -> TrainingResult:
    resume = job.resume
    progress = resume.progress if resume is not None else {}
    global_step, iteration = int(progress.get("timesteps", 0)), int(progress.get("iterations", 0))
    started = time.perf_counter() - float(progress.get("seconds", 0.0))
    gen = torch.Generator().manual_seed(job.seed)
    by_steps = job.timesteps is not None
    logger = TrainingLogger(
        job.results_dir,
        list(job.mapping.policies),
        job.timesteps if by_steps else job.iterations,
        "agent-step" if by_steps else "iteration",
        job.progress,
        initial=global_step if by_steps else iteration,
    )
    runner = Runner(job, args, gen, logger)
    history: list[dict[str, Any]] = []
    if resume is not None:
        history = _restore(resume.state, resume.history, runner, gen, logger)
    saved_at = iteration

    def used() -> float:  # fraction of the budget used (of whichever runs out first)
        fractions = [0.0]
        if job.timesteps is not None:
            fractions.append(global_step / job.timesteps)
        if job.iterations is not None:
            fractions.append(iteration / job.iterations)
        if args.max_seconds is not None:
            fractions.append((time.perf_counter() - started) / args.max_seconds)
        return max(fractions)

    def checkpoint() -> None:
        nonlocal saved_at
        state = {
            "learners": {p: learner_state(lrn) for p, lrn in runner.learners.items()},
            "generator": generator_state(gen),
            "runner": runner.state(),
            "logger": logger.state(),
        }
        seconds = time.perf_counter() - started
        policies = _export(job, args, runner)
        job.save_checkpoint(state, history, global_step, iteration, seconds, policies)
        saved_at = iteration

    while used() < 1.0 and not job.stop_requested:
        lr = args.learning_rate * (1.0 - used() if args.anneal_lr else 1.0)
        steps_before, runner.episodes = global_step, []
        for _ in range(args.num_steps):
            global_step += runner.step(global_step)
            if used() >= 1.0:
                break
        iteration += 1
        losses = {
            p: learner.update(*runner.acting_now(p), lr, gen)
            for p, learner in runner.learners.items()
            if learner.size
        }
        elapsed = time.perf_counter() - started
        for policy_id, values in losses.items():
            for name, value in values.items():
                logger.scalar(f"losses/{policy_id}/{name}", value, global_step)
        logger.scalar("charts/learning_rate", lr, global_step)
        logger.scalar("charts/agent_steps_per_second", global_step / elapsed, global_step)
        logger.advance(global_step - steps_before if by_steps else 1)
        history.append(_iteration_record(runner.episodes, iteration, global_step, elapsed, logger))
        history[-1].update(learning_rate=lr, losses=losses)
        if job.checkpoint_due():
            checkpoint()
    if saved_at != iteration or not job.checkpoints:
        checkpoint()  # the final state, so that a larger budget can continue from it
    logger.close()
    return TrainingResult("cleanrl", _export(job, args, runner), job.results_dir, history)


def _iteration_record(
    episodes: list[dict[str, Any]], iteration: int, step: int, elapsed: float, logger: Any
) -> dict[str, Any]:
    """One history entry: returns over the latest episodes, lengths, metrics."""
    metrics: dict[str, list[float]] = {}
    for summary in episodes:
        for name, value in summary["metrics"].items():
            metrics.setdefault(name, []).append(value)
    lengths = [summary["length"] for summary in episodes]
    return {
        "iteration": iteration,
        "timesteps": step,
        "seconds": elapsed,
        "returns": logger.mean_returns(),  # mean over the latest episodes, per policy
        "episodes": len(episodes),
        "episode_length": float(np.mean(lengths)) if lengths else None,
        "metrics": {name: float(np.nanmean(v)) for name, v in metrics.items()},
    }


def _export(job: TrainingJob, args: Args, runner: Runner) -> TrainedPolicies:
    policies = {
        p: export_policy(lrn.net, lrn.spec, lrn.obs_rms, args.obs_clip)
        if (lrn := runner.learners.get(p))
        else runner.fixed[p]
        for p in job.mapping.policies
    }
    return TrainedPolicies(policies, job.mapping.agent_to_policy, job.env_info())


def _restore(
    state: Any, history: list[dict[str, Any]], runner: Runner, gen: torch.Generator, logger: Any
) -> list[dict[str, Any]]:
    """Put a checkpoint's state back; returns the history so far."""
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
    return list(history)


def _digest(observations: dict[Any, Any]) -> str:
    """A fingerprint of a copy's current observations (checks replays)."""
    digest = hashlib.sha256()
    for agent_id in sorted(observations, key=repr):
        digest.update(repr(agent_id).encode())
        digest.update(np.ascontiguousarray(observations[agent_id]).tobytes())
    return digest.hexdigest()


def _space_rng(policy: Any) -> Any:
    """The state of a fixed policy's action-space generator, if it has one."""
    space = getattr(policy, "action_space", None)
    rng = getattr(space, "_np_random", None)
    return None if rng is None else rng.bit_generator.state
