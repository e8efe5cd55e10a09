"""Loading a saved policy directory as untrusted input: check everything, run nothing.

:func:`load_trained` reads ``manifest.json`` and the ``.npz`` weight files beside it and
refuses, with a :class:`~phantomzoo.errors.ManifestError` naming the file and the
problem, anything that is not exactly what :meth:`TrainedPolicies.save` writes:

* the manifest is not JSON, not an object, or misses or mistypes an entry;
* a space, kind, activation or scaling is unknown or malformed;
* a weight file name is not a plain name inside the directory (``../x.npz``, absolute
  paths, sub-directories, symbolic links leading out), is missing, is not an ``.npz``
  archive, or holds pickled objects;
* weights have the wrong dimensions, disagree with the recorded spaces or with each
  other, are not floating point, or hold NaN/inf.

Fixed policies name their class; it is resolved under
:class:`~phantomzoo.training.trust.TrustPolicy`, so nothing is imported unless the user
opted in (see :mod:`phantomzoo.training.trust`).
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from ..errors import ManifestError, PhantomZooError
from .trust import TrustPolicy

FORMAT = "phantomzoo-policies"
FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_LAYERS = 64
ACTIVATIONS = ("tanh", "relu", "identity")
ACTION_SCALINGS = ("normalized", "clip")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}\.npz$")
_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
           "uint16", "uint32", "uint64", "bool"}  # fmt: skip


class Reader:
    """Typed access to one JSON document, with errors that name the file and the key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, problem: str) -> ManifestError:
        return ManifestError(f"{self.where}: {problem}")

    def get(
        self, data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str
    ) -> Any:
        if not isinstance(data, Mapping) or key not in data:
            raise self.fail(f"missing entry {path}{key!r}")
        value = data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            expected = " or ".join(k.__name__ for k in _kinds(kind))
            raise self.fail(f"entry {path}{key!r} must be {expected}, got {value!r:.80}")
        return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def read_json(path: Path, what: str) -> Any:
    """Parse a JSON file of bounded size; every failure is a :class:`ManifestError`."""
    if not path.is_file():
        raise ManifestError(f"{path}: {what} is missing")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path}: {what} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: {what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ManifestError(f"{path}: {what} is nested too deeply to be a manifest") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read {what} ({exc.strerror})") from None


# ------------------------------------------------------------------------ spaces
def read_space(reader: Reader, data: Any, path: str) -> gym.Space[Any]:
    """A Box or Discrete space from its JSON description, every field checked."""
    if not isinstance(data, Mapping):
        raise reader.fail(f"{path} must be a space description, got {data!r:.80}")
    kind = reader.get(data, "type", str, path)
    if kind == "Discrete":
        n = reader.get(data, "n", int, path)
        start = reader.get(data, "start", int, path) if "start" in data else 0
        if n < 1:
            raise reader.fail(f"{path}: Discrete n must be >= 1, got {n}")
        return gym.spaces.Discrete(n, start=start)
    if kind != "Box":
        raise reader.fail(f"{path}: unknown space type {kind!r}; saved spaces are Box or Discrete")
    shape = reader.get(data, "shape", list, path)
    dtype = reader.get(data, "dtype", str, path)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise reader.fail(f"{path}: Box shape must be a list of ints >= 0, got {shape}")
    if dtype not in _DTYPES or math.prod(shape) > 10**7:
        raise reader.fail(f"{path}: unsupported Box dtype {dtype!r} or size {shape}")
    bounds = []
    for key in ("low", "high"):
        raw = reader.get(data, key, (list, int, float), path)
        try:
            array = np.asarray(raw, dtype=np.float64)
        except (TypeError, ValueError):
            raise reader.fail(f"{path}: Box {key} must be numbers, got {raw!r:.80}") from None
        if array.shape not in ((), tuple(shape)) or np.isnan(array).any():
            raise reader.fail(f"{path}: Box {key} does not match shape {shape} (or holds NaN)")
        bounds.append(np.broadcast_to(array, shape))
    if np.any(bounds[0] > bounds[1]):
        raise reader.fail(f"{path}: Box low exceeds high")
    try:
        return gym.spaces.Box(bounds[0].astype(dtype), bounds[1].astype(dtype), dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise reader.fail(f"{path}: invalid Box ({exc})") from None


def flat_size(space: gym.Space[Any]) -> int:
    """Inputs (observation) or outputs (action head) of an MLP over ``space``."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    return int(math.prod(space.shape))


# ------------------------------------------------------------------------ weights
def safe_file(reader: Reader, directory: Path, name: Any, path: str) -> Path:
    """``directory / name`` if ``name`` is a plain ``.npz`` file name inside ``directory``."""
    if not (isinstance(name, str) and _FILE_NAME.match(name)):
        raise reader.fail(
            f"{path}'file' must be a plain .npz file name inside the directory (letters, "
            f"digits, '_', '-', '.'; no paths), got {name!r:.80}"
        )
    target = directory / name
    root = directory.resolve()
    try:
        resolved = target.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise reader.fail(f"weight file {name!r} is missing from {directory}") from None
    if resolved.parent != root or not resolved.is_file():
        raise reader.fail(f"weight file {name!r} leads outside {directory} or is not a file")
    return target


def read_arrays(reader: Reader, file: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, refusing pickles and non-float data."""
    try:
        with np.load(file, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise reader.fail(f"{file.name} is not a readable .npz archive of arrays ({exc})") from None
    for name, array in arrays.items():
        if array.dtype.kind != "f":
            raise reader.fail(
                f"{file.name}: array {name!r} has dtype {array.dtype}, expected floats"
            )
        if not np.isfinite(array).all():
            raise reader.fail(f"{file.name}: array {name!r} holds NaN or inf values")
    return arrays


def check_mlp_arrays(
    reader: Reader,
    file: str,
    arrays: Mapping[str, np.ndarray],
    num_layers: int,
    obs_space: gym.Space[Any],
    action_space: gym.Space[Any],
) -> None:
    """The weights chain from the observation size to the action head size."""
    expected = {f"layer{n}_{p}" for n in range(num_layers) for p in "wb"} | {"head_w", "head_b"}
    optional = {"log_std", "obs_mean", "obs_var"}
    missing, extra = expected - set(arrays), set(arrays) - expected - optional
    if missing or extra:
        raise reader.fail(
            f"{file}: arrays {sorted(missing)} are missing / {sorted(extra)} are unexpected "
            f"for a {num_layers}-layer policy"
        )
    width = flat_size(obs_space)
    for name in [f"layer{n}" for n in range(num_layers)] + ["head"]:
        weight, bias = arrays[f"{name}_w"], arrays[f"{name}_b"]
        if weight.ndim != 2 or weight.shape[0] != width or bias.shape != (weight.shape[1],):
            raise reader.fail(
                f"{file}: {name} weights {weight.shape} / bias {bias.shape} do not fit an "
                f"input of size {width}"
            )
        width = weight.shape[1]
    out = flat_size(action_space)
    if width != out:
        raise reader.fail(f"{file}: the head outputs {width} values; the action space needs {out}")
    obs = flat_size(obs_space)
    for name, size in (("log_std", out), ("obs_mean", obs), ("obs_var", obs)):
        if name in arrays and arrays[name].shape != (size,):
            raise reader.fail(f"{file}: {name} has shape {arrays[name].shape}, expected ({size},)")
    if "obs_var" in arrays and np.any(arrays["obs_var"] < 0):
        raise reader.fail(f"{file}: obs_var holds negative variances")


# ------------------------------------------------------------------------ manifest
def load_trained(directory: str | Path, trust: TrustPolicy | None = None) -> Any:
    """Load a policy directory written by ``TrainedPolicies.save``, checking every entry.

    Raises:
        ManifestError: for anything malformed (see the module docs).
        TrustError: when a fixed policy's class would have to be imported without consent.
    """
    from .trained import TrainedPolicies

    trust = trust or TrustPolicy()
    directory = Path(directory)
    if not directory.is_dir():
        raise ManifestError(f"{directory} is not a directory of trained policies")
    file = directory / "manifest.json"
    if not file.is_file():
        raise ManifestError(
            f"{directory} holds no trained policies (no manifest.json); pass the "
            "directory a training run saved its policies to"
        )
    manifest = read_json(file, "the policy manifest")
    reader = Reader(str(file))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise reader.fail(f"is not a phantomzoo policy manifest (format {FORMAT!r})")
    if manifest.get("version") != FORMAT_VERSION:
        raise reader.fail(
            f"is not a phantomzoo policy manifest of version {FORMAT_VERSION} "
            f"(found version {manifest.get('version')!r})"
        )
    entries = reader.get(manifest, "policies", dict, "")
    if not entries:
        raise reader.fail("lists no policies")
    policies = {}
    for policy_id, entry in entries.items():
        where = f"policies[{policy_id!r}]"
        if not isinstance(entry, dict):
            raise reader.fail(f"{where} must be an object, got {entry!r:.80}")
        kind = reader.get(entry, "kind", str, where)
        obs_space = read_space(reader, entry.get("observation_space"), f"{where}.observation_space")
        action_space = read_space(reader, entry.get("action_space"), f"{where}.action_space")
        if kind == "mlp":
            policies[policy_id] = _mlp(reader, directory, entry, where, obs_space, action_space)
        elif kind == "fixed":
            policy_class = trust.policy_class(reader.get(entry, "class", str, where), str(file))
            config = reader.get(entry, "config", dict, where)
            try:
                policies[policy_id] = policy_class(obs_space, action_space, **config)
            except PhantomZooError:
                raise
            except Exception as exc:
                raise reader.fail(f"{where}: cannot build {policy_class.__name__}: {exc}") from None
        else:
            raise reader.fail(f"{where}: unknown policy kind {kind!r}; expected 'mlp' or 'fixed'")
    mapping = _agent_to_policy(reader, manifest, policies)
    env = manifest.get("env", {})
    if not isinstance(env, dict):
        raise reader.fail(f"entry 'env' must be an object, got {env!r:.80}")
    return TrainedPolicies(policies, mapping, env)


def _mlp(
    reader: Reader,
    directory: Path,
    entry: Mapping[str, Any],
    where: str,
    obs_space: gym.Space[Any],
    action_space: gym.Space[Any],
) -> Any:
    from .trained import MLPPolicy

    if not isinstance(obs_space, gym.spaces.Box):
        raise reader.fail(f"{where}: an MLP policy needs a Box observation space")
    num_layers = reader.get(entry, "num_layers", int, where)
    activation = reader.get(entry, "activation", str, where)
    scaling = reader.get(entry, "action_scaling", str, where)
    obs_clip = reader.get(entry, "obs_clip", (int, float), where)
    if not 0 <= num_layers <= MAX_LAYERS:
        raise reader.fail(f"{where}: num_layers must be in [0, {MAX_LAYERS}], got {num_layers}")
    if activation not in ACTIVATIONS or scaling not in ACTION_SCALINGS:
        raise reader.fail(
            f"{where}: activation must be one of {ACTIVATIONS} and action_scaling one of "
            f"{ACTION_SCALINGS}, got {activation!r} / {scaling!r}"
        )
    if not (math.isfinite(obs_clip) and obs_clip > 0):
        raise reader.fail(f"{where}: obs_clip must be a finite number > 0, got {obs_clip}")
    file = safe_file(reader, directory, entry.get("file"), f"{where}.")
    arrays = read_arrays(reader, file)
    check_mlp_arrays(reader, file.name, arrays, num_layers, obs_space, action_space)
    return MLPPolicy.from_saved(entry, arrays)


def _agent_to_policy(
    reader: Reader, manifest: Mapping[str, Any], policies: Mapping[str, Any]
) -> dict[Any, str]:
    pairs = reader.get(manifest, "agent_to_policy", list, "")
    mapping: dict[Any, str] = {}
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise reader.fail(
                f"agent_to_policy items must be [agent_id, policy_id], got {pair!r:.80}"
            )
        agent_id, policy_id = pair
        if not isinstance(agent_id, (str, int)) or isinstance(agent_id, bool):
            raise reader.fail(f"agent ids must be strings or ints, got {agent_id!r:.80}")
        if policy_id not in policies:
            raise reader.fail(f"agent {agent_id!r} is mapped to unknown policy {policy_id!r:.80}")
        if agent_id in mapping:
            raise reader.fail(f"agent {agent_id!r} is listed twice in agent_to_policy")
        mapping[agent_id] = policy_id
    if not mapping:
        raise reader.fail("agent_to_policy maps no agents")
    return mapping
