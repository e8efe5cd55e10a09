"""Training and its results: ``ph.train``, policy mappings, the trained-policy format.

* ``api``: :func:`train`, the one entry point over pluggable backends;
* ``mapping``: the seed's policy-mapping forms compiled into one description;
* ``trained``: backend-neutral trained policies (NumPy MLPs + a JSON manifest);
* a results directory as untrusted input: ``manifest`` (checked loading), ``trust``
  (what may be imported), ``records`` (config values as data), ``files`` (atomic
  writes), ``results`` (overwrite/resume policy), ``checkpoint`` and ``interrupts``
  (checkpoints, SIGINT/SIGTERM).
"""

from .api import (
    DEFAULT_BACKEND,
    DEFAULT_CHECKPOINT_SECONDS,
    EnvSource,
    TrainingJob,
    TrainingResult,
    resolve_env,
    train,
)

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_CHECKPOINT_SECONDS",
    "EnvSource",
    "TrainingJob",
    "TrainingResult",
    "resolve_env",
    "train",
]
