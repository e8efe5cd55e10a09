"""``ph.replay(rollout)``: play a recorded episode again and check it comes out the same.

The episode is played from its seed and env config with its recorded actions (through
the one episode loop, :func:`~.episodes.run_episodes`); the result must equal the
recording in every observation, reward, termination, info, message (when recorded),
stage and metric. A seeded phantomzoo model is deterministic given its seed and
actions, so a difference means the model draws randomness outside the env's generator
(global ``numpy.random`` / ``random`` state, an unseeded generator) or keeps state
across episodes: :class:`~phantomzoo.errors.ReplayMismatchError` names the first step
and agent that differ. That makes ``ph.replay`` a determinism check of a model too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ReplayMismatchError
from ..metrics import Metric
from .diff import Difference, first_difference
from .playback import Script, origin_of, play_scripts
from .trajectories import Rollout

__all__ = ["replay"]


def replay(
    rollout: Rollout, *, env: Any = None, metrics: Mapping[str, Metric] | None = None
) -> Rollout:
    """Play ``rollout``'s episode again from its seed and recorded actions.

    Args:
        rollout: A Rollout from ``ph.rollout`` (or from an earlier replay or branch).
        env: The env it was played with, for a rollout that does not carry it (built by
            hand, pickled or loaded from a file); by default the rollout's own.
        metrics: The metrics to record, for such a rollout (by default the rollout's own);
            with neither, metric values are not compared.

    Returns:
        The replayed Rollout, equal (``==``) to ``rollout``.

    Raises:
        ConfigError: not a Rollout, a rollout without seed, or without its env and no
            ``env`` given.
        ReplayMismatchError: the replay differs from the recording; the message names the
            first step, agent and field that differ (also in its ``step``, ``agent_id``
            and ``field`` attributes).
    """
    origin = origin_of(rollout, env, metrics)
    steps = rollout.steps
    script = Script([s.actions for s in steps], origin.changes, until=len(steps), policies=None)
    recording = bool(steps) and all(s.messages is not None for s in steps)
    (replayed,) = play_scripts(origin, rollout, [script], recording)
    compare_metrics = origin.metrics is not None and bool(rollout.metrics)
    difference = first_difference(rollout, replayed, metrics=compare_metrics)
    if difference is not None:
        raise mismatch(difference, rollout)
    if not compare_metrics:
        replayed.metrics = dict(rollout.metrics)  # not recomputable: kept as recorded
    return replayed


def mismatch(difference: Difference, rollout: Rollout, what: str = "replay") -> ReplayMismatchError:
    """The error for a replayed episode that differs from its recording."""
    where = f"episode seed {rollout.seed} (config {rollout.rollout_id}, repeat {rollout.repeat_id})"
    return ReplayMismatchError(
        f"the {what} of {where} differs from the recording at "
        f"{difference.describe('recorded', 'replayed')}; the model is not deterministic "
        "given its seed and actions: draw randomness only from the env's generator "
        "(ctx.rng / env.np_random), never from global numpy/random state or unseeded "
        "generators, and reset every piece of state in reset()",
        step=difference.step,
        agent_id=difference.agent_id,
        field=difference.field,
    )
