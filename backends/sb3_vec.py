"""Vector environments feeding Stable-Baselines3 models from phantomzoo environments.

Two ways in, both presenting one SB3 ``VecEnv`` per learnt policy:

* :func:`supersuit_vec_env`: for a parallel (non-staged) env whose one learnt policy
  drives every strategic agent, every step. PettingZoo's own tooling does the work:
  SuperSuit's ``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1`` (one vector slot
  per agent per env copy) under SB3's ``VecMonitor``. :class:`TrackedParallelEnv`, a
  PettingZoo parallel wrapper beneath SuperSuit, adds what SuperSuit lacks: normalised
  Box actions, episode bookkeeping for our logger, seeded auto-resets (SuperSuit's
  vector env cannot be seeded through SB3) and ``TimeLimit.truncated`` infos.
* :class:`EnvPool` + :class:`PolicyVecEnv`: the adapter for everything else (staged
  models, several policies, fixed policies, agents ending early). The pool holds
  ``n_envs`` copies of the multi-agent env, driven through the acting-agents protocol.
  The VecEnv of learnt policy ``p`` has one *slot* per ``(env copy, agent of p)``.
  ``step(actions)`` hands the slots' actions to their copies, then advances every copy
  (other policies' agents act through their *actor*: a fixed policy's
  ``compute_actions`` or a learnt model's stochastic ``predict``, batched over copies)
  until ``p``'s agents must decide again, and returns each slot's next observation with
  the rewards that arrived meanwhile (a delayed reward is credited to the action that
  earned it). A copy whose episode ends is reset at once (seeded) and advanced to ``p``'s
  next decision, SB3-style: the slot reports ``done`` with ``terminal_observation`` in
  its info (``TimeLimit.truncated`` when the agent was truncated, so SB3 bootstraps).

**Agents that end early** (black-death style): the slot reports ``done`` when its agent
terminates; while its copy plays on, the slot is *dead* and every step yields a padding
transition (the agent's final observation, reward 0, ``done=True``: no value leaks into
real transitions) until the copy resets and the agent decides again. A copy in which all
of ``p``'s agents have ended is simply played to its end inline, so padding only arises
when agents sharing a policy in one copy end at different times. Padding transitions
are not counted as agent-steps.

Agents sharing a learnt policy must decide at the same moments (in the same stages):
``step`` returns one observation per slot, so a live agent that does not act while its
policy's other agents do is an error (give it its own policy).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.wrappers import BaseParallelWrapper
from stable_baselines3.common.vec_env import VecEnv

from phantomzoo.agents import StrategicAgent
from phantomzoo.errors import TrainingError
from phantomzoo.metrics import Metric
from phantomzoo.training.mapping import PolicyMapping
from phantomzoo.types import AgentID

from ._common import ActionCodec, EpisodeTracker
from ._masks import record_masks

__all__ = ["ActionCodec", "EnvPool", "PolicyVecEnv", "supersuit_vec_env", "supersuit_misfits"]

#: ``actor(observations of shape (n, obs_dim)[, masks]) -> n env actions``; ``masks`` (one
#: mask or None per observation) is passed only when some of the agents are masked.
Actor = Callable[..., Sequence[Any]]
_MAX_EPISODES_WITHOUT_DECISION = 1000


# ------------------------------------------------------------------ the adapter
class _Copy:
    """One env copy of the pool and its bookkeeping."""

    def __init__(self, env: Any, seeds: np.random.Generator, tracker: EpisodeTracker) -> None:
        self.env = env
        self.seeds = seeds
        self.tracker = tracker
        self.obs: dict[AgentID, Any] = {}
        self.pending: dict[AgentID, Any] = {}  # the learner's actions for this stage
        self.dead: dict[AgentID, Any] = {}  # agents ended this episode -> final obs
        self.ended: dict[AgentID, dict[str, Any]] = {}  # learner agents: done infos to report
        self.reward: dict[AgentID, float] = {}  # learner agents: reward since last report
        self.credit: set[AgentID] = set()  # learner agents whose last action is this episode's
        self.decisions: dict[AgentID, int] = {}
        self.masks: dict[AgentID, np.ndarray] = {}  # latest action masks, from the infos
        self.idle_episodes = 0


class EnvPool:
    """``n_envs`` copies of a multi-agent env shared by the per-policy VecEnvs.

    Args:
        make_env: Builds one env copy.
        mapping: The policy mapping.
        n_envs: Number of env copies.
        seed: Seeds the copies' episodes (copy ``c`` draws its episode seeds from
            ``np.random.default_rng([seed, c])``).
        metrics: User metrics recorded per copy.
    """

    def __init__(
        self,
        make_env: Callable[[], Any],
        mapping: PolicyMapping,
        n_envs: int,
        seed: int,
        metrics: dict[str, Metric] | None = None,
    ) -> None:
        self.mapping = mapping
        self.policy_of = dict(mapping.agent_to_policy)
        self.copies = [
            _Copy(make_env(), np.random.default_rng([seed, c]), EpisodeTracker(mapping, metrics))
            for c in range(n_envs)
        ]
        self.actors: dict[str, Actor] = {}
        self.dtypes = {p: s.observation_space.dtype for p, s in mapping.policies.items()}
        self.agent_steps = 0  # decisions of learning slots (padding excluded)
        self.finished: list[dict[str, Any]] = []  # episode summaries, drained by the trainer
        self.started = False

    def slots(self, policy_id: str) -> list[tuple[int, AgentID]]:
        """The ``(copy index, agent)`` slots of a policy, copy-major."""
        agents = self.mapping.policies[policy_id].agent_ids
        return [(c, a) for c in range(len(self.copies)) for a in agents]

    def drain(self) -> list[dict[str, Any]]:
        """Episode summaries finished since the last call."""
        out, self.finished = self.finished, []
        return out

    def start(self) -> None:
        """Reset every copy (once; later calls do nothing)."""
        if not self.started:
            for copy in self.copies:
                self._reset(copy)
            self.started = True

    # ------------------------------------------------------------ VecEnv API
    def sync(self, learner: str) -> np.ndarray:
        """Make ``learner`` the learning policy; advance to its next decisions.

        Rewards that reached its agents while they acted through their actor are
        dropped (those transitions were not recorded).
        """
        self.start()
        for copy in self.copies:
            copy.pending, copy.reward, copy.ended, copy.credit = {}, {}, {}, set()
        self._run(learner)
        slots = self.slots(learner)
        obs = [self._slot_obs(learner, c, a) for c, a in slots]
        return np.stack(obs).astype(self.dtypes[learner], copy=False)

    def step(
        self, learner: str, actions: Sequence[Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """One decision of every slot of ``learner`` (env actions, one per slot)."""
        slots = self.slots(learner)
        real = []
        for (c, agent), action in zip(slots, actions):
            copy = self.copies[c]
            acting = agent not in copy.dead
            real.append(acting)
            if acting:
                copy.pending[agent] = action
                copy.credit.add(agent)
                copy.decisions[agent] = copy.decisions.get(agent, 0) + 1
        padding = {(c, a): self.copies[c].dead[a] for (c, a), r in zip(slots, real) if not r}
        self.agent_steps += sum(real)
        self._run(learner)
        n = len(slots)
        obs, rewards = [], np.zeros(n, dtype=np.float32)
        dones = np.zeros(n, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        for k, (c, agent) in enumerate(slots):
            copy = self.copies[c]
            if real[k]:
                rewards[k] = copy.reward.pop(agent, 0.0)
                if agent in copy.ended:
                    dones[k], infos[k] = True, copy.ended.pop(agent)
            else:
                dones[k] = True
                infos[k]["terminal_observation"] = padding[(c, agent)]
            obs.append(self._slot_obs(learner, c, agent))
        return np.stack(obs).astype(self.dtypes[learner], copy=False), rewards, dones, infos

    def _slot_obs(self, learner: str, c: int, agent: AgentID) -> Any:
        copy = self.copies[c]
        if agent in copy.dead:
            return copy.dead[agent]
        if agent not in copy.pending and agent in copy.env.acting_agents:
            return copy.obs[agent]
        acting = [a for a in copy.env.acting_agents if self.policy_of[a] == learner]
        raise TrainingError(
            f"agent {agent!r} of learnt policy {learner!r} is live but does not act now, "
            f"while {acting} of the same policy do: the sb3 backend needs agents sharing a "
            "learnt policy to decide at the same moments (stages); give them separate policies"
        )

    # ------------------------------------------------------------ internals
    def _reset(self, copy: _Copy) -> None:
        seed = int(copy.seeds.integers(2**31 - 1))
        obs, infos = copy.env.acting_reset(seed=seed)
        copy.obs, copy.masks = dict(obs), {}
        record_masks(copy.masks, infos)
        copy.dead, copy.credit, copy.decisions = {}, set(), {}
        copy.tracker.start()

    def _run(self, learner: str) -> None:
        """Advance every copy until it waits for a decision of ``learner``."""
        policy_of = self.policy_of
        active = list(self.copies)
        while active:
            requests: dict[str, list[tuple[_Copy, AgentID]]] = {}
            ready: list[_Copy] = []
            for copy in active:
                acting = copy.env.acting_agents
                mine = [a for a in acting if policy_of[a] == learner]
                if mine and any(a not in copy.pending for a in mine):
                    continue  # waits for the learner
                for agent in acting:
                    if agent not in copy.pending:
                        requests.setdefault(policy_of[agent], []).append((copy, agent))
                ready.append(copy)
            for policy_id, wanted in requests.items():
                batch = np.stack([np.asarray(cp.obs[a]) for cp, a in wanted])
                masks = [cp.masks.get(a) for cp, a in wanted]
                actor = self.actors[policy_id]
                chosen = actor(batch, masks) if any(m is not None for m in masks) else actor(batch)
                for (cp, agent), action in zip(wanted, chosen):
                    cp.pending[agent] = action
            for copy in ready:
                self._act(copy, learner)
            active = ready

    def _act(self, copy: _Copy, learner: str) -> None:
        env = copy.env
        stage = getattr(env, "current_stage", None)
        actions, copy.pending = copy.pending, {}
        if any(self.policy_of[a] == learner for a in actions):
            copy.idle_episodes = 0
        obs, rewards, terminations, truncations, infos = env.acting_step(actions)
        copy.obs.update(obs)
        record_masks(copy.masks, infos)
        copy.tracker.step(env, rewards, stage)
        for agent, reward in rewards.items():
            if agent in copy.credit:
                copy.reward[agent] = copy.reward.get(agent, 0.0) + float(reward)
        for agent in terminations:
            terminated, truncated = terminations[agent], truncations[agent]
            if (terminated or truncated) and agent not in copy.dead:
                final = obs.get(agent, copy.obs.get(agent))
                copy.dead[agent] = final
                if agent in copy.credit:  # its slot reports done with this info
                    ret, length = copy.tracker.returns.get(agent, 0.0), copy.decisions[agent]
                    copy.ended[agent] = {
                        "terminal_observation": final,
                        "TimeLimit.truncated": bool(truncated and not terminated),
                        "episode": {"r": ret, "l": length, "t": 0.0},
                    }
                    copy.credit.discard(agent)
        if not env.acting_agents:  # the episode is over
            self.finished.append(copy.tracker.finish())
            copy.idle_episodes += 1
            if copy.idle_episodes > _MAX_EPISODES_WITHOUT_DECISION:
                raise TrainingError(
                    f"{_MAX_EPISODES_WITHOUT_DECISION} episodes passed without an agent of "
                    f"learnt policy {learner!r} acting; check that its agents act"
                )
            self._reset(copy)


class PolicyVecEnv(VecEnv):
    """The SB3 ``VecEnv`` of one learnt policy over an :class:`EnvPool` (see module docs).

    Args:
        pool: The shared env copies.
        policy_id: The learnt policy whose agents are the slots.
        codec: Its action codec.
    """

    def __init__(self, pool: EnvPool, policy_id: str, codec: ActionCodec) -> None:
        self.pool = pool
        self.policy_id = policy_id
        self.codec = codec
        self.render_mode = None
        self._actions: np.ndarray | None = None
        spec = pool.mapping.policies[policy_id]
        super().__init__(len(pool.slots(policy_id)), spec.observation_space, codec.sb3_space)

    def reset(self) -> np.ndarray:
        """Observations of every slot at the policy's next decision (starts the pool)."""
        return self.pool.sync(self.policy_id)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        assert self._actions is not None, "step_wait() called before step_async()"
        return self.pool.step(self.policy_id, self.codec.to_env(self._actions))

    def close(self) -> None:
        """Nothing to release (the copies live in-process)."""

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        """Nothing to do: the pool's episode seeds come from the training seed."""
        return [None] * self.num_envs

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kw: Any) -> list:
        raise AttributeError(f"PolicyVecEnv slots are not gym envs; no method {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))


# ------------------------------------------------------------ the SuperSuit path
class TrackedParallelEnv(BaseParallelWrapper):
    """A PettingZoo parallel wrapper put beneath SuperSuit's vector env (see module docs).

    Args:
        env: A phantomzoo parallel env.
        mapping: The policy mapping (one learnt policy over every agent).
        codec: The policy's action codec.
        metrics: User metrics.
    """

    def __init__(self, env: Any, mapping: PolicyMapping, codec: ActionCodec, metrics: Any) -> None:
        super().__init__(env)
        self.codec = codec
        self.tracker = EpisodeTracker(mapping, metrics)
        self.seeds = np.random.default_rng(0)
        self.finished: list[dict[str, Any]] = []
        self.agent_steps = 0
        self.order = list(env.possible_agents)  # SuperSuit's slot order
        self.masks: dict[AgentID, np.ndarray] = {}  # latest action masks, from the infos

    def seed_episodes(self, seed: int) -> None:
        """Restart the wrapper's own episode seeds from ``seed``."""
        self.seeds = np.random.default_rng(seed)

    def action_space(self, agent: AgentID) -> gym.Space[Any]:
        return self.codec.sb3_space

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        if seed is None:
            seed = int(self.seeds.integers(2**31 - 1))
        out = self.env.reset(seed=seed, options=options)
        self.masks = {}
        record_masks(self.masks, out[1])
        self.agents = list(self.env.agents)
        self.tracker.start()
        return out

    def step(self, actions: dict[AgentID, Any]) -> Any:
        ids = list(actions)
        env_actions = dict(zip(ids, self.codec.to_env(np.stack([actions[i] for i in ids]))))
        obs, rewards, terms, truncs, infos = self.env.step(env_actions)
        record_masks(self.masks, infos)
        self.agent_steps += len(ids)
        self.tracker.step(self.env, rewards)
        self.agents = list(self.env.agents)
        if self.agents and len(self.agents) != len(ids):
            gone = [i for i in ids if i not in self.agents]
            raise TrainingError(
                f"agent(s) {gone} ended before the others: SuperSuit's vector env cannot "
                "express that; use options={'vec_env': 'adapter'}"
            )
        for agent in infos:
            infos[agent] = {
                **infos[agent],
                "TimeLimit.truncated": bool(truncs.get(agent)) and not terms.get(agent),
            }
        if not self.agents:
            self.finished.append(self.tracker.finish())
        return obs, rewards, terms, truncs, infos


def supersuit_misfits(env: Any, mapping: PolicyMapping) -> list[str]:
    """Why SuperSuit's vector env cannot serve ``env`` with ``mapping`` (empty: it can)."""
    reasons = []
    if not isinstance(env, ParallelEnv):
        reasons.append("the env is staged (an AEC env), not a parallel env")
    if len(mapping.policies) != 1:
        reasons.append("more than one policy (learnt or fixed) acts")
    if any(
        type(env.network[i]).is_terminated is not StrategicAgent.is_terminated
        or type(env.network[i]).is_truncated is not StrategicAgent.is_truncated
        for i in env.possible_agents
    ):
        reasons.append("agents may end before the others")
    return reasons


class SuperSuitSource:
    """Agent-steps and finished episodes of the SuperSuit path's wrappers, summed."""

    def __init__(self, trackers: list[TrackedParallelEnv]) -> None:
        self.trackers = trackers

    @property
    def agent_steps(self) -> int:
        return sum(t.agent_steps for t in self.trackers)

    def drain(self) -> list[dict[str, Any]]:
        """Episode summaries finished since the last call."""
        out = []
        for tracker in self.trackers:
            out.extend(tracker.finished)
            tracker.finished = []
        return out


def supersuit_vec_env(
    make_env: Callable[[], Any],
    mapping: PolicyMapping,
    codec: ActionCodec,
    n_envs: int,
    seed: int,
    metrics: dict[str, Metric] | None = None,
) -> tuple[Any, SuperSuitSource]:
    """SuperSuit's SB3 vector env over ``n_envs`` copies, under ``VecMonitor``.

    Returns:
        The VecEnv, and the source of agent-step counts and episode summaries.
    """
    import supersuit as ss
    from stable_baselines3.common.vec_env import VecMonitor

    wrapped = TrackedParallelEnv(make_env(), mapping, codec, metrics)
    vec = ss.pettingzoo_env_to_vec_env_v1(wrapped)
    vec = ss.concat_vec_envs_v1(vec, n_envs, num_cpus=0, base_class="stable_baselines3")
    # SuperSuit copies the env per copy; seed each copy's auto-resets ourselves, since
    # its vector env cannot be seeded through SB3 ('ConcatVecEnv' has no 'seed').
    trackers = [sub.par_env for sub in vec.venv.vec_envs]
    for c, tracker in enumerate(trackers):
        tracker.seed_episodes(int(np.random.default_rng([seed, c]).integers(2**31 - 1)))
    with quiet_render_mode():
        return VecMonitor(vec), SuperSuitSource(trackers)


@contextlib.contextmanager
def quiet_render_mode() -> Iterator[None]:
    """Silence SB3's warning that SuperSuit's vector env has no ``render_mode``."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The `render_mode` attribute is not defined")
        yield
