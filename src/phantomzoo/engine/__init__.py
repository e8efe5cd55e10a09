"""The engine: one episode of a model, independent of PettingZoo.

``core`` steps the model (clock, seeded RNG, supertype sampling, resolution, observations),
``checks`` holds the runtime checks of observations, rewards and actions, and ``spaces``
says in words why a value does not fit a space. The PettingZoo environments
(:mod:`phantomzoo.env`, :mod:`phantomzoo.fsm`) are adapters over it.

Extension points (for model authors): an env subclass's ``view()`` publishes the env
view (the adapter hands it to the engine); ``Network.reset`` re-draws edges each
episode; custom resolvers subclass :class:`~phantomzoo.resolvers.Resolver`; agents may
implement ``handle_batch`` to take a whole batch of messages at once.
"""
