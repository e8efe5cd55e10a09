"""cleanrl's networks: the actor-critic, the running normaliser, and the export to NumPy.

:class:`ActorCritic` is CleanRL's ``Agent``: separate actor and critic MLPs with
orthogonal initialisation, Gaussian actions with a state-independent ``log_std`` for Box
spaces (in the normalised ``[-1, 1]`` space) and Categorical actions for Discrete ones.
:func:`export_policy` turns its actor into a NumPy ``MLPPolicy`` with the same
deterministic actions.

**Action masks.** Given a mask (bool, one row per observation: ``n`` entries for a
Discrete, ``sum(nvec)`` for a MultiDiscrete, as the env's ``infos["action_mask"]``),
the logits of illegal actions are replaced by a large negative number (:data:`MASKED`)
before the softmax, in sampling, in the log-probabilities and entropies of the update,
and in the deterministic argmax: an illegal action has probability 0 and adds nothing
to the entropy. A MultiDiscrete is one Categorical per sub-space (the head's outputs
split by ``nvec``).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from phantomzoo.training.mapping import PolicySpec
from phantomzoo.training.trained import MLPPolicy

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
#: The logit of a masked-out action (finite, so 0 * logit stays 0 in the entropy).
MASKED = -1e8


class RunningMeanStd:
    """Running mean and variance of a stream of batches (parallel-variance update)."""

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.mean, self.var, self.count = np.zeros(shape), np.ones(shape), 1e-4

    def update(self, batch: np.ndarray) -> None:
        n, mean, var = len(batch), batch.mean(axis=0), batch.var(axis=0)
        delta, total = mean - self.mean, self.count + n
        self.mean = self.mean + delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total


def layer_init(layer: nn.Linear, gain: float, generator: torch.Generator) -> nn.Linear:
    """CleanRL's ``layer_init``: orthogonal weights (drawn from ``generator``), zero bias."""
    nn.init.orthogonal_(layer.weight, gain, generator=generator)
    nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs; Gaussian (Box) or Categorical (Discrete) actions.

    Args:
        obs_dim: Flattened observation size.
        action_space: The policy's Box or Discrete action space.
        hidden_sizes / activation / log_std_init: From ``Args``.
        generator: Draws the (orthogonal) initial weights.
    """

    def __init__(
        self,
        obs_dim: int,
        action_space: gym.Space[Any],
        hidden_sizes: tuple[int, ...],
        activation: str,
        log_std_init: float,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.box = isinstance(action_space, gym.spaces.Box)
        self.multi = isinstance(action_space, gym.spaces.MultiDiscrete)
        if self.multi:
            self.splits = [int(n) for n in action_space.nvec.reshape(-1)]
        elif not self.box:
            self.splits = [int(action_space.n)]
        out = int(np.prod(action_space.shape)) if self.box else sum(self.splits)
        self.activation = activation

        def mlp(out_dim: int, head_gain: float) -> nn.Sequential:
            sizes, layers = [obs_dim, *hidden_sizes], []
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                layers.append(layer_init(nn.Linear(n_in, n_out), math.sqrt(2), generator))
                layers.append(nn.Tanh() if activation == "tanh" else nn.ReLU())
            head = layer_init(nn.Linear(sizes[-1], out_dim), head_gain, generator)
            return nn.Sequential(*layers, head)

        self.actor, self.critic = mlp(out, 0.01), mlp(1, 1.0)
        self.log_std = nn.Parameter(torch.full((out,), float(log_std_init))) if self.box else None

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """CleanRL's ``get_value``."""
        return self.critic(obs).squeeze(-1)

    def log_probs(self, out: torch.Tensor, mask: torch.Tensor | None) -> list[torch.Tensor]:
        """Per sub-space log-probabilities of the actor's outputs, illegal actions masked."""
        if mask is not None:
            out = out.masked_fill(~mask, MASKED)
        parts = out.split(self.splits, dim=-1) if self.multi else (out,)
        return [torch.log_softmax(part, dim=-1) for part in parts]

    def _stack(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """Per sub-space actions (or log-probabilities) as one tensor: (n,) or (n, k)."""
        return torch.stack(parts, dim=-1) if self.multi else parts[0]

    def sample(
        self, obs: torch.Tensor, gen: torch.Generator, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        """Sampled actions, their log-probabilities and the values (rollout half of
        CleanRL's ``get_action_and_value``); ``mask``: legal actions (Discrete kinds)."""
        out = self.actor(obs)
        if self.box:
            noise = torch.randn(out.shape, generator=gen)
            actions = out + noise * self.log_std.exp()
            logp = (-0.5 * noise.square() - self.log_std - _HALF_LOG_2PI).sum(-1)
            return actions, logp, self.value(obs)
        chosen, logps = [], []
        for logits in self.log_probs(out, mask):
            action = torch.multinomial(logits.exp(), 1, generator=gen)
            chosen.append(action.squeeze(-1))
            logps.append(logits.gather(-1, action).squeeze(-1))
        return self._stack(chosen), sum(logps), self.value(obs)

    def evaluate(
        self, obs: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        """Log-probabilities of ``actions``, entropies and values (update half)."""
        out = self.actor(obs)
        if self.box:
            z = (actions - out) * torch.exp(-self.log_std)
            logp = (-0.5 * z.square() - self.log_std - _HALF_LOG_2PI).sum(-1)
            entropy = (self.log_std + 0.5 + _HALF_LOG_2PI).sum().expand(len(obs))
            return logp, entropy, self.value(obs)
        columns = actions.unbind(-1) if self.multi else (actions,)
        logp = entropy = 0
        for logits, action in zip(self.log_probs(out, mask), columns):
            logp = logp + logits.gather(-1, action.unsqueeze(-1)).squeeze(-1)
            entropy = entropy - (logits.exp() * logits).sum(-1)
        return logp, entropy, self.value(obs)

    def deterministic(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Deterministic actions: the clipped mean (Box, normalised space) or the argmax
        (of the legal actions, given a mask)."""
        out = self.actor(obs)
        if self.box:
            return out.clamp(-1.0, 1.0)
        return self._stack([logits.argmax(-1) for logits in self.log_probs(out, mask)])


def export_policy(
    net: ActorCritic, spec: PolicySpec, obs_rms: RunningMeanStd | None, obs_clip: float
) -> MLPPolicy:
    """The actor of ``net`` as a NumPy :class:`MLPPolicy` with the same deterministic actions."""
    weights = [
        (m.weight.detach().double().numpy().T.copy(), m.bias.detach().double().numpy().copy())
        for m in net.actor
        if isinstance(m, nn.Linear)
    ]
    space = spec.action_space
    bounded = isinstance(space, gym.spaces.Box) and bool(space.is_bounded("both"))
    return MLPPolicy(
        spec.observation_space,
        space,
        layers=weights[:-1],
        head=weights[-1],
        activation=net.activation,
        log_std=None if net.log_std is None else net.log_std.detach().double().numpy().copy(),
        obs_mean=None if obs_rms is None else obs_rms.mean.copy(),
        obs_var=None if obs_rms is None else obs_rms.var.copy(),
        obs_clip=obs_clip,
        action_scaling="normalized" if bounded else "clip",
    )
