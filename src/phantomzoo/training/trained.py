"""Trained policies in one backend-neutral form: NumPy weights plus a JSON manifest.

Every backend exports what it trained into :class:`MLPPolicy` (a plain multilayer
perceptron evaluated with NumPy), so rollouts, evaluation and the CLI use trained
policies the same way whichever backend produced them, without importing the trainer.
:class:`TrainedPolicies` groups the policies of a mapping; it saves to a directory as
``manifest.json`` plus one ``.npz`` file per learnt policy, and loads as untrusted
input: nothing is unpickled, every entry is checked (:mod:`phantomzoo.training.manifest`) and no
module named by the manifest is imported without the user's consent
(:mod:`phantomzoo.training.trust`).

Action conventions of :class:`MLPPolicy`:

* ``Discrete(n)``: the head outputs logits; the deterministic action is the argmax.
* ``Box``: the head outputs a mean in a *normalised* space; the deterministic action is
  ``clip(mean, -1, 1)`` mapped affinely onto ``[low, high]`` (``action_scaling="normalized"``)
  or the mean clipped to ``[low, high]`` (``action_scaling="clip"``).

**Action masks.** ``compute_actions(observations, rng=None, action_masks=None)``:
``action_masks`` holds one mask per observation (``n`` 0/1 entries, as the env's
``infos[agent]["action_mask"]``; ``None`` for an unmasked one). An :class:`MLPPolicy`
then picks (argmax, or samples) among the legal actions only. The episode loop
(:mod:`phantomzoo.experiments.episodes`) passes the env's masks to every policy whose
``compute_actions`` accepts ``action_masks`` (:mod:`phantomzoo.training.masked`);
others are called as before (and the env refuses any illegal action they choose).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from ..errors import TrainingError
from ..policy import Policy
from ..types import AgentID
from .manifest import FORMAT, FORMAT_VERSION
from .masked import masked_logits, policy_actions

_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "identity": lambda x: x,
}


# ------------------------------------------------------------------ spaces as JSON
def space_to_json(space: gym.Space[Any]) -> dict[str, Any]:
    """A JSON-able description of a Box or Discrete space."""
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "low": space.low.tolist(),
            "high": space.high.tolist(),
            "shape": list(space.shape),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    raise TrainingError(
        f"cannot save a policy over {space}: trained policies support Box and Discrete spaces"
    )


def space_from_json(data: Mapping[str, Any]) -> gym.Space[Any]:
    """Rebuild a space saved by :func:`space_to_json` (every field checked)."""
    from .manifest import Reader, read_space

    return read_space(Reader("saved space"), data, "space")


# ------------------------------------------------------------------- MLP policy
class MLPPolicy(Policy):
    """A trained policy: an MLP evaluated with NumPy (see the module docs).

    Args:
        observation_space: A 1-D Box.
        action_space: A Box or Discrete space.
        layers: ``[(weight, bias), ...]`` of the hidden layers; weights are
            ``(in, out)`` arrays.
        head: ``(weight, bias)`` of the output layer (action mean or logits).
        activation: ``"tanh"``, ``"relu"`` or ``"identity"``.
        log_std: For Box actions, the log standard deviation used when sampling.
        obs_mean / obs_var / obs_clip: Optional observation normalisation
            ``clip((obs - mean) / sqrt(var + 1e-8), -obs_clip, obs_clip)``.
        action_scaling: ``"normalized"`` or ``"clip"`` (Box actions only).
    """

    def __init__(
        self,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        layers: Sequence[tuple[np.ndarray, np.ndarray]],
        head: tuple[np.ndarray, np.ndarray],
        activation: str = "tanh",
        log_std: np.ndarray | None = None,
        obs_mean: np.ndarray | None = None,
        obs_var: np.ndarray | None = None,
        obs_clip: float = 10.0,
        action_scaling: str = "normalized",
    ) -> None:
        super().__init__(observation_space, action_space)
        if activation not in _ACTIVATIONS:
            raise TrainingError(f"unknown activation {activation!r}; use {sorted(_ACTIVATIONS)}")
        if action_scaling not in ("normalized", "clip"):
            raise TrainingError(
                f"action_scaling must be 'normalized' or 'clip', got {action_scaling!r}"
            )
        self.layers = [(np.asarray(w, np.float64), np.asarray(b, np.float64)) for w, b in layers]
        self.head = (np.asarray(head[0], np.float64), np.asarray(head[1], np.float64))
        self.activation = activation
        self.log_std = None if log_std is None else np.asarray(log_std, np.float64)
        self.obs_mean = None if obs_mean is None else np.asarray(obs_mean, np.float64)
        self.obs_var = None if obs_var is None else np.asarray(obs_var, np.float64)
        self.obs_clip = float(obs_clip)
        self.action_scaling = action_scaling

    def forward(self, observations: np.ndarray) -> np.ndarray:
        """Head outputs (means or logits) for a batch of observations, shape (n, out)."""
        x = np.asarray(observations, dtype=np.float64).reshape(len(observations), -1)
        if self.obs_mean is not None and self.obs_var is not None:
            x = np.clip(
                (x - self.obs_mean) / np.sqrt(self.obs_var + 1e-8), -self.obs_clip, self.obs_clip
            )
        act = _ACTIVATIONS[self.activation]
        for weight, bias in self.layers:
            x = act(x @ weight + bias)
        return x @ self.head[0] + self.head[1]

    def compute_actions(
        self,
        observations: Sequence[Any],
        rng: np.random.Generator | None = None,
        action_masks: Sequence[Any] | None = None,
    ) -> list[Any]:
        """Actions for a batch; deterministic unless ``rng`` is given (then sampled);
        among the legal actions only, given ``action_masks`` (Discrete spaces)."""
        if len(observations) == 0:
            return []
        out = self.forward(np.stack([np.asarray(o) for o in observations]))
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            if action_masks is not None:
                out = masked_logits(out, action_masks)
            if rng is None:
                choice = out.argmax(axis=1)
            else:
                logits = out - out.max(axis=1, keepdims=True)
                probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
                choice = np.array([rng.choice(len(p), p=p) for p in probs])
            return [int(c) + int(space.start) for c in choice]
        if rng is not None and self.log_std is not None:
            out = out + np.exp(self.log_std) * rng.standard_normal(out.shape)
        low, high = space.low.astype(np.float64), space.high.astype(np.float64)
        if self.action_scaling == "normalized":
            scaled = low + (np.clip(out, -1.0, 1.0) + 1.0) * 0.5 * (high - low)
        else:
            scaled = np.clip(out, low, high)
        return list(scaled.reshape(len(out), *space.shape).astype(space.dtype))

    def compute_action(self, observation: Any, action_mask: Any = None) -> Any:
        """The action for one observation (among the legal ones, given ``action_mask``)."""
        masks = None if action_mask is None else [action_mask]
        return self.compute_actions([observation], action_masks=masks)[0]

    # -------------------------------------------------------------- persistence
    def arrays(self) -> dict[str, np.ndarray]:
        """The policy's arrays, by name, for ``numpy.savez``."""
        out: dict[str, np.ndarray] = {}
        for n, (weight, bias) in enumerate(self.layers):
            out[f"layer{n}_w"], out[f"layer{n}_b"] = weight, bias
        out["head_w"], out["head_b"] = self.head
        for name in ("log_std", "obs_mean", "obs_var"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def manifest(self) -> dict[str, Any]:
        """The JSON part of the saved policy."""
        return {
            "kind": "mlp",
            "observation_space": space_to_json(self.observation_space),
            "action_space": space_to_json(self.action_space),
            "num_layers": len(self.layers),
            "activation": self.activation,
            "obs_clip": self.obs_clip,
            "action_scaling": self.action_scaling,
        }

    @classmethod
    def from_saved(cls, manifest: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> MLPPolicy:
        """Rebuild a policy from :meth:`manifest` and :meth:`arrays`."""
        layers = [
            (arrays[f"layer{n}_w"], arrays[f"layer{n}_b"]) for n in range(manifest["num_layers"])
        ]
        return cls(
            space_from_json(manifest["observation_space"]),
            space_from_json(manifest["action_space"]),
            layers,
            (arrays["head_w"], arrays["head_b"]),
            activation=manifest["activation"],
            log_std=arrays.get("log_std"),
            obs_mean=arrays.get("obs_mean"),
            obs_var=arrays.get("obs_var"),
            obs_clip=manifest["obs_clip"],
            action_scaling=manifest["action_scaling"],
        )


# --------------------------------------------------------------- policy collection
class TrainedPolicies:
    """The policies of a mapping, ready to act for agents.

    Args:
        policies: ``{policy_id: Policy}`` (trained :class:`MLPPolicy` or fixed ones).
        agent_to_policy: ``{agent_id: policy_id}`` for every strategic agent.
        env_info: JSON-able description of the environment trained on (name/config).
    """

    def __init__(
        self,
        policies: Mapping[str, Policy],
        agent_to_policy: Mapping[AgentID, str],
        env_info: Mapping[str, Any] | None = None,
    ) -> None:
        unknown = {p for p in agent_to_policy.values() if p not in policies}
        if unknown:
            raise TrainingError(f"agents are mapped to unknown policies {sorted(unknown)}")
        self.policies = dict(policies)
        self.agent_to_policy = dict(agent_to_policy)
        self.env_info = dict(env_info or {})

    def __getitem__(self, policy_id: str) -> Policy:
        return self.policies[policy_id]

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self.policies

    def __iter__(self):
        return iter(self.policies)

    def compute_actions(
        self,
        observations: Mapping[Any, Any],
        rng: np.random.Generator | None = None,
        agent_of: Any = None,
        action_masks: Mapping[Any, Any] | None = None,
    ) -> dict[Any, Any]:
        """One action per entry of ``observations``, batched per policy.

        Args:
            observations: ``{agent_id: observation}``, or any keys when ``agent_of`` maps
                each key to its agent id (e.g. ``(episode, agent_id)`` keys, so that
                several episodes are served by one call per policy).
            rng: Sample actions from this generator instead of acting deterministically
                (passed to every policy; see :mod:`phantomzoo.policy` for the contract).
            agent_of: Optional ``key -> agent_id`` function.
            action_masks: Optional ``{key: mask}`` of the masked entries (the env's
                ``infos[agent]["action_mask"]``), passed to policies that accept
                ``action_masks`` (see the module docs).

        Raises:
            TrainingError: an agent no policy covers.
            ActionError: a policy returned other than one action per observation.
        """
        groups: dict[str, list[Any]] = {}
        for key in observations:
            agent_id = key if agent_of is None else agent_of(key)
            try:
                groups.setdefault(self.agent_to_policy[agent_id], []).append(key)
            except KeyError:
                raise TrainingError(
                    f"no policy for agent {agent_id!r}; the policies cover "
                    f"{list(self.agent_to_policy)}"
                ) from None
        actions: dict[Any, Any] = {}
        for policy_id, keys in groups.items():
            batch = [observations[k] for k in keys]
            masks = None
            if action_masks and any(k in action_masks for k in keys):
                masks = [action_masks.get(k) for k in keys]
            result = policy_actions(self.policies[policy_id], policy_id, batch, rng, masks)
            actions.update(zip(keys, result))
        if len(groups) == 1:  # one policy: the actions are already in the keys' order
            return actions
        return {k: actions[k] for k in observations}

    # -------------------------------------------------------------- persistence
    def describe(self) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
        """The manifest and ``{file name: arrays}`` that :meth:`save` writes.

        Raises:
            TrainingError: for anything that cannot be saved (non-string policy ids,
                agent ids other than str/int, a fixed policy's config that is not JSON,
                a fixed policy class defined inside a function, unsupported spaces).
        """
        entries: dict[str, Any] = {}
        files: dict[str, dict[str, np.ndarray]] = {}
        for n, (policy_id, policy) in enumerate(self.policies.items()):
            if not isinstance(policy_id, str):
                raise TrainingError(
                    f"policy id {policy_id!r} cannot be saved: policy ids must be strings"
                )
            if isinstance(policy, MLPPolicy):
                filename = f"policy_{n}.npz"
                files[filename] = policy.arrays()
                entries[policy_id] = {**policy.manifest(), "file": filename}
            else:
                entries[policy_id] = fixed_entry(policy_id, policy)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "env": self.env_info,
            "agent_to_policy": [[_id_json(a), p] for a, p in self.agent_to_policy.items()],
            "policies": entries,
        }
        return manifest, files

    def save(self, directory: str | Path) -> Path:
        """Write ``manifest.json`` and one ``.npz`` per trained policy into ``directory``.

        Each file is written atomically and the manifest last, so a kill during ``save``
        leaves the previous complete set readable.
        """
        from .files import atomic_write_json, atomic_write_npz

        manifest, files = self.describe()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for filename, arrays in files.items():
            atomic_write_npz(directory / filename, arrays)
        atomic_write_json(directory / "manifest.json", manifest)
        return directory

    @classmethod
    def load(
        cls, directory: str | Path, trust: bool = False, allow: Sequence[str] | None = None
    ) -> TrainedPolicies:
        """Load policies saved by :meth:`save`, treating the directory as untrusted.

        Nothing is unpickled, every entry is checked (:mod:`phantomzoo.training.manifest`), and a
        fixed policy's class is imported only if its module is phantomzoo's, is already
        imported, or is covered by ``allow`` with ``trust=True`` (:mod:`phantomzoo.training.trust`).
        """
        from .manifest import load_trained
        from .trust import TrustPolicy

        return load_trained(directory, TrustPolicy(trust, allow))

    def check_fits(self, env: Any, where: str = "the policies") -> None:
        """Raise :class:`TrainingError` unless these policies fit ``env``'s agents and spaces."""
        for agent_id in env.possible_agents:
            if agent_id not in self.agent_to_policy:
                raise TrainingError(
                    f"{where} do not cover agent {agent_id!r} of this environment; they were "
                    "trained on a different model or configuration"
                )
            policy = self.policies[self.agent_to_policy[agent_id]]
            obs_space, action_space = env.observation_space(agent_id), env.action_space(agent_id)
            if policy.observation_space != obs_space or policy.action_space != action_space:
                raise TrainingError(
                    f"{where} were trained with other spaces for agent {agent_id!r} "
                    f"({policy.observation_space} / {policy.action_space}) than this "
                    f"environment has ({obs_space} / {action_space}); they come from an "
                    "incompatible environment or configuration"
                )


def _id_json(agent_id: AgentID) -> Any:
    if isinstance(agent_id, (str, int)) and not isinstance(agent_id, bool):
        return agent_id
    raise TrainingError(
        f"agent id {agent_id!r} cannot be saved with the results: use str or int agent ids"
    )


def fixed_entry(policy_id: str, policy: Policy) -> dict[str, Any]:
    """The manifest entry of a fixed (hand-written) policy: its class path and config."""
    cls = type(policy)
    if "<locals>" in cls.__qualname__ or cls.__module__ == "builtins":
        raise TrainingError(
            f"fixed policy {policy_id!r}: class {cls.__qualname__} is defined inside a "
            "function, so a results directory cannot name it; define it at module level"
        )
    config = getattr(policy, "config", {}) or {}
    try:
        text = json.dumps(config, allow_nan=False)
    except (TypeError, ValueError):
        raise TrainingError(
            f"fixed policy {policy_id!r}: its config {config!r} is not plain JSON (numbers, "
            "strings, lists, dicts with string keys), so it cannot be saved; pass plain values"
        ) from None
    if not isinstance(config, dict) or json.loads(text) != config:
        raise TrainingError(
            f"fixed policy {policy_id!r}: its config {config!r} would not load back as the "
            "same keyword arguments (use a dict with string keys and JSON values)"
        )
    return {
        "kind": "fixed",
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "config": config,
        "observation_space": space_to_json(policy.observation_space),
        "action_space": space_to_json(policy.action_space),
    }


def load_policies(
    directory: str | Path, trust: bool = False, allow: Sequence[str] | None = None
) -> TrainedPolicies:
    """Load trained policies saved by any backend (see :meth:`TrainedPolicies.load`)."""
    return TrainedPolicies.load(directory, trust=trust, allow=allow)
