"""Phantom-compatible call styles (``ph.utils.rllib.train`` / ``rollout`` / ``evaluate_policy``)."""

from . import rllib

__all__ = ["rllib"]
