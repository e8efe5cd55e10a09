"""Version 0 of the mask toy (see :mod:`phantomzoo.envs.mask_toy`)."""

from .mask_toy import MaskToyEnv, env, parallel_env, raw_env

__all__ = ["MaskToyEnv", "env", "parallel_env", "raw_env"]
