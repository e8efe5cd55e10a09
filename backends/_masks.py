"""Action masks as the trainer backends see them (shared by the sb3 and rllib backends).

The engine reports each masked agent's legal actions in ``infos[agent]["action_mask"]``
whenever the agent is about to act (:mod:`phantomzoo.engine.masks`). A backend needs two
things from that: which learnt policies serve masked agents (and the mask length), and
each agent's latest mask, kept from the infos as the env steps. An agent of a masked
policy that has no mask of its own (or whose action is ignored: it ended, or it waits)
gets an all-ones mask: every action legal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from phantomzoo.engine.masks import MASK_KEY
from phantomzoo.training.mapping import PolicyMapping
from phantomzoo.types import AgentID

__all__ = ["MASK_KEY", "masked_policies", "record_masks", "mask_or_ones"]


def masked_policies(env: Any, mapping: PolicyMapping) -> dict[str, int]:
    """The learnt policies serving at least one masked agent of ``env``, with the length
    of their flat masks (``{}`` for a model without masks)."""
    engine = getattr(env, "engine", None)
    masked = getattr(engine, "masked_agents", frozenset())
    sizes: dict[str, int] = {}
    for policy_id, spec in mapping.learnt.items():
        agents = [a for a in spec.agent_ids if a in masked]
        if agents:
            sizes[policy_id] = int(engine.mask_size(agents[0]))
    return sizes


def record_masks(store: dict[AgentID, np.ndarray], infos: Mapping[AgentID, Any]) -> None:
    """Keep the masks found in ``infos`` (one env step's or reset's) in ``store``."""
    for agent_id, info in infos.items():
        mask = info.get(MASK_KEY) if isinstance(info, Mapping) else None
        if mask is not None:
            store[agent_id] = mask


def mask_or_ones(store: Mapping[AgentID, Any], agent_id: AgentID, size: int) -> np.ndarray:
    """``agent_id``'s latest mask from ``store`` as int8, or all ones if it has none."""
    mask = store.get(agent_id)
    return np.ones(size, np.int8) if mask is None else np.asarray(mask, np.int8)
