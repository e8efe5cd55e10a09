"""Experiments with trained or hand-written policies: rollouts over configuration
grids (``rollout``) and returns over many episodes (``evaluation``)."""
