"""Action masks for policies: how a policy is given its agents' legal actions.

The env reports each masked agent's legal actions as ``infos[agent]["action_mask"]``
(:mod:`phantomzoo.engine.masks`). A policy that can use them takes an ``action_masks``
keyword in ``compute_actions(observations, rng=None, action_masks=None)``: one mask per
observation, ``None`` for an unmasked one. Callers pass masks only to policies (and
``act`` functions) that accept the keyword (:func:`accepts_action_masks`), so every
existing policy keeps working unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ActionError
from ..policy import Policy, checked_actions


def masked_logits(out: np.ndarray, action_masks: Sequence[Any]) -> np.ndarray:
    """``out`` with the logits of masked-out actions at -inf (rows without a mask kept).

    Raises:
        ActionError: a mask of the wrong length or with no legal action.
    """
    if len(action_masks) != len(out):
        raise ActionError(
            f"got {len(action_masks)} action mask(s) for {len(out)} observation(s); pass one "
            "mask (or None) per observation"
        )
    out = out.copy()
    for row, mask in enumerate(action_masks):
        if mask is None:
            continue
        legal = np.asarray(mask).reshape(-1) != 0
        if legal.shape != (out.shape[1],) or not legal.any():
            raise ActionError(
                f"action mask {np.asarray(mask).tolist()!r} does not fit a policy over "
                f"{out.shape[1]} actions: pass {out.shape[1]} 0/1 entries with at least one 1"
            )
        out[row, ~legal] = -np.inf
    return out


def accepts_action_masks(compute: Callable[..., Any]) -> bool:
    """Whether ``compute`` (a ``compute_actions`` or an ``act`` function) takes an
    ``action_masks`` keyword (by name or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(compute).parameters.values()
    except (TypeError, ValueError):  # a builtin or callable without a signature
        return False
    return any(
        p.name == "action_masks" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )


def policy_actions(
    policy: Policy, name: str, batch: list[Any], rng: Any, masks: list[Any] | None
) -> Sequence[Any]:
    """``checked_actions``, passing ``masks`` to a policy that accepts them."""
    if masks is None or not accepts_action_masks(policy.compute_actions):
        return checked_actions(policy, name, batch, rng)
    actions = policy.compute_actions(batch, rng=rng, action_masks=masks)
    count = len(actions) if hasattr(actions, "__len__") else None
    if count != len(batch):
        got = f"{count} action(s)" if count is not None else type(actions).__name__
        raise ActionError(
            f"policy {name!r} ({type(policy).__name__}).compute_actions returned {got} for "
            f"{len(batch)} observation(s); return exactly one action per observation, in order"
        )
    return actions
