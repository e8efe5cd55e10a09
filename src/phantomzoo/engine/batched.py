"""The opt-in batched path: one call per agent class instead of one per agent.

The per-agent methods stay the definition of a model. An agent class may add *batched
twins*, class methods that do the same work for every agent of the class at once::

    class ShopAgent(ph.StrategicAgent):
        def encode_observation(self, ctx): ...                 # the definition

        @classmethod
        def encode_observations(cls, agents, group):           # its twin
            return np.array([...])                             # (n, *obs_shape)

Twins (:data:`~phantomzoo.engine.batched_groups.TWINS`), each ``(cls, agents, group,
...)`` where ``agents`` are every agent of the class in network order and ``group`` the
:class:`~phantomzoo.engine.batched_groups.AgentGroup` (their contexts, ``group.rng``,
``group.scratch``, ``group.index(ids)``):

* ``encode_observations -> array (n, *obs_shape)``; ``compute_rewards -> array (n,)``;
* ``decode_actions(cls, agents, group, actions) -> Outbox | [Outbox] | None`` with the
  actions stacked ``(n, *action_shape)``;
* ``generate_batched_messages -> Outbox ...``, ``pre_message_resolutions`` and
  ``post_message_resolutions`` (return nothing);
* ``@ph.agents.batch_handler(Payload)`` methods ``(cls, agents, group, batch)``: every
  message of that payload class to any agent of the class in one round, as
  :class:`~phantomzoo.engine.batched_columns.MessageColumns`
  (:mod:`~phantomzoo.engine.batched_resolve`).

**Turning it on.** ``engine.batched = True`` (an env's ``env.engine``; models may take a
``batched=`` argument), effective from the next reset; off by default. Classes without a
twin for a hook keep their per-agent calls, and a twin is used only when every agent of
its class takes part (all act, are observed, are rewarded); otherwise that step falls back
to the per-agent methods. Edges are checked per column against the network's adjacency
and payload sender/receiver types per (sender class, receiver class) pair; message logs
and telemetry see every message; the runtime checks check twins' observations and rewards
as they check per-agent ones.

**What may differ.** Within a round, batched receivers handle their messages payload
class by payload class, and hooks run class by class; a model whose outcome depends on
the order of calls *across* agents is not batchable as is. Draw randomness from
``group.rng`` in the order the per-agent methods would. ``ph.testing.check_batched``
plays the same seeded episode both ways and compares observations, rewards and messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from ..errors import ActionError, ConfigError, ObservationError, RewardError
from ..types import AgentID
from . import batched_resolve as br
from .batched_columns import Column
from .batched_groups import AgentGroup, Grouping


class BatchedPlay:
    """The engine's batched path (see the module docs); a base of the engine."""

    _batched_wanted = False
    _grouping: Grouping | None = None
    _plan: dict[str, list[Any]] | None = None

    @property
    def batched(self) -> bool:
        """Whether the batched twins are used (from the next reset on; settable)."""
        return self._batched_wanted

    @batched.setter
    def batched(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(
                f"batched must be True or False, got {value!r}; True uses the agent classes' "
                "batched twins (from the next reset on)"
            )
        self._batched_wanted = bool(value)

    @property
    def grouping(self) -> Grouping | None:
        """The agent groups of the batched path (``None`` when it is off)."""
        return self._grouping

    def _prepare_batched(self) -> None:
        """At reset: (re)build the groups for the current wiring, empty the scratch."""
        wiring = self._wiring  # type: ignore[attr-defined]
        if not self._batched_wanted:
            self._grouping = self._plan = None
            return
        grouping = self._grouping
        if grouping is None or grouping.version != wiring.version or grouping.wiring is not wiring:
            grouping = Grouping(self.network, wiring, self.clock)  # type: ignore[attr-defined]
            self._check_spaces(grouping)
            self._grouping, self._plan = grouping, _plan(grouping, wiring, self)
        grouping.reset()

    def _check_spaces(self, grouping: Grouping) -> None:
        """Mark the groups whose observation twin can fill one array (same Box space)."""
        spaces = self._observation_spaces  # type: ignore[attr-defined]
        augmented = self._augmented  # type: ignore[attr-defined]
        for group in grouping.groups:
            group.obs_ok = False
            if "encode_observations" not in group.twins or group.ids[0] not in spaces:
                continue
            first = spaces[group.ids[0]]
            typed = group.ids[0] in augmented
            group.obs_ok = isinstance(first, gym.spaces.Box) and all(
                spaces[i] == first and (i in augmented) == typed for i in group.ids
            )
            own = group.agents[0].observation_space
            group.obs_shape = own.shape if own is not None else first.shape

    # ------------------------------------------------------------------ step
    def _resolve_batched(self, acting: list[AgentID], actions: Mapping[AgentID, Any]) -> None:
        """One resolution with the twins (the clock is already advanced)."""
        grouping, plan = self._grouping, self._plan
        contexts = self._wiring.contexts  # type: ignore[attr-defined]
        network = self.network  # type: ignore[attr-defined]
        _run(plan["pre"])  # type: ignore[index]
        pending: dict[AgentID, list[Any]] = {}
        columns: list[Column] = []
        covered = self._decode_groups(acting, actions, columns)
        decoders = self._wiring.decoders  # type: ignore[attr-defined]
        send = network.queue
        for agent_id in acting:
            if agent_id not in covered:
                decode, ctx = decoders[agent_id]
                replies = decode(ctx, actions[agent_id])
                if replies:
                    send(agent_id, replies, pending)
        for kind, first, second in plan["generate"]:  # type: ignore[index]
            if kind == "twin":
                out = first.twins["generate_batched_messages"](first.agents, first)
                br.emit(grouping, first, out, second, columns)  # type: ignore[arg-type]
            else:
                replies = second(contexts[first])
                if replies:
                    send(first, replies, pending)
        br.resolve(grouping, columns, pending, contexts, self.clock.rng)  # type: ignore[arg-type,attr-defined]
        _run(plan["post"])  # type: ignore[index]

    def _decode_groups(
        self, acting: list[AgentID], actions: Mapping[AgentID, Any], columns: list[Column]
    ) -> set[AgentID] | frozenset[AgentID]:
        """Run ``decode_actions`` of the groups whose every agent acts; their ids."""
        groups = self._plan["decode"]  # type: ignore[index]
        if not groups:
            return frozenset()
        everyone = len(acting) == len(self.possible_agents)  # type: ignore[attr-defined]
        acting_set = None if everyone else set(acting)
        covered: set[AgentID] = set()
        for group in groups:
            if acting_set is not None and not all(i in acting_set for i in group.ids):
                continue
            try:
                stacked = np.asarray([actions[i] for i in group.ids])
            except (TypeError, ValueError) as exc:
                raise ActionError(
                    f"the actions of the {group.cls.__name__} agents do not stack into one "
                    f"array for decode_actions ({exc}); send actions of the action space"
                ) from None
            where = f"{group.cls.__name__}.decode_actions"
            out = group.twins["decode_actions"](group.agents, group, stacked)
            br.emit(self._grouping, group, out, where, columns)  # type: ignore[arg-type]
            covered.update(group.ids)
        return covered

    # ------------------------------------------------------- observe, reward
    def _covering(self, agent_ids: Any, twin: str) -> tuple[list[AgentGroup], list]:
        """Groups with ``twin`` whose every agent is in ``agent_ids``, and the other ids."""
        candidates = self._plan[twin]  # type: ignore[index]
        if not candidates:
            return [], list(agent_ids)
        live = self._live  # type: ignore[attr-defined]
        if agent_ids is live and len(live) == len(self.possible_agents):  # type: ignore[attr-defined]
            return candidates, self._plan["rest_" + twin]  # type: ignore[index]
        agent_ids = list(agent_ids)
        wanted = set(agent_ids)
        groups = [g for g in candidates if all(i in wanted for i in g.ids)]
        if not groups:
            return [], agent_ids
        done = {i for g in groups for i in g.ids}
        return groups, [i for i in agent_ids if i not in done]

    def _observe_many(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, Any]:
        if self._grouping is None:
            return super()._observe_many(agent_ids)  # type: ignore[misc]
        groups, rest = self._covering(agent_ids, "encode_observations")
        observations: dict[AgentID, Any] = {}
        for group in groups:
            observations.update(self._group_observations(group))
        if rest:
            observations.update(super()._observe_many(rest))  # type: ignore[misc]
        return observations

    def _group_observations(self, group: AgentGroup) -> dict[AgentID, Any]:
        space = self._observation_spaces[group.ids[0]]  # type: ignore[attr-defined]
        raw = group.twins["encode_observations"](group.agents, group)
        n = len(group)
        try:
            array = np.asarray(raw, dtype=space.dtype)
        except (TypeError, ValueError) as exc:
            raise ObservationError(
                f"{group.cls.__name__}.encode_observations returned values that are not "
                f"{space.dtype} numbers ({exc}); return an array of shape (n, *obs_shape)"
            ) from None
        if array.shape != (n, *group.obs_shape):
            raise ObservationError(
                f"{group.cls.__name__}.encode_observations returned shape {array.shape} for "
                f"{n} agents; expected {(n, *group.obs_shape)} (one row per agent, in group "
                "order)"
            )
        final = array
        type_vectors = self._type_vectors  # type: ignore[attr-defined]
        if group.ids[0] in type_vectors:
            types = np.stack([type_vectors[i] for i in group.ids])
            final = np.concatenate((array.reshape(n, -1), types), axis=1).astype(space.dtype)
        observations = dict(zip(group.ids, final))
        unchecked = self._unchecked_obs  # type: ignore[attr-defined]
        if unchecked or self._full_checks:  # type: ignore[attr-defined]
            for row, agent_id in enumerate(group.ids):
                if self._full_checks or agent_id in unchecked:  # type: ignore[attr-defined]
                    observations[agent_id] = self._finish_observation(  # type: ignore[attr-defined]
                        agent_id, array[row], check=True
                    )
                    unchecked.discard(agent_id)
        return observations

    def compute_rewards(self, agent_ids: Iterable[AgentID]) -> dict[AgentID, float]:
        if self._grouping is None:
            return super().compute_rewards(agent_ids)  # type: ignore[misc]
        groups, rest = self._covering(agent_ids, "compute_rewards")
        rewards: dict[AgentID, float] = {}
        for group in groups:
            rewards.update(self._group_rewards(group))
        if rest:
            rewards.update(super().compute_rewards(rest))  # type: ignore[misc]
        return rewards

    def _group_rewards(self, group: AgentGroup) -> dict[AgentID, float]:
        raw = group.twins["compute_rewards"](group.agents, group)
        try:
            values = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise RewardError(
                f"{group.cls.__name__}.compute_rewards returned values that are not numbers "
                f"({exc}); return an array of shape ({len(group)},)"
            ) from None
        if values.shape != (len(group),):
            raise RewardError(
                f"{group.cls.__name__}.compute_rewards returned shape {values.shape} for "
                f"{len(group)} agents; expected ({len(group)},), one reward per agent"
            )
        if self._checks_finite and not np.isfinite(values).all():  # type: ignore[attr-defined]
            row = int(np.flatnonzero(~np.isfinite(values))[0])
            self._raise_bad_reward(group.ids[row], values[row], "is not finite")  # type: ignore[attr-defined]
        unchecked = self._unchecked_rewards  # type: ignore[attr-defined]
        if unchecked:
            unchecked.difference_update(group.ids)
        return dict(zip(group.ids, values.tolist()))


def _run(calls: list[tuple[Any, tuple[Any, ...]]]) -> None:
    for call, args in calls:
        call(*args)


def _plan(grouping: Grouping, wiring: Any, engine: Any) -> dict[str, list[Any]]:
    """The per-step call lists: each twin once (at its class's first agent), per-agent
    hooks of the other classes in network order."""
    pre = dict((c.agent.id, (h, (c,))) for h, c in wiring.pre_calls)
    post = dict((c.agent.id, (h, (c,))) for h, c in wiring.post_calls)
    generate = {i: ("agent", i, g) for i, g, _ in wiring.generators}
    plan: dict[str, list[Any]] = {"pre": [], "post": [], "generate": []}
    seen: set[tuple[str, int]] = set()
    for agent_id in grouping.ids:
        number = int(grouping.group_of[grouping.index[agent_id]])
        group = grouping.groups[number]
        for key, twin, per_agent in (
            ("pre", "pre_message_resolutions", pre),
            ("post", "post_message_resolutions", post),
            ("generate", "generate_batched_messages", generate),
        ):
            if twin in group.twins:
                if (key, number) not in seen:
                    seen.add((key, number))
                    where = f"{group.cls.__name__}.{twin}"
                    entry = ("twin", group, where) if key == "generate" else _twin_call(group, twin)
                    plan[key].append(entry)
            elif agent_id in per_agent:
                plan[key].append(per_agent[agent_id])
    strategic = set(engine.possible_agents)
    for twin in ("encode_observations", "compute_rewards"):
        groups = [
            g
            for g in grouping.groups
            if twin in g.twins
            and g.ids[0] in strategic
            and (g.obs_ok or twin != "encode_observations")
        ]
        plan[twin] = groups
        done = {i for g in groups for i in g.ids}
        plan["rest_" + twin] = [i for i in engine.possible_agents if i not in done]
    plan["decode"] = [
        g for g in grouping.groups if "decode_actions" in g.twins and g.ids[0] in strategic
    ]
    return plan


def _twin_call(group: AgentGroup, twin: str) -> tuple[Any, tuple[Any, ...]]:
    return group.twins[twin], (group.agents, group)
