"""The episode clock: what every agent's context reads about the current step.

One :class:`EpisodeClock` per engine. The engine advances it (a new environment view,
one more epoch) each time the model's state may have changed; contexts read the view,
the step and the episode's generator from it, and cache neighbours' views per epoch.
Contexts hold the clock, not the environment, so the model layer never reaches back
into the engine or the PettingZoo surface.
"""

from __future__ import annotations

import numpy as np

from ..views import EnvView


class EpisodeClock:
    """The current environment view, its epoch and the episode's generator.

    Attributes:
        env_view: The environment's view for the current step.
        epoch: Bumped whenever views may have changed (contexts re-read views then).
        rng: The episode's generator, seeded by ``reset(seed=...)``.
    """

    __slots__ = ("env_view", "epoch", "rng")

    def __init__(self) -> None:
        self.env_view: EnvView = EnvView(0, 0.0)
        self.epoch = 0
        self.rng: np.random.Generator | None = None

    @property
    def current_step(self) -> int:
        """Steps taken so far in the episode."""
        return self.env_view.current_step

    def tick(self, env_view: EnvView) -> None:
        """Publish a new environment view (and start a new view epoch)."""
        self.env_view = env_view
        self.epoch += 1
