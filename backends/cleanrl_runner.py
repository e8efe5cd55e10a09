"""cleanrl's agent and env side: one :class:`Learner` per learnt policy, one :class:`Runner`
stepping the env copies.

* :class:`Learner` is CleanRL's agent plus its optimiser for one policy: the
  :class:`~.cleanrl_nets.ActorCritic`, Adam, the observation and return normalisers and
  the :class:`~.cleanrl_buffer.Transitions` of the current rollout. It samples actions
  for a batch of that policy's acting agents, computes GAE and runs the PPO epochs.
* :class:`Runner` holds ``num_envs`` env copies driven through the acting-agents
  protocol. Each step it groups the acting agents of all copies by policy (one forward
  pass per learnt policy, one ``compute_actions`` per fixed one), steps every copy, and
  hands rewards and trajectory ends to the learners' buffers. It also records each
  copy's seed and actions, which is what a checkpoint needs (``cleanrl_state``).

**Action masks.** A learnt policy serving agents with action masks (the env's
``engine.masked_agents``) samples from masked logits: each step the masks come from the
``infos[agent]["action_mask"]`` the env returned with the observations (all ones for
an agent of the policy without a mask), are stored with the decision and reused by
the update (:mod:`.cleanrl_nets`).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from phantomzoo.errors import CheckpointError, ConfigError
from phantomzoo.training import TrainingJob
from phantomzoo.training.mapping import PolicySpec

from ._common import (
    ActionCodec,
    EpisodeTracker,
    FixedActors,
    TrainingLogger,
    episode_seed,
    seed_stream,
)
from ._torch_state import set_generator_state
from .cleanrl_buffer import Transitions
from .cleanrl_nets import ActorCritic, RunningMeanStd
from .cleanrl_state import decode_log, encode_log

#: The loss statistics of one update, as logged (``losses/<policy>/<name>``).
LOSS_NAMES = ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac")


class Learner:
    """One learnt policy: network, optimiser, normalisers and rollout buffer."""

    def __init__(
        self,
        spec: PolicySpec,
        args: Any,
        num_envs: int,
        generator: torch.Generator,
        mask_dim: int | None = None,
    ):
        obs_space, act_space = spec.observation_space, spec.action_space
        if not isinstance(obs_space, gym.spaces.Box):
            raise ConfigError(
                f"cleanrl: policy {spec.policy_id!r} observes {obs_space}; only Box "
                "observations are supported (flatten Dict observations in the agent)"
            )
        box = isinstance(act_space, gym.spaces.Box)
        work = np.result_type(np.float32, act_space.dtype) if box else np.float64
        self.codec = ActionCodec(act_space, f"cleanrl: policy {spec.policy_id!r}", work)
        self.spec, self.args, self.box = spec, args, box
        obs_dim = int(np.prod(obs_space.shape))
        self.net = ActorCritic(
            obs_dim, act_space, args.hidden_sizes, args.activation, args.log_std_init, generator
        )
        self.optimizer = torch.optim.Adam(
            self.net.parameters(), lr=args.learning_rate, eps=1e-5, fused=True
        )
        self.obs_rms = RunningMeanStd((obs_dim,)) if args.norm_obs else None
        self.ret_rms = RunningMeanStd()
        self.index = {agent_id: n for n, agent_id in enumerate(spec.agent_ids)}
        self.num_agents = len(spec.agent_ids)
        slots = num_envs * self.num_agents
        act_shape = (
            () if isinstance(act_space, gym.spaces.Discrete) else (int(np.prod(act_space.shape)),)
        )
        self.masked = mask_dim is not None  # some agent of the policy has action masks
        self.buffer = Transitions(
            slots, args.num_steps * slots, obs_dim, act_shape,
            np.float32 if box else np.int64, args.gamma, mask_dim,
        )  # fmt: skip
        self.raw_seen: list[np.ndarray] = []  # this rollout's raw observations

    @property
    def discounted(self) -> np.ndarray:
        """Each slot's running discounted return (checkpointed)."""
        return self.buffer.discounted

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
        """V of raw observations (a batch)."""
        with torch.no_grad():
            return self.net.value(torch.from_numpy(self.normalise(raw_obs))).numpy()

    def act(
        self,
        raw_obs: np.ndarray,
        slots: np.ndarray,
        gen: torch.Generator,
        masks: np.ndarray | None = None,
    ) -> list[Any]:
        """Sample actions for a batch of agents (from the legal ones, given ``masks``),
        record the transitions, return env actions."""
        obs = self.normalise(raw_obs)
        self.raw_seen.append(raw_obs)
        mask = None if masks is None else torch.from_numpy(masks)
        with torch.no_grad():
            actions, logp, values = self.net.sample(torch.from_numpy(obs), gen, mask)
        out = (actions.numpy(), logp.numpy(), values.numpy())
        rows = self.buffer.add(slots, obs, *out, masks)
        return self.codec.to_env(self.buffer.actions[rows])

    def advantages(self, slots: np.ndarray, raw_obs: np.ndarray) -> tuple[np.ndarray, ...]:
        """Bootstrap the open transitions (from ``raw_obs`` of the ``slots`` that act now),
        scale the rewards, and return GAE advantages and returns."""
        buffer, args = self.buffer, self.args
        acting_open = buffer.open_rows(slots) if len(slots) else np.zeros(0, bool)
        values_now = self.values_of(raw_obs[acting_open]) if acting_open.any() else []
        now = np.zeros(len(slots))
        now[acting_open] = values_now
        buffer.bootstrap_open(slots, now)
        rewards = buffer.rewards[: buffer.size]
        if args.norm_reward:
            self.ret_rms.update(np.concatenate(buffer.returns_seen))
            rewards = rewards / np.sqrt(self.ret_rms.var + 1e-8)
            rewards = np.clip(rewards, -args.reward_clip, args.reward_clip)
        return buffer.gae(rewards, args.gae_lambda)

    def update(
        self, adv: np.ndarray, ret: np.ndarray, lr: float, gen: torch.Generator
    ) -> dict[str, float]:
        """Clipped PPO epochs over the rollout, then an empty buffer; mean loss statistics
        plus the explained variance of the rollout's values."""
        args, net, buffer, n = self.args, self.net, self.buffer, self.buffer.size
        adv_t, ret_t = (torch.from_numpy(a.astype(np.float32)) for a in (adv, ret))
        obs, actions = torch.from_numpy(buffer.obs[:n]), torch.from_numpy(buffer.actions[:n])
        old_logp = torch.from_numpy(buffer.logp[:n])
        old_values = torch.from_numpy(buffer.values[:n])
        masks = None if buffer.masks is None else torch.from_numpy(buffer.masks[:n])
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        size = max(1, math.ceil(n / args.num_minibatches))
        stats: dict[str, list[float]] = {name: [] for name in LOSS_NAMES}
        for _ in range(args.update_epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, size):
                mb = order[start : start + size]
                mb_mask = None if masks is None else masks[mb]
                logp, entropy, values = net.evaluate(obs[mb], actions[mb], mb_mask)
                log_ratio = logp - old_logp[mb]
                ratio = log_ratio.exp()
                mb_adv = adv_t[mb]
                if args.norm_adv and len(mb) > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                clipped = ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                pg_loss = torch.max(-mb_adv * ratio, -mb_adv * clipped).mean()
                v_loss = (values - ret_t[mb]).square()
                if args.clip_vloss:
                    v_clip = old_values[mb] + (values - old_values[mb]).clamp(
                        -args.clip_coef, args.clip_coef
                    )
                    v_loss = torch.max(v_loss, (v_clip - ret_t[mb]).square())
                v_loss = 0.5 * v_loss.mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), args.max_grad_norm, foreach=True)
                self.optimizer.step()
                with torch.no_grad():
                    kl = ((ratio - 1) - log_ratio).mean()
                    clipfrac = ((ratio - 1.0).abs() > args.clip_coef).float().mean()
                for name, value in zip(LOSS_NAMES, (pg_loss, v_loss, entropy.mean(), kl, clipfrac)):
                    stats[name].append(value.item())
            if args.target_kl is not None and stats["approx_kl"][-1] > args.target_kl:
                break
        out = {k: float(np.mean(v)) for k, v in stats.items()}
        out["explained_variance"] = explained_variance(buffer.values[:n], ret)
        self.refresh_normaliser()
        buffer.clear()
        self.raw_seen = []
        return out


def explained_variance(predicted: np.ndarray, target: np.ndarray) -> float:
    """CleanRL's ``1 - Var(target - predicted) / Var(target)`` (NaN when Var(target) is 0)."""
    var = float(np.var(target))
    return math.nan if var == 0 else 1.0 - float(np.var(target - predicted)) / var


class Runner:
    """The env copies and the policies acting in them, stepped together."""

    def __init__(self, job: TrainingJob, args: Any, gen: torch.Generator, logger: TrainingLogger):
        mapping = job.mapping
        self.gen, self.logger = gen, logger
        self.seeds = seed_stream(job.seed)
        self.envs = [job.make_env() for _ in range(args.num_envs)]
        self.learners = {
            p: Learner(s, args, args.num_envs, gen, _mask_dim(self.envs[0], s))
            for p, s in mapping.learnt.items()
        }
        self.actors = FixedActors(mapping)
        self.owners = [  # per env copy: agent -> (policy id, its slot in the learner or -1)
            {a: (p, self._slot(p, e, a)) for a, p in mapping.agent_to_policy.items()}
            for e in range(args.num_envs)
        ]
        self.trackers = [EpisodeTracker(mapping, job.metrics) for _ in self.envs]
        self.episode_seeds = [0] * args.num_envs  # per copy: its current episode's seed
        self.logs: list[list[dict[Any, Any]]] = [[] for _ in self.envs]  # and its actions
        self.infos: list[dict[Any, Any]] = [{} for _ in self.envs]  # (they hold the masks)
        self.observations = [self._reset(e) for e in range(args.num_envs)]
        self.episodes: list[dict[str, Any]] = []  # summaries of the episodes finished

    def _slot(self, policy_id: str, e: int, agent_id: Any) -> int:
        learner = self.learners.get(policy_id)
        return -1 if learner is None else e * learner.num_agents + learner.index[agent_id]

    def _reset(self, e: int, seed: int | None = None) -> dict[Any, Any]:
        self.trackers[e].start()
        self.episode_seeds[e] = episode_seed(self.seeds) if seed is None else seed
        self.logs[e] = []
        observations, self.infos[e] = self.envs[e].acting_reset(seed=self.episode_seeds[e])
        return observations

    def step(self, global_step: int) -> int:
        """One ``acting_step`` in every env copy; returns the learnt transitions made."""
        acting = self.actors.group(
            (e, agent_id) for e, env in enumerate(self.envs) for agent_id in env.acting_agents
        )
        actions: list[dict[Any, Any]] = [{} for _ in self.envs]
        made = 0
        for policy_id, entries in acting.items():
            batch = [self.observations[e][agent_id] for e, agent_id in entries]
            if policy_id in self.learners:  # one forward pass for all its acting agents
                slots = np.asarray([self.owners[e][a][1] for e, a in entries])
                raw = np.asarray(batch, np.float64).reshape(len(entries), -1)
                learner = self.learners[policy_id]
                masks = self._masks(learner, entries) if learner.masked else None
                chosen = learner.act(raw, slots, self.gen, masks)
                made += len(entries)
            else:
                masks = [
                    self.infos[e].get(agent_id, {}).get("action_mask") for e, agent_id in entries
                ]
                chosen = self.actors.act(policy_id, batch, masks)
            for (e, agent_id), action in zip(entries, chosen):
                actions[e][agent_id] = action
        rewarded: dict[str, list[tuple[int, float]]] = {p: [] for p in self.learners}
        ended: dict[str, list[tuple[int, Any]]] = {p: [] for p in self.learners}
        for e in range(len(self.envs)):
            self._step_copy(e, actions[e], rewarded, ended, global_step + made)
        for policy_id, learner in self.learners.items():
            self._hand_over(learner, rewarded[policy_id], ended[policy_id])
        return made

    def _step_copy(
        self, e: int, actions: dict[Any, Any], rewarded: dict, ended: dict, step: int
    ) -> None:
        """Step copy ``e``; collect its learnt agents' rewards and ends (final obs or None)."""
        env, owner = self.envs[e], self.owners[e]
        stage = env.current_stage
        self.logs[e].append(actions)
        obs, rewards, terminations, truncations, self.infos[e] = env.acting_step(actions)
        self.trackers[e].step(env, rewards, stage)
        for agent_id, reward in rewards.items():
            policy_id, slot = owner[agent_id]
            if slot >= 0:
                rewarded[policy_id].append((slot, reward))
        for agent_id, terminated in terminations.items():
            policy_id, slot = owner[agent_id]
            if slot >= 0 and (terminated or truncations[agent_id]):
                ended[policy_id].append((slot, None if terminated else obs.get(agent_id)))
        if not env.acting_agents:  # the episode is over
            self.episodes.append(self.trackers[e].finish())
            self.logger.episode(self.episodes[-1], step)
            obs = self._reset(e)
        self.observations[e] = obs

    def _masks(self, learner: Learner, entries: list[tuple[int, Any]]) -> np.ndarray:
        """The legal actions of a batch of acting agents (bool rows), from their infos."""
        full = learner.buffer.masks.shape[1]  # type: ignore[union-attr]
        rows = np.ones((len(entries), full), bool)
        for n, (e, agent_id) in enumerate(entries):
            mask = self.infos[e].get(agent_id, {}).get("action_mask")
            if mask is not None:
                rows[n] = mask
        return rows

    @staticmethod
    def _hand_over(learner: Learner, rewarded: list, ended: list) -> None:
        """Credit rewards, then close ended trajectories (V(final obs) if truncated)."""
        if rewarded:
            slots, values = zip(*rewarded)
            learner.buffer.credit(np.asarray(slots), np.asarray(values, np.float64))
        if ended:
            slots, final = zip(*ended)
            boot = np.zeros(len(slots))
            truncated = [n for n, o in enumerate(final) if o is not None]
            if truncated:
                raw = np.asarray([final[n] for n in truncated], np.float64)
                boot[truncated] = learner.values_of(raw.reshape(len(truncated), -1))
            learner.buffer.end(np.asarray(slots), boot)

    def acting_now(self, policy_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Slots and raw observations of the policy's agents that act next."""
        slots, batch = [], []
        for env, owner, obs in zip(self.envs, self.owners, self.observations):
            for agent_id in env.acting_agents:
                if owner[agent_id][0] == policy_id:
                    slots.append(owner[agent_id][1])
                    batch.append(obs[agent_id])
        if not slots:  # none of the policy's agents acts now (a staged model between turns)
            return np.zeros(0, np.int64), np.zeros((0, 0))
        return np.asarray(slots, np.int64), np.asarray(batch, np.float64).reshape(len(slots), -1)

    # -------------------------------------------------------------- checkpoints
    def state(self) -> dict[str, Any]:
        """Seeds, each copy's episode so far (seed + actions) and fixed policies' RNGs."""
        return {
            "seeds": self.seeds.bit_generator.state,
            "copies": [
                {"seed": seed, "log": encode_log(log), "digest": _digest(obs)}
                for seed, log, obs in zip(self.episode_seeds, self.logs, self.observations)
            ],
            "fixed": self.actors.rng_states(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Rebuild every env copy by replaying its episode (see ``cleanrl_state``)."""
        copies = state["copies"]
        if len(copies) != len(self.envs):
            raise CheckpointError(
                f"cleanrl: the checkpoint has {len(copies)} env copies, this run {len(self.envs)}"
            )
        set_generator_state(self.seeds, state["seeds"])
        self.actors.restore_rng_states(state.get("fixed", {}))
        for e, copy in enumerate(copies):
            obs, env = self._reset(e, int(copy["seed"])), self.envs[e]
            for actions in decode_log(copy["log"]):
                stage = env.current_stage
                obs, rewards, _, _, self.infos[e] = env.acting_step(actions)
                self.trackers[e].step(env, rewards, stage)
                self.logs[e].append(actions)
            if _digest(obs) != copy["digest"]:
                raise CheckpointError(
                    f"cleanrl: env copy {e} did not replay to the state it was saved in; the "
                    "model is not deterministic given its seed and actions, so this run cannot "
                    "be resumed exactly (start it again, or fix the model's randomness)"
                )
            self.observations[e] = obs


def _mask_dim(env: Any, spec: PolicySpec) -> int | None:
    """The mask length of a policy with masked agents in ``env`` (``None``: no masks)."""
    engine = getattr(env, "engine", None)
    masked = getattr(engine, "masked_agents", frozenset())
    agents = [a for a in spec.agent_ids if a in masked]
    return engine.mask_size(agents[0]) if agents else None


def _digest(observations: dict[Any, Any]) -> str:
    """A fingerprint of a copy's current observations (checks replays)."""
    digest = hashlib.sha256()
    for agent_id in sorted(observations, key=repr):
        digest.update(repr(agent_id).encode())
        digest.update(np.ascontiguousarray(observations[agent_id]).tobytes())
    return digest.hexdigest()
