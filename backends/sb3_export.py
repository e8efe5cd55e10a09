"""Export of Stable-Baselines3 models as NumPy :class:`~phantomzoo.training.trained.MLPPolicy`.

PPO/A2C (and sb3-contrib's MaskablePPO): ``mlp_extractor.policy_net`` + ``action_net``
(+ ``log_std`` for Box actions).
SAC acts deterministically with ``tanh(mu(latent_pi(obs)))``, so ``mu`` becomes a last
tanh hidden layer with an identity head (hence tanh hidden layers only). ``VecNormalize``
observation statistics become ``obs_mean``/``obs_var``/``obs_clip``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import A2C, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from torch import nn

from phantomzoo.errors import ConfigError
from phantomzoo.training.trained import MLPPolicy

from . import sb3_vec as vec
from .sb3_masks import is_maskable


def _linears(seq: nn.Module, where: str) -> tuple[list[nn.Linear], str | None]:
    """The Linear layers of a Sequential of Linear/activation modules, and the activation."""
    linears, acts = [], set()
    for module in seq.modules() if isinstance(seq, nn.Sequential) else [seq]:
        if isinstance(module, nn.Linear):
            linears.append(module)
        elif isinstance(module, (nn.Tanh, nn.ReLU)):
            acts.add("tanh" if isinstance(module, nn.Tanh) else "relu")
        elif not isinstance(module, nn.Sequential):
            raise ConfigError(f"sb3: cannot export {where}: unsupported layer {module}")
    if len(acts) > 1:
        raise ConfigError(f"sb3: cannot export {where}: it mixes activations {sorted(acts)}")
    return linears, (acts.pop() if acts else None)


def _wb(layer: nn.Linear) -> tuple[np.ndarray, np.ndarray]:
    weight, bias = layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy()
    return weight.T.astype(np.float64), bias.astype(np.float64)


def export_policy(
    model: BaseAlgorithm, observation_space: gym.Space[Any], action_space: gym.Space[Any]
) -> MLPPolicy:
    """An SB3 model's deterministic policy as a NumPy :class:`MLPPolicy` (see module docs).

    Args:
        model: A PPO, MaskablePPO, A2C or SAC model with an ``MlpPolicy`` (optionally trained on a
            ``VecNormalize`` env, whose observation statistics are exported too).
        observation_space: The env's observation space for the policy.
        action_space: The env's action space; SB3 must have seen it as
            :class:`~phantomzoo.backends.sb3_vec.ActionCodec` presents it (``Box(-1, 1)``
            for a bounded Box).

    Raises:
        ConfigError: for a model, layer or activation MLPPolicy cannot express.
    """
    policy, name, log_std = model.policy, type(model).__name__, None
    actor_critic = isinstance(model, (PPO, A2C)) or is_maskable(model)
    if not (actor_critic or isinstance(model, SAC)):
        raise ConfigError(f"sb3: cannot export {name} models; export PPO, MaskablePPO, A2C or SAC")
    if actor_critic:
        extractor = policy.features_extractor
        hidden, act = _linears(policy.mlp_extractor.policy_net, f"{name} policy_net")
        layers, head = [_wb(layer) for layer in hidden], _wb(policy.action_net)
        if isinstance(action_space, gym.spaces.Box):
            log_std = policy.log_std.detach().cpu().numpy().astype(np.float64)
    else:  # SAC: deterministic action tanh(mu(latent_pi(obs)))
        extractor = policy.actor.features_extractor
        hidden, act = _linears(policy.actor.latent_pi, "SAC latent_pi")
        linears = [*hidden, policy.actor.mu]
        if act not in (None, "tanh"):
            raise ConfigError(f"sb3: {name} with {act} hidden layers cannot be exported")
        act, layers = "tanh", [_wb(layer) for layer in linears]
        width = layers[-1][0].shape[1]
        head = (np.eye(width), np.zeros(width))
    if type(extractor).__name__ != "FlattenExtractor":
        raise ConfigError(f"sb3: cannot export {name} with features extractor {extractor}")
    out = MLPPolicy(
        observation_space,
        action_space,
        layers,
        head,
        activation=act or "tanh",
        log_std=log_std,
        action_scaling=vec.ActionCodec(action_space).scaling,
    )
    vec_normalize = model.get_vec_normalize_env()
    if vec_normalize is not None and vec_normalize.norm_obs:
        out.obs_mean = vec_normalize.obs_rms.mean.astype(np.float64)
        out.obs_var = vec_normalize.obs_rms.var.astype(np.float64)
        out.obs_clip = float(vec_normalize.clip_obs)
    return out
