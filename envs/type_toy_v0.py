"""Version 0 of the type toy (see :mod:`phantomzoo.envs.type_toy`)."""

from .type_toy import TypeToyEnv, env, parallel_env, raw_env

__all__ = ["TypeToyEnv", "env", "parallel_env", "raw_env"]
