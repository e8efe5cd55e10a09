"""Confidence intervals of a mean difference over paired samples, seeded.

Exploitability compares two sets of policies on the *same* evaluation episodes, so
each episode gives one paired difference; the paired bootstrap resamples episodes
(keeping each pair together), which removes the episode-to-episode noise both sides
share. Every draw comes from a generator built from the seed the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

#: Bootstrap resamples (enough for the 2.5 % / 97.5 % quantiles to settle to ~1 %).
DEFAULT_RESAMPLES = 4000


@dataclass(frozen=True)
class Interval:
    """A confidence interval of a mean.

    Attributes:
        low / high: The bounds.
        confidence: Its nominal coverage (0.95: a 95 % interval).
        method: How it was computed, in words (resamples and seed included).
    """

    low: float
    high: float
    confidence: float
    method: str


def check_confidence(confidence: object) -> float:
    """``confidence`` as a float strictly between 0 and 1, else a ConfigError."""
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, (int, float))
        or not 0 < confidence < 1
    ):
        raise ConfigError(
            f"confidence must be a number strictly between 0 and 1 (0.95 for a 95 % "
            f"interval), got {confidence!r}"
        )
    return float(confidence)


def paired_bootstrap(
    after: np.ndarray,
    before: np.ndarray,
    confidence: float = 0.95,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> Interval:
    """Percentile bootstrap interval of ``mean(after - before)``, resampling pairs.

    Args:
        after / before: One value per evaluation episode, in the same episode order.
        confidence: Nominal coverage, in (0, 1).
        seed: Seeds the resampling (same seed, same interval).
        resamples: Bootstrap resamples.

    Raises:
        ConfigError: arrays of different or zero length, a bad confidence.
    """
    confidence = check_confidence(confidence)
    after, before = np.asarray(after, np.float64), np.asarray(before, np.float64)
    if after.shape != before.shape or after.ndim != 1 or len(after) == 0:
        raise ConfigError(
            f"a paired interval needs two 1-D arrays of one value per episode, of equal "
            f"non-zero length; got shapes {after.shape} and {before.shape}"
        )
    differences = after - before
    rng = np.random.default_rng([seed, 0xB007])
    picks = rng.integers(0, len(differences), size=(resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    method = (
        f"paired percentile bootstrap over {len(differences)} evaluation episodes "
        f"({resamples} resamples, seed {seed})"
    )
    return Interval(float(low), float(high), confidence, method)
