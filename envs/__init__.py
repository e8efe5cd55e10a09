"""Bundled models, installed as ``phantomzoo.envs``.

Each registered model is reachable by a short versioned name (``ph.make("supply_chain_v0")``)
and, PettingZoo-style, as a module ``phantomzoo.envs.<name>`` with ``env(**kwargs)``
(an ``AECEnv``), ``parallel_env(**kwargs)`` (a ``ParallelEnv``; for a staged model its
parallel view, :class:`~phantomzoo.StagedParallelEnv`) and ``raw_env`` (the env class)::

    from phantomzoo.envs import supply_chain_v0
    env = supply_chain_v0.parallel_env(num_shops=10, max_cycles=50, render_mode="ansi")

Every constructor and factory accepts ``max_cycles`` (PettingZoo's name for the episode
length) and ``render_mode`` (``None``, ``"ansi"``, ``"human"``); ``metadata["name"]``
is the registered name.
"""
