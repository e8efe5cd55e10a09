"""Telemetry defaults for new envs: Phantom's ``ph.telemetry.logger`` calls, and the env side.

Phantom configures one process-global ``TelemetryLogger``::

    ph.telemetry.logger.configure_file_logging(file_path="log.json", metrics={...})
    ph.telemetry.logger.configure_print_logging(enable=True, print_messages=True)

The same calls work here, with one difference on purpose: they set the **default for
envs created afterwards** (in this process). Each such env gets its own
:class:`~phantomzoo.telemetry.Telemetry` (its own episode, its own options), and an env
created before the call, or in another process, is not affected. File logging writes
Phantom's layout, one JSON object per finished episode and line (``{"start", "steps"}``,
every field logged, as Phantom's file logging does), so code that ``json.load`` s one
episode or counts the keys of its steps reads what it expects; envs made after one
``configure_file_logging`` share its file (one handle, whole lines, in one process).
Print logging prints a line per record, selecting fields by the ``print_*`` options
(with file logging on too, the printed records are the file's: every field).
``configure_file_logging(file_path=None)`` and ``configure_print_logging(enable=False)``
switch the defaults off again. The native per-env form, with JSON Lines records, is
``env.telemetry = ph.Telemetry(...)``.

:class:`TelemetryHost` is the part of :class:`~phantomzoo.PhantomEnv` and
:class:`~phantomzoo.FiniteStateMachineEnv` that holds an env's telemetry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any

from .errors import ConfigError
from .metrics import Metric
from .telemetry import Telemetry, set_telemetry
from .types import AgentID

__all__ = ["TelemetryHost", "TelemetryLogger", "logger"]

#: Phantom's ``print_*`` options and the Telemetry field each selects.
PRINT_OPTIONS = {
    "print_actions": "actions",
    "print_observations": "observations",
    "print_rewards": "rewards",
    "print_terminations": "terminations",
    "print_truncations": "truncations",
    "print_infos": "infos",
    "print_messages": "messages",
}


class TelemetryLogger:
    """Phantom's telemetry configuration calls, as defaults for new envs (module docs)."""

    def __init__(self) -> None:
        self._print_enabled = False
        self._print: dict[str, bool | Sequence[AgentID]] = dict.fromkeys(PRINT_OPTIONS, False)
        self._print_metrics: Mapping[str, Metric] | None = None
        self._file: IO[str] | None = None
        self._file_metrics: Mapping[str, Metric] | None = None
        self._human_readable = False
        self._pid = os.getpid()

    @property
    def _current_episode(self) -> None:
        """Always ``None``: episodes belong to each env's own Telemetry (Phantom's
        attribute, kept so code reading it still runs)."""
        return None

    def configure_print_logging(
        self,
        enable: bool | None = None,
        print_actions: bool | Sequence[AgentID] | None = None,
        print_observations: bool | Sequence[AgentID] | None = None,
        print_rewards: bool | Sequence[AgentID] | None = None,
        print_terminations: bool | Sequence[AgentID] | None = None,
        print_truncations: bool | Sequence[AgentID] | None = None,
        print_infos: bool | Sequence[AgentID] | None = None,
        print_messages: bool | Sequence[AgentID] | None = None,
        metrics: Mapping[str, Metric] | None = None,
    ) -> None:
        """Print logging for envs created afterwards. Each ``print_*`` option is
        ``True`` (every agent), ``False`` (none), a list of agent ids, or ``None`` (keep
        the previous choice); ``enable`` switches printing on or off (off by default).

        Raises:
            ConfigError: an option of the wrong kind.
        """
        given = {
            "print_actions": print_actions,
            "print_observations": print_observations,
            "print_rewards": print_rewards,
            "print_terminations": print_terminations,
            "print_truncations": print_truncations,
            "print_infos": print_infos,
            "print_messages": print_messages,
        }
        if enable is not None:
            if not isinstance(enable, bool):
                raise ConfigError(f"configure_print_logging: enable must be a bool, got {enable!r}")
            self._print_enabled = enable
        for name, value in given.items():
            if value is not None:
                Telemetry(None, print=True, **{PRINT_OPTIONS[name]: value})  # checks it
                self._print[name] = value
        if metrics is not None:
            Telemetry(None, print=True, metrics=metrics)
            self._print_metrics = metrics
        self._pid = os.getpid()

    def configure_file_logging(
        self,
        file_path: str | os.PathLike[str] | None,
        append: bool = True,
        human_readable: bool | None = None,
        metrics: Mapping[str, Metric] | None = None,
    ) -> None:
        """File logging (Phantom's layout) for envs created afterwards; ``None`` stops it.

        The file is opened now (appending unless ``append=False``), so a path that
        cannot be written fails here. ``human_readable`` indents each episode (then the
        file is no longer one object per line).

        Raises:
            ConfigError: a path that cannot be written, or a bad option.
        """
        if metrics is not None:
            Telemetry(None, print=True, metrics=metrics)  # checks them
            self._file_metrics = metrics
        if human_readable is not None:
            if not isinstance(human_readable, bool):
                raise ConfigError(
                    f"configure_file_logging: human_readable must be a bool, got {human_readable!r}"
                )
            self._human_readable = human_readable
        previous, self._file = self._file, None
        if previous is not None and not previous.closed:
            previous.close()
        if file_path is not None:
            opened = Telemetry(file_path, append=append)  # checks and opens the path
            self._file = opened._stream
        self._pid = os.getpid()

    def new_env_telemetry(self) -> Telemetry | None:
        """The Telemetry a new env starts with (``None`` when nothing is configured, or
        in a process other than the one that configured it)."""
        if os.getpid() != self._pid:
            return None
        if self._file is not None and not self._file.closed:
            return Telemetry(
                self._file,
                infos=True,
                metrics=self._file_metrics,
                print=self._print_enabled,
                layout="episodes",
                indent=2 if self._human_readable else None,
            )
        if self._print_enabled:
            fields = {PRINT_OPTIONS[k]: v for k, v in self._print.items()}
            return Telemetry(None, print=True, metrics=self._print_metrics, **fields)
        return None


#: Phantom's global logger: here, the telemetry defaults of envs created afterwards.
logger = TelemetryLogger()


class TelemetryHost:
    """The env side of telemetry: ``env.telemetry`` and ``env.enable_telemetry(...)``."""

    engine: Any

    def _init_telemetry(self) -> None:
        """Start with the default of :data:`logger` (called by the env constructors)."""
        default = logger.new_env_telemetry()
        if default is not None:
            set_telemetry(self.engine, default)

    @property
    def telemetry(self) -> Telemetry | None:
        """This env's :class:`~phantomzoo.telemetry.Telemetry` (``None``: off).

        Assign a ``ph.Telemetry`` to log, ``None`` to stop (the old one stays open)."""
        return self.engine.telemetry

    @telemetry.setter
    def telemetry(self, value: Telemetry | None) -> None:
        set_telemetry(self.engine, value)

    def enable_telemetry(self, sink: Any = None, **options: Any) -> Telemetry:
        """Log this env to ``sink`` (see :class:`~phantomzoo.telemetry.Telemetry`, whose
        options these are); returns the new Telemetry. A previous one is closed."""
        telemetry = Telemetry(sink, **options)
        old = self.engine.telemetry
        try:
            set_telemetry(self.engine, telemetry)
        except BaseException:
            telemetry.close()
            raise
        if old is not None:
            old.close()
        return telemetry

    def disable_telemetry(self) -> None:
        """Stop logging and close this env's Telemetry (if any)."""
        old = self.engine.telemetry
        if old is not None:
            old.close()
