"""Checkpoints of the rllib backend: ``Algorithm.get_state()`` as plain data.

RLlib's own ``save_to_path`` pickles components, so a checkpoint takes the state tree of
``algo.get_state()`` instead (RLModule weights and optimiser state of the learner group,
the env runner's connector state and counters, the metrics logger with its lifetime
agent-step counts, the training iteration), converts any torch tensor in it to NumPy
(:mod:`._torch_state`) and hands it to :class:`phantomzoo.training.checkpoint.CheckpointStore`. The
driver's global torch/NumPy/``random`` generators are saved beside it.

**What is bit-identical on resume, and what is not.** Weights, optimiser moments,
connector statistics, counters (budgets, TensorBoard steps and the iteration count
continue) and the driver's generators are restored exactly. Not restored: the episodes
in progress in the env runners (each copy starts a fresh episode; its episode seeds are
derived from the seed, its runner index and the iteration resumed at, so a resumed run
does not replay the first run's episodes), the generators of remote env runner processes
(``num_env_runners > 0``), and RLlib's internal sampling state. A resumed run therefore
continues training from the saved state; it is not a byte-identical replay.
"""

from __future__ import annotations

from typing import Any

from phantomzoo.errors import CheckpointError
from phantomzoo.training.checkpoint import Checkpoint

from . import _torch_state as ts

#: Format of the rllib backend's state tree (bumped when it changes incompatibly).
STATE_VERSION = 1
#: ``get_state`` components left out: evaluation runners are not used by this backend.
_SKIPPED = ["eval_env_runner"]


def algo_state(algo: Any) -> dict[str, Any]:
    """The algorithm's state as a checkpoint tree (see the module docs)."""
    return {
        "version": STATE_VERSION,
        "algorithm": ts.to_numpy(algo.get_state(not_components=_SKIPPED)),
        "rng": ts.global_rng_state(),
    }


def restore_algo(algo: Any, checkpoint: Checkpoint, policy_ids: list[str]) -> None:
    """Load :func:`algo_state` from ``checkpoint`` into a freshly built algorithm.

    Raises:
        CheckpointError: when the state is not this backend's or does not fit the run.
    """
    state = checkpoint.state
    where = f"checkpoint {checkpoint.directory}"
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise CheckpointError(
            f"{where} is not an rllib backend checkpoint of version {STATE_VERSION}"
        )
    try:
        tree = ts.to_tensors(state["algorithm"])
        modules = tree["learner_group"]["learner"]["rl_module"]
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{where} lacks the RLlib learner state ({exc})") from None
    if not isinstance(modules, dict) or sorted(map(str, modules)) != sorted(policy_ids):
        found = sorted(map(str, modules)) if isinstance(modules, dict) else modules
        raise CheckpointError(
            f"{where} holds modules {found}, this run learns {sorted(policy_ids)}"
        )
    try:
        algo.set_state(tree)
    except Exception as exc:  # RLlib raises whatever its components raise
        raise CheckpointError(
            f"{where} does not fit this rllib run ({type(exc).__name__}: {exc}); resume with "
            "the original settings or start a new run"
        ) from None
    ts.set_global_rng_state(state["rng"])
