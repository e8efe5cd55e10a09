"""Can Ray's env runners build the environment? Checked before Ray starts.

Ray env runners are fresh processes: they import the environment by its module path and
see only installed packages and ``PYTHONPATH`` — not the driver's ``sys.path`` edits,
not the directory of the driver's script, and never ``__main__``. When they cannot,
RLlib fails with an opaque ``IndexError`` while asking the runners for their spaces.
:func:`check_runners_can_import` finds that case first (a fresh interpreter tries the
import, as a runner would) and :func:`explain_runner_failure` turns RLlib's error into
one that says which module and how to fix it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

from phantomzoo.errors import ConfigError

#: Seconds a fresh interpreter gets to import the env's module.
_IMPORT_TIMEOUT = 120


def env_module(env_source: Any) -> str | None:
    """The module Ray's runners must import for ``env_source`` (``None``: a registered env,
    which comes from an installed entry point)."""
    if env_source.kind == "registered":
        return None
    factory = getattr(env_source, "_factory", None)
    module = getattr(factory, "__module__", None)
    return module or env_source.name.partition(":")[0]


def _fix(module: str) -> str:
    return (
        f"make {module!r} importable for them: install its package (pip install -e .) or "
        "add its directory to PYTHONPATH before starting Python; or pass the rllib option "
        "num_env_runners=0 to sample in this process"
    )


def check_runners_can_import(env_source: Any, num_env_runners: int, address: Any) -> None:
    """Raise ConfigError if remote env runners on this machine could not import the env.

    Only with ``num_env_runners > 0`` on the private local Ray instance the backend starts:
    a cluster's nodes have their own environments, and a session the caller started may
    ship code to its workers (``runtime_env={"working_dir": ...}``);
    :func:`explain_runner_failure` covers those.
    """
    import ray

    module = env_module(env_source)
    if module is None or num_env_runners <= 0 or address is not None or ray.is_initialized():
        return
    if module == "__main__":
        raise ConfigError(
            f"the environment {env_source.name.partition(':')[2] or env_source.name!r} is "
            "defined in the script you ran (__main__), which Ray's env runners cannot "
            f"import: move it into a module and {_fix('that module')}"
        )
    with tempfile.TemporaryDirectory(prefix="phz-import-") as neutral:  # not the driver's cwd
        done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed -c program
            [
                sys.executable,
                "-c",
                "import importlib, sys; importlib.import_module(sys.argv[1])",
                module,
            ],
            cwd=neutral,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=_IMPORT_TIMEOUT,
            check=False,
        )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise ConfigError(
            f"Ray's env runners would not be able to import the environment's module "
            f"{module!r} ({last}): {_fix(module)}"
        )


def explain_runner_failure(error: BaseException, env_source: Any) -> ConfigError:
    """RLlib's opaque runner failure (an IndexError while building) as a ConfigError."""
    module = env_module(env_source) or env_source.name
    return ConfigError(
        f"RLlib's env runners failed to start ({type(error).__name__}: {error}); most often "
        f"they cannot import the environment's module {module!r}: {_fix(module)}"
    )
