"""Bundled models, installed as ``phantomzoo.envs``.

Each model is reachable by a short versioned name (``ph.make("supply_chain_v0")``) and,
PettingZoo-style, as a module with ``parallel_env(**kwargs)`` and ``env(**kwargs)``::

    from phantomzoo.envs import supply_chain_v0
    env = supply_chain_v0.parallel_env(num_shops=10)
"""
