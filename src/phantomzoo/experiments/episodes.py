"""The one episode loop: play whole episodes of any phantomzoo env through the acting protocol.

Every piece of phantomzoo that plays episodes with given policies (evaluation, rollouts,
the bench workflow, the bundled models' heuristics, the conformance checks) goes through
:func:`run_episodes`, so "how does a policy play an episode" has one answer.

The loop speaks the acting-agents protocol every phantomzoo env has, parallel or staged:
``acting_reset(seed=) -> (observations, infos)``, ``acting_agents`` (who acts next; empty
once the episode is over) and ``acting_step(actions) -> (observations, rewards,
terminations, truncations, infos)``.

Several copies of an env can play in lock-step: each step, ``act`` is called ONCE with
the observations of the acting agents of every live copy, so a policy serves them all
with one batched call. A copy whose episode ended stops there (nothing is padded) and
starts the next waiting seed, if any, when the whole wave has ended.

**Action masks.** When an env has masked agents (``env.engine.masked_agents``) and
``act`` accepts an ``action_masks`` keyword, each call also gets, per live copy,
``{agent_id: mask}`` of its acting masked agents (their ``infos[agent]["action_mask"]``
from the env's last reset or step): ``act(per_copy, action_masks=per_copy_masks)``.
:func:`policies_act` and :func:`each_copy` forward them to policies that accept them
(an :class:`~phantomzoo.training.trained.MLPPolicy` does). An ``act`` without the
keyword is called as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np

from ..errors import ActionError, ConfigError
from ..training.masked import accepts_action_masks
from ..training.trained import TrainedPolicies
from ..types import AgentID, StageID

#: ``act(observations) -> actions`` for one env: ``{agent_id: observation}`` of the acting
#: agents in, ``{agent_id: action}`` out.
ActFn = Callable[[dict[AgentID, Any]], Mapping[AgentID, Any]]

#: ``act(per_copy) -> per_copy_actions`` for env copies in lock-step: one
#: ``{agent_id: observation}`` per live copy in, one ``{agent_id: action}`` per copy out
#: (same order, same length).
BatchActFn = Callable[[list[dict[AgentID, Any]]], Sequence[Mapping[AgentID, Any]]]


@dataclass(frozen=True)
class StepRecord:
    """What ``on_step`` sees after one env copy took one step.

    Attributes:
        env: The env copy that stepped (its state is the one right after the step).
        copy: Index of that copy in ``envs``.
        episode: Index of the episode in ``seeds``.
        seed: The episode's seed.
        step: Index of the step within the episode (0 for the first).
        stage: The stage the step was played in (``None`` for an env without stages).
        observations: ``{agent_id: observation}`` the actions were chosen on.
        actions: ``{agent_id: action}`` played.
        next_observations / rewards / terminations / truncations / infos: What
            ``acting_step`` returned.
    """

    env: Any
    copy: int
    episode: int
    seed: int
    step: int
    stage: StageID
    observations: dict[AgentID, Any]
    actions: Mapping[AgentID, Any]
    next_observations: dict[AgentID, Any]
    rewards: dict[AgentID, float]
    terminations: dict[AgentID, bool]
    truncations: dict[AgentID, bool]
    infos: dict[AgentID, dict[str, Any]]


@dataclass
class EpisodeRecord:
    """One finished episode.

    Attributes:
        episode: Index of the episode in ``seeds``.
        seed: Its seed.
        copy: Index of the env copy that played it.
        returns: Undiscounted return of every strategic agent (``possible_agents``, 0.0
            for an agent never rewarded) and of any other rewarded agent.
        num_steps: Number of ``acting_step`` calls the episode took.
    """

    episode: int
    seed: int
    copy: int
    returns: dict[AgentID, float]
    num_steps: int = 0


OnStep = Callable[[StepRecord], None]


def run_episodes(
    envs: Any,
    act: BatchActFn,
    seeds: Iterable[int],
    on_step: OnStep | None = None,
) -> list[EpisodeRecord]:
    """Play one episode per seed and return their records, in the order of ``seeds``.

    Args:
        envs: One env, or a sequence of distinct env copies played in lock-step. With
            ``k`` copies the seeds are played in waves of ``k``: ``seeds[0:k]`` on
            copies ``0..k-1``, then ``seeds[k:2k]``, and so on.
        act: Called once per step of a wave with one ``{agent_id: observation}`` per
            live copy (acting agents only), returning one ``{agent_id: action}`` per
            copy in the same order; :func:`each_copy` lifts a one-env ``act`` and
            :func:`policies_act` builds a batched one from policies.
        seeds: The episodes' seeds (ints >= 0, at least one).
        on_step: Called with a :class:`StepRecord` right after each copy's step.

    Raises:
        ConfigError: no env or seed, an env without the acting protocol, the same env
            object twice, a seed that is not an int >= 0.
        ActionError: ``act`` returned other than one action mapping per live copy.
    """
    copies = _check_envs(envs)
    seeds = _check_seeds(seeds)
    records: list[EpisodeRecord] = []
    for start in range(0, len(seeds), len(copies)):
        wave = seeds[start : start + len(copies)]
        records.extend(_play_wave(copies[: len(wave)], act, wave, start, on_step))
    return records


class _Copy:
    """One env copy in a wave: its episode's record and the observations it returned last."""

    __slots__ = ("env", "record", "observations", "infos")

    def __init__(self, env: Any, record: EpisodeRecord) -> None:
        self.env = env
        self.record = record
        self.observations: dict[AgentID, Any]
        self.observations, self.infos = env.acting_reset(seed=record.seed)

    def masks(self) -> dict[AgentID, Any]:
        """``{agent_id: action mask}`` of the acting agents that have one."""
        infos = self.infos
        return {
            a: infos[a]["action_mask"]
            for a in self.env.acting_agents
            if "action_mask" in infos.get(a, ())
        }


def _play_wave(
    copies: list[Any], act: BatchActFn, seeds: list[int], first: int, on_step: OnStep | None
) -> list[EpisodeRecord]:
    """Play ``seeds[n]`` on ``copies[n]`` side by side until every copy's episode ended.

    Hot loop: one ``act`` call per step for all live copies, then one ``acting_step``
    per copy; the returns are summed as Python floats (float64, in step order).
    """
    wave = [
        _Copy(env, EpisodeRecord(first + n, seed, n, dict.fromkeys(env.possible_agents, 0.0)))
        for n, (env, seed) in enumerate(zip(copies, seeds))
    ]
    live = [c for c in wave if c.env.acting_agents]
    masked = any(_masked(c.env) for c in wave) and accepts_action_masks(act)
    while live:
        seen = []
        for c in live:
            obs = c.observations
            seen.append({a: obs[a] for a in c.env.acting_agents})
        if masked:
            chosen = act(seen, action_masks=[c.masks() for c in live])
        else:
            chosen = act(seen)
        try:
            count = len(chosen)
        except TypeError:
            count = -1
        if count != len(live):
            _refuse_chosen(chosen, len(live))
        ended = False
        for c, obs, actions in zip(live, seen, chosen):
            env, record = c.env, c.record
            stage = _stage_of(env) if on_step is not None else None
            result = env.acting_step(actions)
            c.observations, c.infos = result[0], result[4]
            totals = record.returns
            for agent_id, reward in result[1].items():
                try:
                    totals[agent_id] += float(reward)
                except KeyError:  # a rewarded agent outside possible_agents
                    totals[agent_id] = float(reward)
            if on_step is not None:
                on_step(_step_record(record, env, stage, obs, actions, result))
            record.num_steps += 1
            if not env.acting_agents:
                ended = True
        if ended:
            live = [c for c in live if c.env.acting_agents]
    return [c.record for c in wave]


def _step_record(
    record: EpisodeRecord,
    env: Any,
    stage: StageID,
    observations: dict[AgentID, Any],
    actions: Mapping[AgentID, Any],
    result: tuple[Any, ...],
) -> StepRecord:
    return StepRecord(
        env,
        record.copy,
        record.episode,
        record.seed,
        record.num_steps,
        stage,
        observations,
        actions,
        *result,
    )


def _masked(env: Any) -> bool:
    """Whether ``env`` has agents with action masks."""
    return bool(getattr(getattr(env, "engine", None), "masked_agents", ()))


def _stage_of(env: Any) -> StageID:
    # TODO(issue 9, engine): read env.current_stage directly once every env has it
    # (None when not staged); a PhantomEnv has no such attribute yet.
    return getattr(env, "current_stage", None)


def _refuse_chosen(chosen: Any, live: int) -> None:
    """Raise the error for an ``act`` result that is not one mapping per live copy."""
    if not hasattr(chosen, "__len__"):
        raise ActionError(
            f"act returned {type(chosen).__name__}; it must return a list with one "
            "{agent_id: action} mapping per live env copy"
        )
    raise ActionError(
        f"act returned {len(chosen)} action mapping(s) for {live} live env copies; return "
        "one {agent_id: action} mapping per copy, in the order given"
    )


def _check_envs(envs: Any) -> list[Any]:
    copies = list(envs) if isinstance(envs, (list, tuple)) else [envs]
    if not copies:
        raise ConfigError("run_episodes needs at least one env; pass an env or a list of copies")
    for env in copies:
        if not all(hasattr(env, name) for name in ("acting_reset", "acting_step")):
            raise ConfigError(
                f"run_episodes needs phantomzoo envs (with acting_reset / acting_agents / "
                f"acting_step), got {env!r}; build one with ph.make(...) or an env class"
            )
    if len({id(env) for env in copies}) != len(copies):
        raise ConfigError(
            "run_episodes got the same env object more than once; lock-step copies must be "
            "distinct envs (build one per copy)"
        )
    return copies


def _check_seeds(seeds: Iterable[int]) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ConfigError(f"seeds must be a sequence of ints >= 0, got {seeds!r}")
    out = list(seeds)
    if not out:
        raise ConfigError("run_episodes needs at least one seed (one episode per seed)")
    for seed in out:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(
                f"every seed must be an int >= 0, got {seed!r}; episodes are seeded so "
                "that results repeat"
            )
    return [int(s) for s in out]


# ------------------------------------------------------------------ act functions
def each_copy(act: ActFn) -> BatchActFn:
    """A lock-step ``act`` from a one-env ``act``: it is called once per live copy (with
    that copy's ``action_masks`` if it accepts them)."""
    if not accepts_action_masks(act):

        def act_each(observations: list[dict[AgentID, Any]]) -> list[Mapping[AgentID, Any]]:
            return list(map(act, observations))

        return act_each

    def act_each_masked(
        observations: list[dict[AgentID, Any]],
        action_masks: Sequence[Mapping[AgentID, Any]] | None = None,
    ) -> list[Mapping[AgentID, Any]]:
        if action_masks is None:
            return list(map(act, observations))
        return [act(o, action_masks=m) for o, m in zip(observations, action_masks)]

    return act_each_masked


_SECOND = itemgetter(1)


def policies_act(policies: TrainedPolicies, rng: np.random.Generator | None = None) -> BatchActFn:
    """A lock-step ``act`` calling each policy once per step for every live copy.

    Args:
        policies: The policies and their agent mapping.
        rng: Sample actions from this generator (``None``: act deterministically). The
            draws follow the order copy by copy, then agent by agent.
    """
    compute = policies.compute_actions

    def act(
        observations: list[dict[AgentID, Any]],
        action_masks: Sequence[Mapping[AgentID, Any]] | None = None,
    ) -> list[Mapping[AgentID, Any]]:
        if len(observations) == 1:
            masks = action_masks[0] if action_masks else None
            return [compute(observations[0], rng=rng, action_masks=masks)]
        batch = {(n, a): o for n, obs in enumerate(observations) for a, o in obs.items()}
        keyed = None
        if action_masks:
            keyed = {(n, a): m for n, masks in enumerate(action_masks) for a, m in masks.items()}
        chosen = compute(batch, rng=rng, agent_of=_SECOND, action_masks=keyed)
        return [{a: chosen[(n, a)] for a in obs} for n, obs in enumerate(observations)]

    return act
