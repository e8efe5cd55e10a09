"""Torch and RNG state as checkpoint data: NumPy arrays and plain values, never pickles.

Backends checkpoint through :class:`phantomzoo.training.checkpoint.CheckpointStore`, which stores
trees of dicts, lists, tuples, numbers, strings, bytes and NumPy arrays. This module turns
what trainers hold (module and optimiser ``state_dict`` trees with torch tensors, the
torch, NumPy-legacy and ``random`` generators they draw from) into such trees and back.

A tensor becomes the tagged pair ``("$tensor", array)`` so that :func:`to_tensors` knows
to turn it back into a tensor (plain NumPy arrays in the same tree stay arrays).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from phantomzoo.errors import CheckpointError

_TENSOR = "$tensor"


def to_numpy(tree: Any) -> Any:
    """``tree`` with every torch tensor replaced by a tagged NumPy copy (see module docs)."""
    if isinstance(tree, torch.Tensor):
        return (_TENSOR, tree.detach().cpu().numpy().copy())
    if isinstance(tree, Mapping):
        return {key: to_numpy(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        items = [to_numpy(value) for value in tree]
        return items if isinstance(tree, list) else tuple(items)
    return tree


def to_tensors(tree: Any) -> Any:
    """The inverse of :func:`to_numpy`: tagged arrays become tensors again."""
    if isinstance(tree, tuple) and len(tree) == 2 and tree[0] == _TENSOR:
        array = tree[1]
        if not isinstance(array, np.ndarray):
            raise CheckpointError(
                f"a checkpointed tensor holds {type(array).__name__}, not an array"
            )
        return torch.from_numpy(np.array(array, copy=True))
    if isinstance(tree, Mapping):
        return {key: to_tensors(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        items = [to_tensors(value) for value in tree]
        return items if isinstance(tree, list) else tuple(items)
    return tree


def load_module_state(module: torch.nn.Module, state: Any, what: str) -> None:
    """Load a :func:`to_numpy` state dict into ``module``; a mismatch is a CheckpointError."""
    try:
        module.load_state_dict(to_tensors(state))
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot restore {what} from the checkpoint: {exc}") from None


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: Any, what: str) -> None:
    """Load a :func:`to_numpy` optimiser state dict (integer parameter keys restored)."""
    try:
        tensors = to_tensors(state)
        tensors["state"] = {int(k): v for k, v in tensors["state"].items()}
        optimizer.load_state_dict(tensors)
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"cannot restore {what} from the checkpoint: {exc}") from None


def global_rng_state() -> dict[str, Any]:
    """The torch, NumPy-legacy and ``random`` global generators trainers draw from.

    Stable-Baselines3 and RLlib sample actions and minibatches from these (seeded by
    the backend from the user's seed), so a checkpoint records where they stand.
    """
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state().numpy().copy(),
        "numpy": np.random.get_state(legacy=False),
        "random": {"version": version, "internal": np.asarray(internal, np.uint64), "gauss": gauss},
    }


def set_global_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what :func:`global_rng_state` recorded."""
    try:
        torch.set_rng_state(torch.from_numpy(np.asarray(state["torch"], dtype=np.uint8)))
        np.random.set_state(dict(state["numpy"]))
        saved = state["random"]
        internal = tuple(int(v) for v in np.asarray(saved["internal"]).reshape(-1))
        random.setstate((int(saved["version"]), internal, saved["gauss"]))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"cannot restore the random generators: {exc}") from None


def generator_state(generator: np.random.Generator) -> dict[str, Any]:
    """A NumPy ``Generator``'s bit-generator state (a plain dict)."""
    return dict(generator.bit_generator.state)


def set_generator_state(generator: np.random.Generator, state: Mapping[str, Any]) -> None:
    """Restore :func:`generator_state` into ``generator`` (same bit generator kind)."""
    try:
        generator.bit_generator.state = dict(state)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot restore an env copy's seed generator: {exc}") from None


@contextlib.contextmanager
def torch_settings(threads: int = 1, deterministic: bool | None = None) -> Iterator[None]:
    """Run a block on ``threads`` torch threads (and deterministic algorithms if asked),
    then put torch's process-wide settings back as they were, even after an error.

    Small MLPs train fastest on one thread (more only fight over shared cores), and a
    backend must not leave the user's process changed.
    """
    saved = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    if deterministic is not None:
        torch.use_deterministic_algorithms(deterministic)
    try:
        yield
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1])
