"""Export of a trained RLlib PPO module as a NumPy :class:`~phantomzoo.training.trained.MLPPolicy`.

The default PPO module's actor encoder and pi head (also those of the masking module
of :mod:`.rllib_masks`, which shares them) become the MLPPolicy's hidden layers and
head; see :mod:`.rllib` for the action scaling and ``log_std``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from phantomzoo.errors import TrainingError
from phantomzoo.training.mapping import PolicySpec
from phantomzoo.training.trained import MLPPolicy

__all__ = ["export_module"]

_ACTIVATIONS = {torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}


def export_module(module: Any, policy: PolicySpec, normalize_actions: bool = True) -> MLPPolicy:
    """An :class:`MLPPolicy` with a default PPO RLModule's deterministic actions."""
    encoder = getattr(module.encoder, "actor_encoder", None) or module.encoder.encoder
    stack: list[tuple[torch.nn.Linear, str | None]] = []
    for layer in [*encoder.net.mlp.children(), *module.pi.net.mlp.children()]:
        if isinstance(layer, torch.nn.Linear):
            stack.append((layer, None))
        elif type(layer) in _ACTIVATIONS and stack and stack[-1][1] is None:
            stack[-1] = (stack[-1][0], _ACTIVATIONS[type(layer)])
        else:
            raise TrainingError(f"cannot export RLlib layer {layer!r}: expected Linear/Tanh/ReLU")
    *hidden, (head, last) = stack
    activations = {a for _, a in hidden}
    if last is not None or len(activations) > 1 or None in activations:
        raise TrainingError(f"cannot export policy {policy.policy_id!r}: unexpected layers")

    def arrays(layer: torch.nn.Linear) -> tuple[np.ndarray, np.ndarray]:
        return layer.weight.detach().cpu().numpy().T.copy(), layer.bias.detach().cpu().numpy()

    head_w, head_b = arrays(head)
    log_std = None
    if isinstance(policy.action_space, gym.spaces.Box):
        dims = int(np.prod(policy.action_space.shape))
        head_w, head_b = head_w[:, :dims], head_b[:dims]  # [mean | log_std] if std not free
        if hasattr(module.pi, "log_std"):
            log_std = module.pi.log_std.detach().cpu().numpy().reshape(-1)
    return MLPPolicy(
        policy.observation_space,
        policy.action_space,
        layers=[arrays(layer) for layer, _ in hidden],
        head=(head_w, head_b),
        activation=activations.pop() if activations else "identity",
        log_std=log_std,
        action_scaling="normalized" if normalize_actions else "clip",
    )
