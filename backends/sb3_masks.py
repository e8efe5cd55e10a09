"""Action masks in the sb3 backend: sb3-contrib's ``MaskablePPO`` for masked policies.

A learnt policy serving agents with action masks (the env's ``engine.masked_agents``,
see :mod:`phantomzoo.engine.masks`) is trained with sb3-contrib's ``MaskablePPO``, which
samples from masked logits and stores each decision's mask for the update. Plain PPO
or A2C would sample illegal actions, which the env refuses with ``ActionError``, so:

* ``algorithm`` not given: ``MaskablePPO`` for masked policies, ``PPO`` for the others
  (unmasked models train exactly as before);
* ``algorithm="MaskablePPO"``: every learnt policy (an unmasked one sees all-ones masks,
  which is plain PPO);
* ``algorithm="PPO"``/``"A2C"``/``"SAC"`` on a masked model: refused (``ConfigError``).

**Where the masks come from.** The vector env of a masked policy is wrapped in
:class:`MaskedVecEnv`, whose ``action_masks()`` (the method ``MaskablePPO`` calls before
each step) returns one row per slot from the latest infos of the env copies: the
agent's mask when it is about to decide, all ones for a slot whose action is ignored
(an agent that ended, a padding slot) or an agent of the policy without a mask. Frozen
learnt models and fixed policies acting while another policy learns get the masks too
(:func:`model_actor`, :func:`fixed_actor`).

**Export and checkpoints.** ``MaskablePPO``'s policy has PPO's layout
(``mlp_extractor.policy_net`` + ``action_net``), so it exports to the same
:class:`~phantomzoo.training.trained.MLPPolicy`; the exported policy takes the env's
masks through ``compute_actions(..., action_masks=...)``. Checkpoints hold the same
state as PPO's (policy, optimiser, counters; the rollout buffer with its masks is
empty between updates).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from phantomzoo.errors import ConfigError
from phantomzoo.policy import Policy
from phantomzoo.training.masked import policy_actions

from ._actions import ActionCodec
from ._masks import mask_or_ones

try:  # the sb3 extra installs it; without it masked models are refused clearly
    from sb3_contrib import MaskablePPO
except ImportError:  # pragma: no cover - depends on the installation
    MaskablePPO = None

__all__ = [
    "MASKABLE",
    "MaskedVecEnv",
    "algorithms",
    "fixed_actor",
    "is_maskable",
    "maskable_algorithms",
    "model_actor",
    "pool_mask_rows",
    "supersuit_mask_rows",
]

MASKABLE = "MaskablePPO"
_METHOD = "action_masks"  # the method sb3-contrib looks for


def maskable_algorithms() -> dict[str, type[BaseAlgorithm]]:
    """``{"MaskablePPO": class}`` when sb3-contrib is installed, else ``{}``."""
    return {} if MaskablePPO is None else {MASKABLE: MaskablePPO}


def is_maskable(model: Any) -> bool:
    """Whether ``model`` is an sb3-contrib ``MaskablePPO``."""
    return MaskablePPO is not None and isinstance(model, MaskablePPO)


def algorithms(
    options: Mapping[str, Any], chosen: str, learnt: Sequence[str], masked: Mapping[str, int]
) -> dict[str, str]:
    """The SB3 algorithm of each learnt policy (see the module docs).

    Args:
        options: The backend's options as the user gave them (is ``algorithm`` set?).
        chosen: The ``algorithm`` option (its default when not given).
        learnt: The learnt policy ids.
        masked: The learnt policies serving masked agents, with their mask lengths.

    Raises:
        ConfigError: a masked policy with an algorithm that ignores masks, or masks
            without sb3-contrib installed.
    """
    explicit = "algorithm" in options
    if masked and explicit and chosen != MASKABLE:
        names = sorted(masked)
        raise ConfigError(
            f"sb3: policy(ies) {names} serve agents with action masks, and {chosen} ignores "
            "masks: it would sample illegal actions, which the env refuses with ActionError. "
            f"Use algorithm={MASKABLE!r} (sb3-contrib; the default for masked policies when "
            "'algorithm' is not given)"
        )
    if (masked or chosen == MASKABLE) and MaskablePPO is None:
        raise ConfigError(
            f"sb3: {MASKABLE} (for policies with action masks) needs sb3-contrib; install "
            "it with pip install 'phantomzoo[sb3]' (or pip install sb3-contrib)"
        )
    return {p: MASKABLE if p in masked or chosen == MASKABLE else chosen for p in learnt}


# --------------------------------------------------------------------- the vec env
class MaskedVecEnv(VecEnvWrapper):
    """A VecEnv with sb3-contrib's ``action_masks()``: one row per slot.

    Args:
        venv: The policy's vector env (the adapter's or SuperSuit's).
        rows: Returns the current masks, shape ``(num_envs, mask length)``.
    """

    def __init__(self, venv: VecEnv, rows: Callable[[], np.ndarray]) -> None:
        super().__init__(venv)
        self._rows = rows

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        return self.venv.step_wait()

    def action_masks(self) -> np.ndarray:
        """The legal actions of every slot at its next decision (int8 rows)."""
        return self._rows()

    def has_attr(self, attr_name: str) -> bool:
        return attr_name == _METHOD or self.venv.has_attr(attr_name)

    def env_method(
        self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any
    ) -> list[Any]:
        if method_name == _METHOD:  # what MaskablePPO calls: one mask per slot
            rows = self._rows()
            return [rows[i] for i in self._get_indices(indices)]
        return self.venv.env_method(method_name, *args, indices=indices, **kwargs)


def pool_mask_rows(pool: Any, policy_id: str, size: int) -> Callable[[], np.ndarray]:
    """The rows of an :class:`~.sb3_vec.EnvPool` policy's slots (dead slots: all ones)."""
    slots = pool.slots(policy_id)

    def rows() -> np.ndarray:
        out = np.ones((len(slots), size), np.int8)
        for k, (c, agent_id) in enumerate(slots):
            copy = pool.copies[c]
            if agent_id not in copy.dead:
                out[k] = mask_or_ones(copy.masks, agent_id, size)
        return out

    return rows


def supersuit_mask_rows(trackers: Sequence[Any], size: int) -> Callable[[], np.ndarray]:
    """The rows of SuperSuit's slots: each copy's agents in ``possible_agents`` order."""

    def rows() -> np.ndarray:
        return np.stack(
            [mask_or_ones(t.masks, agent_id, size) for t in trackers for agent_id in t.order]
        )

    return rows


# ---------------------------------------------------------------------- actors
def model_actor(model: BaseAlgorithm, codec: ActionCodec) -> Callable[..., list[Any]]:
    """A frozen learnt model acting (stochastically) while another policy learns; a
    ``MaskablePPO`` model samples from the masks it is given."""
    maskable = is_maskable(model)

    def act(observations: np.ndarray, masks: Sequence[Any] | None = None) -> list[Any]:
        vec_normalize = model.get_vec_normalize_env()
        obs = observations.astype(np.float32)
        if vec_normalize is not None:
            obs = vec_normalize.normalize_obs(obs)
        if maskable and masks is not None:
            size = int(codec.sb3_space.n)
            rows = np.stack([np.ones(size, np.int8) if m is None else m for m in masks])
            actions = model.predict(obs, deterministic=False, action_masks=rows)[0]
        else:
            actions = model.predict(obs, deterministic=False)[0]
        return codec.to_env(actions)

    return act


def fixed_actor(policy: Policy, policy_id: str) -> Callable[..., Sequence[Any]]:
    """A fixed policy acting; given the masks if its ``compute_actions`` takes them."""

    def act(observations: np.ndarray, masks: Sequence[Any] | None = None) -> Sequence[Any]:
        if masks is None:  # exactly as without masks
            return policy.compute_actions(list(observations))
        return policy_actions(policy, policy_id, list(observations), None, list(masks))

    return act
