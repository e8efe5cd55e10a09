"""Checkpoints of the cleanrl backend: everything a bit-identical resume needs, as data.

A checkpoint is taken between iterations, when every rollout buffer is empty. What a
resumed run needs then is small and plain:

* per learnt policy: network and Adam state, observation and return normalisers, and
  each slot's running discounted return;
* the torch generator (sampling, minibatches) and the episode-seed generator;
* the progress-bar window of recent returns and lengths;
* per env copy: the seed its current episode was reset with and the actions played
  in it so far. Environments are not pickled: on resume each copy is reset with that
  seed and the actions are replayed (the model is deterministic given seed and
  actions), which rebuilds its state, its observations and its episode bookkeeping.

Same seed and budget, interrupted and resumed or not, give the same final weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from phantomzoo.errors import CheckpointError

from ._torch_state import load_module_state, load_optimizer_state, to_numpy


# ------------------------------------------------------------------ action logs
def encode_log(steps: list[dict[Any, Any]]) -> dict[str, Any]:
    """One episode's actions (``[{agent_id: action}, ...]``) as compact data."""
    agents = [list(step) for step in steps]
    flat = [action for step in steps for action in step.values()]
    if flat and all(type(a) is int for a in flat):
        return {"agents": agents, "kind": "int", "actions": np.asarray(flat, np.int64)}
    if flat and all(isinstance(a, (np.ndarray, np.generic)) for a in flat):
        first = np.asarray(flat[0])
        if all(np.asarray(a).dtype == first.dtype and np.shape(a) == first.shape for a in flat):
            scalar = isinstance(flat[0], np.generic)
            return {
                "agents": agents,
                "kind": "scalar" if scalar else "array",
                "actions": np.stack(flat),
            }
    return {"agents": agents, "kind": "list", "actions": [list(s.values()) for s in steps]}


def decode_log(data: Any) -> list[dict[Any, Any]]:
    """The steps recorded by :func:`encode_log`."""
    try:
        agents, kind, actions = data["agents"], data["kind"], data["actions"]
        if kind == "list":
            return [
                dict(zip(ids, acts, strict=True)) for ids, acts in zip(agents, actions, strict=True)
            ]
        if kind == "int":
            flat: list[Any] = [int(a) for a in actions]
        elif kind == "scalar":
            flat = [actions[n] for n in range(len(actions))]
        elif kind == "array":
            flat = [actions[n].copy() for n in range(len(actions))]
        else:
            raise CheckpointError(f"unknown action-log kind {kind!r}")
        steps, at = [], 0
        for ids in agents:
            steps.append(dict(zip(ids, flat[at : at + len(ids)], strict=True)))
            at += len(ids)
        if at != len(flat):
            raise ValueError("more actions than agents")
        return steps
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"malformed action log in the checkpoint: {exc}") from None


# ------------------------------------------------------------------ learners
def learner_state(learner: Any) -> dict[str, Any]:
    """A learner's state between iterations (its buffers are empty then)."""

    def rms(stats: Any) -> Any:
        return None if stats is None else [stats.mean, stats.var, float(stats.count)]

    return {
        "net": to_numpy(learner.net.state_dict()),
        "optimizer": to_numpy(learner.optimizer.state_dict()),
        "obs_rms": rms(learner.obs_rms),
        "ret_rms": rms(learner.ret_rms),
        "discounted": learner.discounted.copy(),
    }


def restore_learner(learner: Any, state: dict[str, Any], policy_id: str) -> None:
    """Put ``state`` (from :func:`learner_state`) back into ``learner``."""
    try:
        load_module_state(learner.net, state["net"], f"policy {policy_id!r}'s network")
        load_optimizer_state(learner.optimizer, state["optimizer"], f"policy {policy_id!r}'s Adam")
        for name in ("obs_rms", "ret_rms"):
            saved, stats = state[name], getattr(learner, name)
            if (saved is None) != (stats is None):
                raise ValueError(f"{name} was {'not ' if saved is None else ''}used")
            if stats is not None:
                stats.mean, stats.var, stats.count = (
                    np.asarray(saved[0]),
                    np.asarray(saved[1]),
                    saved[2],
                )
        if np.shape(state["discounted"]) != learner.discounted.shape:
            raise ValueError("the number of agent slots differs")
        learner.discounted[:] = state["discounted"]
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"cleanrl: the checkpoint does not fit policy {policy_id!r} ({exc}); resume with the "
            "same env, policies and options"
        ) from None


# ------------------------------------------------------------------ generators
def generator_state(gen: torch.Generator) -> np.ndarray:
    return gen.get_state().numpy().copy()


def restore_generator(gen: torch.Generator, state: Any) -> None:
    try:
        gen.set_state(torch.from_numpy(np.asarray(state, np.uint8).copy()))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"cleanrl: unusable torch generator state ({exc})") from None
