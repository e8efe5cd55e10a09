"""The engine: one episode of a model, independent of PettingZoo.

``core`` steps the model (clock, seeded RNG, supertype sampling, resolution, observations),
``checks`` holds the runtime checks of observations, rewards and actions, and ``spaces``
says in words why a value does not fit a space. The PettingZoo environments
(:mod:`phantomzoo.env`, :mod:`phantomzoo.fsm`) are adapters over it.
"""
