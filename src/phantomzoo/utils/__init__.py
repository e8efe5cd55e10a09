"""Phantom-compatible call styles: ``ph.utils.rllib.train`` / ``rollout`` /
``evaluate_policy``, the ``ph.utils.rollout`` module (``Rollout``, ``Step``,
``AgentStep``, ``rollouts_to_dataframe``, ``rollouts_to_jsonl``), and Phantom's paths to
the samplers and ranges (``ph.utils.samplers``, ``ph.utils.ranges``: the same modules as
``ph.samplers`` and ``ph.ranges``)."""

import sys

from .. import ranges, samplers
from . import rllib, rollout

# ``from phantomzoo.utils.samplers import UniformFloatSampler`` (Phantom's module path)
# finds the same modules as ``phantomzoo.samplers`` / ``phantomzoo.ranges``.
sys.modules[f"{__name__}.samplers"] = samplers
sys.modules[f"{__name__}.ranges"] = ranges

__all__ = ["ranges", "rllib", "rollout", "samplers"]
