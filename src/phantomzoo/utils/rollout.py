"""Phantom's ``ph.utils.rollout`` module: the rollout classes and their exports.

``Rollout``, ``Step`` and ``AgentStep`` are the classes :func:`phantomzoo.rollout` returns
(:mod:`phantomzoo.experiments.trajectories`); :func:`rollouts_to_dataframe` and
:func:`rollouts_to_jsonl` export many of them (:mod:`phantomzoo.experiments.exports`).
``AgentStep`` carries PettingZoo's two flags, ``terminated`` and ``truncated``, and
Phantom's ``done`` as a property (either of them).
"""

from __future__ import annotations

from ..experiments.exports import rollouts_to_dataframe, rollouts_to_jsonl
from ..experiments.trajectories import AgentStep, Rollout, Step, StepIndexError

__all__ = [
    "AgentStep",
    "Rollout",
    "Step",
    "StepIndexError",
    "rollouts_to_dataframe",
    "rollouts_to_jsonl",
]
