"""Experiments with trained or hand-written policies: the one episode loop
(``episodes.run_episodes``), rollouts over configuration grids (``rollout``, ``grids``)
and returns over many episodes (``evaluation``)."""
