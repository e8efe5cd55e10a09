"""Version 0 of the paper's supply chain (see :mod:`phantomzoo.envs.supply_chain_paper`)."""

from .supply_chain_paper import PaperSupplyChainEnv, env, parallel_env, raw_env

__all__ = ["PaperSupplyChainEnv", "env", "parallel_env", "raw_env"]
