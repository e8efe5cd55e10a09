"""The ``phantomzoo`` command line and the workflows behind it.

``commands`` (the subcommands and :func:`main`), ``parser`` / ``args`` (arguments and
their types), ``preflight`` (paths and values checked before any work), ``report`` (one
line per failure), ``workflow`` (train / rollout / bench, usable from Python), ``plots``
and ``bench`` (the throughput harness).
"""

from .commands import main

__all__ = ["main"]
