"""``python -m phantomzoo``: the same command line as the ``phantomzoo`` script."""

from __future__ import annotations

import sys

from .cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
