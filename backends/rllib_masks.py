"""Action masks in the rllib backend: Dict observations and a PPO module masking logits.

RLlib's new API stack carries an action mask the usual way: a masked policy observes
``Dict({"observations": <its Box>, "action_mask": Box(0, 1, (n,))})`` and its RLModule
pushes the logits of masked-out actions to a very low value before the action
distribution is built, so sampling, log-probabilities and entropies only see legal
actions. Here:

* :func:`masked_observation_space` / :func:`with_mask`: the adapter
  (:class:`~.rllib_env.PhantomMultiAgentEnv`) wraps the observations of agents of a
  masked policy, the mask being the agent's latest ``infos["action_mask"]`` (all ones
  for an agent of the policy without a mask and for final observations, whose action
  is never taken);
* :class:`MaskedPPOTorchRLModule`: RLlib's default PPO torch module built on the inner
  observation space, its forward passes splitting the Dict and masking the logits; its
  encoder and heads are the default module's, so :func:`~.rllib.export_module` exports
  it to the same :class:`~phantomzoo.training.trained.MLPPolicy` (the observation part;
  the exported policy takes masks through ``compute_actions(..., action_masks=...)``).

(RLlib 2.60 ships a similar module among its examples, ``ActionMaskingTorchRLModule``;
examples are not a stable API and that one edits the batch in place, hence this one.)
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.core.columns import Columns

from phantomzoo.errors import ConfigError

from ._masks import MASK_KEY

__all__ = [
    "INNER_KEY",
    "MASK_KEY",
    "MaskedPPOTorchRLModule",
    "masked_observation_space",
    "with_mask",
]

#: The key of the policy's own observation in a masked policy's Dict observation.
INNER_KEY = "observations"
#: Added to a masked-out action's logit (finite, so the entropy stays finite).
_MASKED_LOGIT = -1e9


def masked_observation_space(inner: gym.Space[Any], size: int) -> gym.spaces.Dict:
    """The observation space RLlib sees for a masked policy observing ``inner``."""
    mask = gym.spaces.Box(0.0, 1.0, (size,), np.float32)
    return gym.spaces.Dict({INNER_KEY: inner, MASK_KEY: mask})


def with_mask(observation: np.ndarray, mask: Any) -> dict[str, np.ndarray]:
    """One observation of a masked policy: the agent's own and its mask (float32)."""
    return {INNER_KEY: observation, MASK_KEY: np.asarray(mask, np.float32)}


class MaskedPPOTorchRLModule(DefaultPPOTorchRLModule):
    """RLlib's default PPO torch module for a Dict ``{observations, action_mask}``
    observation space: networks over ``observations``, logits masked by ``action_mask``.

    Args:
        observation_space: The Dict of :func:`masked_observation_space`.
        **kwargs: As for ``DefaultPPOTorchRLModule``.

    Raises:
        ConfigError: for another observation space.
    """

    def __init__(self, *args: Any, observation_space: gym.Space[Any] = None, **kwargs: Any):
        if not (
            isinstance(observation_space, gym.spaces.Dict)
            and set(observation_space.spaces) == {INNER_KEY, MASK_KEY}
        ):
            raise ConfigError(
                f"MaskedPPOTorchRLModule needs a Dict({INNER_KEY!r}, {MASK_KEY!r}) observation "
                f"space (masked_observation_space()), got {observation_space}; build it "
                "through rllib.module_spec(policy, model, mask_size)"
            )
        super().__init__(*args, observation_space=observation_space[INNER_KEY], **kwargs)
        self.observation_space = observation_space  # what the env runners feed it

    @staticmethod
    def _split(batch: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """A shallow copy of ``batch`` with the inner observations, and the mask."""
        obs = batch[Columns.OBS]
        if not isinstance(obs, dict):  # already split (a batch passed on by RLlib)
            return batch, batch.get(MASK_KEY)
        return {**batch, Columns.OBS: obs[INNER_KEY]}, obs[MASK_KEY]

    @staticmethod
    def _masked(out: dict[str, Any], mask: Any) -> dict[str, Any]:
        if mask is not None:
            logits = out[Columns.ACTION_DIST_INPUTS]
            legal = torch.as_tensor(mask, device=logits.device) > 0.5
            out[Columns.ACTION_DIST_INPUTS] = logits.masked_fill(~legal, _MASKED_LOGIT)
        return out

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        inner, mask = self._split(batch)
        return self._masked(super()._forward(inner, **kwargs), mask)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        inner, mask = self._split(batch)
        return self._masked(super()._forward_train(inner, **kwargs), mask)

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> Any:
        inner, _ = self._split(batch)
        return super().compute_values(inner, embeddings)
