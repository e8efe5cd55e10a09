"""What :func:`phantomzoo.testing.lint` reports: :class:`Finding` and the finding codes.

Each code names one way a model's message contracts can be wrong. An ``"error"`` is a
contract that fails when the model runs (a message nobody can handle, a reply loop, an
acting agent that can never learn); a ``"warning"`` is wiring that is probably not what
the modeller meant (dead handlers, isolated agents, unreachable stages, views nobody can
read). Pass codes to ``lint(..., ignore=[...])`` (or ``phantomzoo lint --ignore``) to
silence the ones a model means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

ERROR = "error"
WARNING = "warning"

#: ``{code: (severity, what it means)}``; :attr:`Finding.message` says how to fix it.
CODES: dict[str, tuple[str, str]] = {
    "unhandled-payload": (
        ERROR,
        "a payload class reaches (or, by its declared receiver_type, may reach) agents "
        "whose class has no handler for it",
    ),
    "message-bounce": (
        ERROR,
        "messages were still bouncing between agents when the resolver's round limit hit",
    ),
    "unrewarded-actor": (
        ERROR,
        "a stage's acting agents are rewarded by no stage reachable from the initial stage",
    ),
    "episode-error": (ERROR, "a random-action episode raised an exception"),
    "unsendable-handler": (
        WARNING,
        "an agent class handles a payload that no agent connected to it may send it",
    ),
    "isolated-strategic-agent": (
        WARNING,
        "a strategic agent has no edges (in any episode) while other agents are connected",
    ),
    "unreached-agent": (
        WARNING,
        "an agent with message handlers received no message in the lint episodes",
    ),
    "unreachable-stage": (WARNING, "an FSM stage cannot be reached from the initial stage"),
    "unreadable-view": (
        WARNING,
        "an agent publishes a view but has no neighbour (in any episode) to read it",
    ),
}

#: Ids listed by ``str(finding)`` before it summarises the rest.
SHOWN = 20


@dataclass(frozen=True)
class Finding:
    """One problem :func:`~phantomzoo.testing.lint` found in a model.

    Attributes:
        code: Which problem (a key of :data:`CODES`).
        severity: ``"error"`` or ``"warning"``.
        message: What is wrong and how to fix it.
        agents: Ids of the agents involved.
        classes: Names of the agent classes involved.
        payloads: Names of the payload classes involved.
        stages: Ids of the FSM stages involved.
    """

    code: str
    severity: str
    message: str
    agents: tuple[Any, ...] = ()
    classes: tuple[str, ...] = ()
    payloads: tuple[str, ...] = ()
    stages: tuple[Any, ...] = ()

    def __str__(self) -> str:
        parts = [f"{self.severity} [{self.code}] {self.message}"]
        for label, values in (
            ("agents", self.agents),
            ("classes", self.classes),
            ("payloads", self.payloads),
            ("stages", self.stages),
        ):
            if values:
                parts.append(f"  {label}: {_listing(values)}")
        return "\n".join(parts)

    @property
    def is_error(self) -> bool:
        """Whether the finding is an error (``phantomzoo lint`` then exits 1)."""
        return self.severity == ERROR


def finding(
    code: str,
    message: str,
    *,
    agents: Iterable[Any] = (),
    classes: Iterable[str] = (),
    payloads: Iterable[str] = (),
    stages: Iterable[Any] = (),
    severity: str | None = None,
) -> Finding:
    """A :class:`Finding` of ``code`` (its usual severity unless ``severity`` is given),
    with each listing de-duplicated in first-seen order."""
    return Finding(
        code,
        CODES[code][0] if severity is None else severity,
        message,
        _unique(agents),
        _unique(classes),
        _unique(payloads),
        _unique(stages),
    )


def check_ignore(ignore: Any) -> frozenset[str]:
    """``ignore`` as a set of known codes.

    Raises:
        ConfigError: ``ignore`` is a bare string or not an iterable of known codes.
    """
    if isinstance(ignore, str) or not isinstance(ignore, Iterable):
        raise ConfigError(
            f"lint: ignore must be a list of finding codes, got {ignore!r}; write "
            f"ignore=[{ignore!r}] for one code (codes: {', '.join(CODES)})"
        )
    codes = list(ignore)
    unknown = [c for c in codes if c not in CODES]
    if unknown:
        raise ConfigError(
            f"lint: unknown finding code(s) {unknown} in ignore; the codes are {', '.join(CODES)}"
        )
    return frozenset(codes)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings; within each, in the order of :data:`CODES`."""
    order = {code: n for n, code in enumerate(CODES)}
    return sorted(findings, key=lambda f: (f.severity != ERROR, order.get(f.code, len(order))))


def summary(findings: Sequence[Finding]) -> str:
    """``"2 errors, 1 warning"`` (or ``"clean"``)."""
    errors = sum(f.is_error for f in findings)
    warnings = len(findings) - errors
    if not findings:
        return "clean"
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _listing(values: Sequence[Any]) -> str:
    shown = ", ".join(str(v) for v in values[:SHOWN])
    more = len(values) - SHOWN
    return shown if more <= 0 else f"{shown} (and {more} more)"


def _unique(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(dict.fromkeys(values))
