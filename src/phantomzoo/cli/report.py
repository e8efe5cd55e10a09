"""How the ``phantomzoo`` command line reports a failure: one line, never a raw stack.

Two kinds of failure, two exit statuses:

* a **user error** (status 2): any :class:`~phantomzoo.errors.PhantomZooError`, and an
  :class:`OSError` about a path the user gave (permission denied, is a directory, not
  a directory, read-only file system, no space left, ...). The line is
  ``phantomzoo: error: <what was wrong and how to fix it>``.
* an **internal error** (status 1): anything else, which is a bug in phantomzoo or a
  library under it. The line names the exception and the file the full traceback was
  written to, so the report can be attached to an issue without rerunning.

With ``--debug`` the full traceback is printed to stderr first, for both kinds.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TextIO

from ..errors import PhantomZooError

PROG = "phantomzoo"

#: Exit statuses.
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1
EXIT_INTERRUPTED = 130

#: OSError numbers that are about the user's path rather than about phantomzoo.
USER_PATH_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "EACCES",
        "EPERM",
        "EISDIR",
        "ENOTDIR",
        "EROFS",
        "ENOSPC",
        "EDQUOT",
        "ENOENT",
        "EEXIST",
        "ENOTEMPTY",
        "ENAMETOOLONG",
        "ELOOP",
        "EFBIG",
        "EBUSY",
        "ETXTBSY",
    )
    if hasattr(errno, name)
)
#: Of those, the ones that can only come from writing.
_WRITE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("EROFS", "ENOSPC", "EDQUOT", "EFBIG", "EEXIST", "ENOTEMPTY")
    if hasattr(errno, name)
)

#: Of those, the ones that are the user's (a full or read-only disk) even without a path.
_FULL_ERRNOS = frozenset(
    getattr(errno, name) for name in ("EROFS", "ENOSPC", "EDQUOT", "EFBIG") if hasattr(errno, name)
)


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def describe_user_error(exc: BaseException) -> str | None:
    """The message of a user error, or None if ``exc`` is not one (see module docs)."""
    if isinstance(exc, PhantomZooError):
        return one_line(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS and not exc.filename:
        reason = exc.strerror or os.strerror(exc.errno or 0)
        return (
            f"cannot write the output: {reason}; free some space or choose another output "
            "location (--out)"
        )
    if isinstance(exc, OSError) and exc.errno in USER_PATH_ERRNOS and exc.filename:
        verb = "write" if exc.errno in _WRITE_ERRNOS else "access"
        reason = exc.strerror or os.strerror(exc.errno or 0)
        target = f" (-> {exc.filename2})" if exc.filename2 else ""
        return (
            f"cannot {verb} {str(exc.filename)!r}{target}: {reason}; choose a path you can "
            "read and write, or fix its permissions"
        )
    return None


def write_traceback(exc: BaseException, directory: str | None = None) -> tuple[Path | None, str]:
    """Write ``exc``'s full traceback to a new file; returns ``(path, "")`` or ``(None, why)``.

    The file is ``<tempdir>/phantomzoo-traceback-<YYYYmmdd-HHMMSS>-<pid>.txt``.
    """
    folder = Path(directory if directory is not None else tempfile.gettempdir())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"{PROG}-traceback-{stamp}-{os.getpid()}.txt"
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    header = f"{PROG} {' '.join(sys.argv[1:])}\n\n" if sys.argv else ""
    try:
        path.write_text(header + text, encoding="utf-8")
    except OSError as write_error:
        return None, one_line(write_error.strerror or write_error)
    return path, ""


def report_failure(exc: BaseException, debug: bool = False, stream: TextIO | None = None) -> int:
    """Print the one-line report of ``exc`` (after the traceback with ``debug``); exit status."""
    stream = stream if stream is not None else sys.stderr
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=stream)
    message = describe_user_error(exc)
    if message is not None:
        print(f"{PROG}: error: {message}", file=stream)
        return EXIT_USER_ERROR
    summary = one_line(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
    if debug:
        where = "full traceback above"
    else:
        path, why = write_traceback(exc)
        where = (
            f"full traceback written to {path}"
            if path is not None
            else f"the full traceback could not be written to {tempfile.gettempdir()}: {why}"
        )
        where += "; rerun with --debug to see it"
    print(f"{PROG}: internal error: {summary} ({where})", file=stream)
    return EXIT_INTERNAL_ERROR


def report_interrupt(exc: object = None, stream: TextIO | None = None) -> int:
    """Print ``phantomzoo: interrupted[: message]`` and return status 130."""
    stream = stream if stream is not None else sys.stderr
    detail = one_line(exc) if exc is not None else ""
    print(f"{PROG}: interrupted" + (f": {detail}" if detail else ""), file=stream)
    return EXIT_INTERRUPTED
