"""Version 0 of the digital-ads market (see :mod:`phantomzoo.envs.digital_ads`)."""

from .digital_ads import DigitalAdsEnv, env, parallel_env

raw_env = DigitalAdsEnv

__all__ = ["DigitalAdsEnv", "env", "parallel_env", "raw_env"]
