"""Version 0 of the tutorial supply chain (see :mod:`phantomzoo.envs.supply_chain`)."""

from .supply_chain import SupplyChainEnv, env, parallel_env

raw_env = SupplyChainEnv

__all__ = ["SupplyChainEnv", "env", "parallel_env", "raw_env"]
