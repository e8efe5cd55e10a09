"""Action masks: which actions a strategic agent may take now; part of the engine.

A strategic agent opts in by overriding
:meth:`~phantomzoo.agents.StrategicAgent.action_mask` (``ctx -> array``: 1 = legal,
0 = illegal). Only agents whose class overrides it are masked (:attr:`masked_agents`),
so models without masks pay nothing. Supported action spaces:

* ``Discrete(n)``: a mask of ``n`` entries (entry ``k`` is action ``start + k``);
* ``MultiDiscrete(nvec)`` (1-D): the concatenation of one mask per sub-space,
  ``sum(nvec)`` entries (sb3-contrib's and RLlib's convention; gymnasium's
  ``MultiDiscrete.sample`` wants a tuple instead: :func:`split_mask`).

Any other action space with a mask hook is refused when the env is built.

**Where masks appear.** Each time the engine hands out the observation of an agent that
acts next (``reset`` and every ``step`` outcome), ``infos[agent]["action_mask"]`` holds
its mask, computed after the step resolved: the mask of the action it is about to
choose. A masked agent whose observation space is a ``Dict`` also gets
``observation["action_mask"]`` on every observation (its space gains an
``"action_mask": Box(0, 1, (n,), int8)`` entry, next to type augmentation's ``"type"``).
Masks are int8 arrays, checked every time (length, only 0/1, at least one legal action
per sub-space); the hook is called whenever such an agent is observed, so it must
always leave something legal (a "do nothing" action, typically).

**Illegal actions.** At check levels ``"first"`` and ``"full"`` every action of a
masked agent is checked against the mask it was given (one index lookup per agent);
an action whose index is masked out raises :class:`~phantomzoo.errors.ActionError`
naming the agent, the action and the legal indices. ``checks="off"`` skips this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from ..agents import StrategicAgent
from ..errors import ActionError, ConfigError
from ..types import AgentID
from .spaces import short_repr

#: The key of the mask in infos and in Dict observations (PettingZoo's name).
MASK_KEY = "action_mask"


@dataclass(frozen=True)
class MaskLayout:
    """How one agent's flat mask maps onto its action space.

    Attributes:
        sizes: Entries per sub-space (one for Discrete).
        offsets: Where each sub-space's entries start in the flat mask.
        starts: Each sub-space's first action value (``start``).
        total: Length of the flat mask (``sum(sizes)``).
        scalar: True for a Discrete (actions are one integer), False for a MultiDiscrete.
    """

    sizes: tuple[int, ...]
    offsets: np.ndarray
    starts: np.ndarray
    total: int
    scalar: bool


def mask_layout(agent: StrategicAgent, space: gym.Space[Any]) -> MaskLayout:
    """The mask layout of ``agent``'s action space ``space``.

    Raises:
        ConfigError: for a space other than Discrete or 1-D MultiDiscrete.
    """
    if isinstance(space, gym.spaces.Discrete):
        n = int(space.n)
        return MaskLayout((n,), np.zeros(1, np.int64), np.array([int(space.start)]), n, True)
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        sizes = tuple(int(n) for n in space.nvec)
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        starts = np.asarray(space.start, np.int64).reshape(-1)
        return MaskLayout(sizes, offsets, starts, int(sum(sizes)), False)
    raise ConfigError(
        f"strategic agent {agent.id!r} ({type(agent).__name__}) defines action_mask() but "
        f"its action space is {space}; action masks are supported for Discrete(n) (a mask "
        "of n entries) and 1-D MultiDiscrete(nvec) (one mask per sub-space, concatenated: "
        "sum(nvec) entries). Use one of those spaces or remove action_mask()"
    )


def masked_ids(agents: Iterable[StrategicAgent]) -> frozenset[AgentID]:
    """The ids of the agents whose class overrides ``action_mask``."""
    base = StrategicAgent.action_mask
    return frozenset(a.id for a in agents if type(a).action_mask is not base)


def mask_space(agent: StrategicAgent, size: int, obs_space: gym.Space[Any]) -> gym.Space[Any]:
    """``obs_space`` with the mask entry for a Dict; other spaces unchanged (infos only).

    Raises:
        ConfigError: a Dict space that already has an ``"action_mask"`` entry.
    """
    if not isinstance(obs_space, gym.spaces.Dict):
        return obs_space
    if MASK_KEY in obs_space.spaces:
        raise ConfigError(
            f"agent {agent.id!r}: its Dict observation space already has an "
            f"{MASK_KEY!r} entry and it defines action_mask(); the engine adds that entry "
            "from action_mask(), so remove it from the space and from encode_observation"
        )
    box = gym.spaces.Box(0, 1, (size,), np.int8)
    return gym.spaces.Dict({**obs_space.spaces, MASK_KEY: box})


def split_mask(space: gym.Space[Any], mask: Any) -> Any:
    """A flat mask in the form ``space.sample(mask=...)`` takes: the array itself for a
    Discrete, gymnasium's tuple of per-sub-space arrays for a MultiDiscrete."""
    mask = np.asarray(mask, np.int8)
    if isinstance(space, gym.spaces.MultiDiscrete):
        cuts = np.cumsum([int(n) for n in space.nvec.reshape(-1)])[:-1]
        return tuple(np.split(mask, cuts))
    return mask


def sample_legal(env: Any, agent_id: AgentID, space: gym.Space[Any] | None = None) -> Any:
    """A random action of ``agent_id`` from ``space`` (its action space by default) that
    its action mask allows now (any action for an unmasked agent or a non-phantomzoo env).
    Seed ``space`` first for reproducible draws."""
    space = env.action_space(agent_id) if space is None else space
    engine = getattr(env, "engine", None)
    if engine is not None and agent_id in engine.masked_agents:
        return space.sample(mask=split_mask(space, engine.action_mask(agent_id)))
    return space.sample()


class ActionMasks:
    """The engine's mask path (a base of :class:`~phantomzoo.engine.core.Engine`)."""

    network: Any
    clock: Any
    current_step: int
    _wiring: Any
    _agents: Mapping[AgentID, Any]
    _checks_finite: bool
    _action_spaces: dict[AgentID, gym.Space[Any]]

    def _init_masks(self, agents: Iterable[StrategicAgent]) -> None:
        """Find the masked agents and their layouts (raises ConfigError for bad spaces)."""
        agents = list(agents)
        self._masked = masked_ids(agents)
        self._mask_layouts: dict[AgentID, MaskLayout] = {
            a.id: mask_layout(a, a.action_space) for a in agents if a.id in self._masked
        }
        self._mask_cache: dict[AgentID, tuple[int, np.ndarray]] = {}
        self._mask_checks = self._checks_finite and bool(self._masked)

    @property
    def masked_agents(self) -> frozenset[AgentID]:
        """The strategic agents that define ``action_mask`` (empty for most models)."""
        return self._masked

    def mask_size(self, agent_id: AgentID) -> int:
        """The length of ``agent_id``'s flat mask (its Discrete or MultiDiscrete space)."""
        layout = self._mask_layouts.get(agent_id)
        if layout is not None:
            return layout.total
        agent = self._agents.get(agent_id) if agent_id in self._action_spaces else None
        if agent is None:
            raise ActionError(self._not_strategic(agent_id))  # type: ignore[attr-defined]
        return mask_layout(agent, self._action_spaces[agent_id]).total

    def full_mask(self, agent_id: AgentID) -> np.ndarray:
        """All ones (every action legal): for agents whose action is ignored."""
        return np.ones(self.mask_size(agent_id), np.int8)

    def action_mask(self, agent_id: AgentID) -> np.ndarray:
        """``agent_id``'s mask now (int8, checked); the same array within one step.

        Raises:
            ActionError: an agent that is not masked, or a mask that is malformed (wrong
                length, values other than 0/1, a sub-space without a legal action).
        """
        epoch = self.clock.epoch
        cached = self._mask_cache.get(agent_id)
        if cached is not None and cached[0] == epoch:
            return cached[1]
        if agent_id not in self._masked:
            raise ActionError(
                f"agent {agent_id!r} has no action mask: only strategic agents whose class "
                f"overrides action_mask(ctx) are masked ({sorted(map(str, self._masked))})"
            )
        agent = self._agents[agent_id]
        raw = agent.action_mask(self._wiring.contexts[agent_id])
        mask = self._checked_mask(agent, raw)
        self._mask_cache[agent_id] = (epoch, mask)
        return mask

    def _checked_mask(self, agent: Any, raw: Any) -> np.ndarray:
        layout = self._mask_layouts[agent.id]
        try:
            array = np.asarray(raw)
        except (TypeError, ValueError):
            array = np.asarray(None)
        problem = None
        if array.dtype.kind not in "biuf":
            problem = f"is not an array of numbers (dtype {array.dtype})"
        elif array.shape != (layout.total,):
            problem = f"has shape {array.shape}, expected ({layout.total},) for {_names(layout)}"
        elif not np.all((array == 0) | (array == 1)):
            problem = "holds values other than 0 (illegal) and 1 (legal)"
        else:
            mask = array.astype(np.int8)
            legal = np.add.reduceat(mask, layout.offsets) > 0
            if not legal.all():
                empty = [int(n) for n in np.flatnonzero(~legal)]
                where = "" if len(layout.sizes) == 1 else f" (sub-space(s) {empty})"
                problem = f"allows no action{where}"
            else:
                return mask
        raise ActionError(
            f"{type(agent).__name__}.action_mask() of agent {agent.id!r} at step "
            f"{self.current_step} returned a mask that {problem}; got {short_repr(raw)}. "
            f"Return 0/1 numbers, one per action of {self._action_spaces[agent.id]}, with "
            "at least one legal action per sub-space (e.g. always allow 'do nothing')"
        )

    # ------------------------------------------------------------ surfacing
    def _reset_infos(self, acting: list[AgentID]) -> dict[AgentID, dict[str, Any]]:
        """The infos ``reset`` returns: empty, plus the masks of masked agents."""
        infos: dict[AgentID, dict[str, Any]] = {i: {} for i in acting}
        if self._masked:
            self._add_masks(infos, acting)
        return infos

    def _add_masks(self, infos: dict[AgentID, dict[str, Any]], acting: Iterable[AgentID]) -> None:
        """Put the mask of each masked agent of ``acting`` into its infos."""
        masked = self._masked
        for agent_id in acting:
            if agent_id in masked:
                infos[agent_id] = {**infos[agent_id], MASK_KEY: self.action_mask(agent_id)}

    def _with_mask(self, agent_id: AgentID, obs: dict[str, Any]) -> dict[str, Any]:
        """A Dict observation with the agent's mask entry."""
        return {**obs, MASK_KEY: self.action_mask(agent_id)}

    # ------------------------------------------------------------ illegal actions
    def _check_legal(self, acting: Iterable[AgentID], actions: Mapping[AgentID, Any]) -> None:
        """Refuse any action of a masked agent whose index its mask rules out."""
        masked = self._masked
        for agent_id in acting:
            if agent_id in masked:
                self._check_legal_one(agent_id, actions[agent_id])

    def _check_legal_one(self, agent_id: AgentID, action: Any) -> None:
        """Raise unless ``action`` is legal; an action that is not one of the space
        (not integers, wrong count, out of range) is left to the space checks."""
        layout = self._mask_layouts[agent_id]
        mask = self.action_mask(agent_id)
        if layout.scalar and isinstance(action, (int, np.integer)) and action is not True:
            k = int(action) - int(layout.starts[0])  # the common case, fast
            if 0 <= k < layout.total and mask[k]:
                return
            if not 0 <= k < layout.total:
                return
        else:
            index = _indices(action, len(layout.sizes))
            if index is None:
                return
            index = index - layout.starts
            if np.any(index < 0) or np.any(index >= np.asarray(layout.sizes)):
                return
            if mask[index + layout.offsets].all():
                return
        raise ActionError(
            f"action {short_repr(action)} of agent {agent_id!r} for step "
            f"{self.current_step + 1} is illegal: its action mask rules it out. Legal "
            f"actions now: {_legal(layout, mask)}. Sample from the mask in "
            f"infos[{agent_id!r}][{MASK_KEY!r}] (masked logits, or "
            "action_space.sample(mask=...))"
        )


def _indices(action: Any, count: int) -> np.ndarray | None:
    """The integer values of ``action`` (``count`` of them), or None if it has others."""
    try:
        array = np.asarray(action)
    except (TypeError, ValueError):
        return None
    if array.dtype.kind not in "iuf" or array.size != count:
        return None
    index = array.astype(np.int64).reshape(-1)
    if array.dtype.kind == "f" and not np.array_equal(index, array.reshape(-1)):
        return None
    return index


def _names(layout: MaskLayout) -> str:
    if len(layout.sizes) == 1 and layout.scalar:
        return f"Discrete({layout.sizes[0]})"
    return f"MultiDiscrete({list(layout.sizes)}), concatenated"


def _legal(layout: MaskLayout, mask: np.ndarray) -> str:
    """The legal action values, per sub-space for a MultiDiscrete."""
    parts = []
    for size, offset, start in zip(layout.sizes, layout.offsets, layout.starts):
        legal = np.flatnonzero(mask[offset : offset + size]) + start
        parts.append(f"[{', '.join(str(int(v)) for v in legal)}]")
    return parts[0] if len(parts) == 1 and layout.scalar else f"per sub-space {', '.join(parts)}"
