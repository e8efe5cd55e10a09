"""Phantom-compatible call styles: ``ph.utils.rllib.train`` / ``rollout`` /
``evaluate_policy`` and the ``ph.utils.rollout`` module (``Rollout``, ``Step``,
``AgentStep``, ``rollouts_to_dataframe``, ``rollouts_to_jsonl``)."""

from . import rllib, rollout

__all__ = ["rllib", "rollout"]
