"""A trained policy frozen into a *fixed* policy that ``ph.train`` can play but not learn.

``ph.train`` takes fixed policies in its mapping as ``(PolicyClass, agents, config)``
with a plain-JSON ``config`` (so that the run can be saved, checkpointed and loaded
back). A trained :class:`~phantomzoo.training.trained.MLPPolicy` is an *instance* with
NumPy weights, so it cannot be given that way directly. :class:`FrozenPolicy` is the
bridge: its config holds the MLP's weights as JSON lists (exact: JSON keeps every
float64 digit), and it acts exactly as the MLP it was made from, deterministically
unless a caller passes ``rng``::

    policies = {"br": ["A"], "rival": frozen_entry(trained["rival"], ["B"])}
    ph.train(env, policies, ...)    # "rival" plays its trained policy, frozen

The weights travel with the run record, so a results directory whose mapping holds a
frozen policy loads back without the directory it came from. A config read back from
a results directory is untrusted input: every entry is checked
(:func:`~phantomzoo.training.manifest.check_mlp_arrays`) and a malformed one raises
:class:`~phantomzoo.errors.ManifestError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from ..policy import Policy
from ..types import AgentID
from .manifest import ACTION_SCALINGS, ACTIVATIONS, MAX_LAYERS, Reader, check_mlp_arrays
from .trained import MLPPolicy

__all__ = ["FrozenPolicy", "freeze", "frozen_entry", "unfrozen"]


def freeze(policy: MLPPolicy) -> dict[str, Any]:
    """The plain-JSON config of a :class:`FrozenPolicy` acting as ``policy``."""
    return {
        "num_layers": len(policy.layers),
        "activation": policy.activation,
        "obs_clip": policy.obs_clip,
        "action_scaling": policy.action_scaling,
        "arrays": {name: array.tolist() for name, array in policy.arrays().items()},
    }


def frozen_entry(
    policy: MLPPolicy, agents: Sequence[AgentID]
) -> tuple[type[FrozenPolicy], list[AgentID], dict[str, Any]]:
    """A ``ph.train`` mapping entry playing ``policy``, frozen, for ``agents``."""
    return FrozenPolicy, list(agents), freeze(policy)


def unfrozen(policy: Policy) -> Policy:
    """The trained MLP behind a :class:`FrozenPolicy`; any other policy unchanged."""
    return policy.mlp if isinstance(policy, FrozenPolicy) else policy


class FrozenPolicy(Policy):
    """A fixed policy acting as a trained MLP whose weights are in its config.

    Args:
        observation_space: The agents' observation space (a 1-D Box).
        action_space: Their action space (Box or Discrete).
        **config: What :func:`freeze` returns: ``num_layers``, ``activation``,
            ``obs_clip``, ``action_scaling`` and ``arrays`` (``{name: nested list}``).

    Raises:
        ManifestError: a config that does not describe an MLP over these spaces.
    """

    def __init__(
        self, observation_space: gym.Space[Any], action_space: gym.Space[Any], **config: Any
    ) -> None:
        super().__init__(observation_space, action_space, **config)
        self.mlp = _build(observation_space, action_space, config)

    def compute_actions(
        self,
        observations: Sequence[Any],
        rng: np.random.Generator | None = None,
        action_masks: Sequence[Any] | None = None,
    ) -> list[Any]:
        """The frozen MLP's actions (deterministic unless ``rng`` is given)."""
        return self.mlp.compute_actions(observations, rng=rng, action_masks=action_masks)

    def compute_action(self, observation: Any, action_mask: Any = None) -> Any:
        """The frozen MLP's action for one observation."""
        return self.mlp.compute_action(observation, action_mask)


def _build(
    observation_space: gym.Space[Any], action_space: gym.Space[Any], config: Mapping[str, Any]
) -> MLPPolicy:
    """The MLP a frozen config describes, every entry checked first."""
    reader = Reader("frozen policy config")
    if not isinstance(observation_space, gym.spaces.Box):
        raise reader.fail(f"a frozen MLP needs a Box observation space, got {observation_space}")
    num_layers = reader.get(config, "num_layers", int, "")
    activation = reader.get(config, "activation", str, "")
    scaling = reader.get(config, "action_scaling", str, "")
    obs_clip = reader.get(config, "obs_clip", (int, float), "")
    raw = reader.get(config, "arrays", dict, "")
    if not 0 <= num_layers <= MAX_LAYERS:
        raise reader.fail(f"num_layers must be in [0, {MAX_LAYERS}], got {num_layers}")
    if activation not in ACTIVATIONS or scaling not in ACTION_SCALINGS:
        raise reader.fail(
            f"activation must be one of {ACTIVATIONS} and action_scaling one of "
            f"{ACTION_SCALINGS}, got {activation!r} / {scaling!r}"
        )
    if not (math.isfinite(obs_clip) and obs_clip > 0):
        raise reader.fail(f"obs_clip must be a finite number > 0, got {obs_clip}")
    arrays = {name: _array(reader, name, value) for name, value in raw.items()}
    check_mlp_arrays(reader, "arrays", arrays, num_layers, observation_space, action_space)
    layers = [(arrays[f"layer{n}_w"], arrays[f"layer{n}_b"]) for n in range(num_layers)]
    return MLPPolicy(
        observation_space,
        action_space,
        layers,
        (arrays["head_w"], arrays["head_b"]),
        activation=activation,
        log_std=arrays.get("log_std"),
        obs_mean=arrays.get("obs_mean"),
        obs_var=arrays.get("obs_var"),
        obs_clip=float(obs_clip),
        action_scaling=scaling,
    )


def _array(reader: Reader, name: Any, value: Any) -> np.ndarray:
    """One weight array from its nested list (finite numbers only)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise reader.fail(f"array {name!r} is not a (nested) list of numbers") from None
    if not np.all(np.isfinite(array)):
        raise reader.fail(f"array {name!r} holds NaN or infinite values")
    return array
