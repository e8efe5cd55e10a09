"""Telemetry: a message and step log of one env instance, written as JSON Lines.

Every env owns its log; there is no process-global logger to configure (Phantom's
``TelemetryLogger`` is global and, by its own docs, fails under multiprocessing)::

    env = ph.make("supply_chain_v0", num_shops=2)
    env.telemetry = ph.Telemetry("run.jsonl", infos=True, metrics={
        "SHOP1/stock": ph.metrics.SimpleAgentMetric("SHOP1", "stock"),
    })
    env.reset(seed=0)
    ...                                   # play the episode
    env.telemetry.close()
    frame = pandas.read_json("run.jsonl", lines=True)

Telemetry is off by default (``env.telemetry is None``): the step pays one attribute
check for it. ``env.enable_telemetry(path, **options)`` is the same as assigning
``ph.Telemetry(path, **options)``; ``env.telemetry = None`` detaches it.

**Native layout** (``layout="records"``, the default): one JSON object per line, of these
kinds (the ``kind`` column), each with the ``episode`` (0, 1, ... per Telemetry) and the
``step`` (the env's ``current_step``):

* ``"message"``: every message delivered: ``sender``, ``receiver``, ``payload_type``
  (the payload's class name), ``payload`` (``{field: value}``), and in staged envs the
  ``stage`` resolving it. Both the built-in resolver and custom resolvers that deliver
  with ``Resolver.deliver`` are logged (through ``network.message_log``);
* ``"stage"`` (staged envs): one FSM stage played, ``stage`` -> ``next_stage``;
* ``"reset"``: the ``seed``, and ``observations`` / ``infos`` of the agents acting first;
* ``"step"``: ``actions``, ``observations``, ``rewards``, ``terminations``,
  ``truncations``, ``infos`` (``{agent: value}`` each) and ``metrics`` (``{name:
  value}``, from :mod:`phantomzoo.metrics` objects read after the step; in staged envs
  metrics limited by ``fsm_stages`` are read only in those stages), plus the ``stage``
  the actions were taken in (staged envs);
* ``"end"``: the episode is over (every agent ended); the file is flushed.

Messages of a step come before its ``step`` record. Values are made JSON-safe by
:func:`~phantomzoo.telemetry_records.jsonable`. **Phantom's layout**
(``layout="episodes"``): one JSON object per episode, ``{"start", "steps"}``, written
when the episode ends (see :class:`~phantomzoo.telemetry_records.PhantomEpisode`); it is
what ``ph.telemetry.logger.configure_file_logging`` writes
(:mod:`phantomzoo.telemetry_defaults`).

**Workers**: :func:`for_episode` gives one episode its own file in a directory, so no
file is ever shared between processes. A Telemetry owns an open file and cannot be
pickled; a copy or pickle of an env carries no telemetry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import ConfigError
from .metrics import Metric
from .telemetry_options import (
    LAYOUTS,
    check_agents,
    check_choice,
    check_flag,
    check_indent,
    check_metrics,
    check_tags,
    make_directory,
    open_sink,
    printer,
)
from .telemetry_records import (
    FIELDS,
    PhantomEpisode,
    dumps,
    format_record,
    jsonable,
    message_record,
    select,
)

__all__ = ["Telemetry", "TransientLog", "for_episode", "read_records", "set_telemetry"]


class TransientLog(list):
    """The message log a Telemetry installs on a network: dropped when the network is
    copied or pickled (``network.message_log`` of the copy is ``None``)."""

    _pz_transient = True


class Telemetry:
    """The log of one env instance (see the module docs).

    Args:
        sink: Where records go: a file path (opened now, so a path that cannot be
            written fails before any episode), a text stream with ``write`` (not closed
            by :meth:`close`), or ``None`` to only print (needs ``print``).
        messages: Log delivered messages: ``True``, ``False``, or a collection of agent
            ids (messages they send or receive).
        observations / actions / rewards / terminations / truncations / infos: Log that
            part of each step: ``True``, ``False`` or a collection of agent ids.
            ``infos`` is off by default (often large and repetitive).
        metrics: ``{name: ph.metrics.Metric}`` read after every step.
        print: ``True`` prints a line per record to stdout, or a text stream to print to.
        layout: ``"records"`` (default, native: a record per event) or ``"episodes"``
            (Phantom's: an object per episode).
        append: Append to an existing file instead of overwriting it.
        tags: ``{column: value}`` added to every record (e.g. the configuration index).
        indent: Indent each JSON object (readable, but no longer one object per line).

    Raises:
        ConfigError: any argument of the wrong kind, or a path that cannot be written.
    """

    def __init__(
        self,
        sink: str | os.PathLike[str] | IO[str] | None = None,
        *,
        messages: bool | Iterable[Any] = True,
        observations: bool | Iterable[Any] = True,
        actions: bool | Iterable[Any] = True,
        rewards: bool | Iterable[Any] = True,
        terminations: bool | Iterable[Any] = True,
        truncations: bool | Iterable[Any] = True,
        infos: bool | Iterable[Any] = False,
        metrics: Mapping[str, Metric] | None = None,
        print: bool | IO[str] = False,  # shadows the builtin here only: the option's name
        layout: str = "records",
        append: bool = False,
        tags: Mapping[str, Any] | None = None,
        indent: int | None = None,
    ) -> None:
        chosen = {
            "observations": observations,
            "actions": actions,
            "rewards": rewards,
            "terminations": terminations,
            "truncations": truncations,
            "infos": infos,
        }
        #: ``{field: None (every agent) or frozenset of agent ids}`` of the fields logged.
        selected = {k: check_agents(k, v) for k, v in chosen.items()}
        self.fields = {k: v for k, v in selected.items() if v is not False}
        self.messages = check_agents("messages", messages)
        self.metrics = check_metrics(metrics)
        self.layout = check_choice("layout", layout, LAYOUTS)
        self.tags = check_tags(tags)
        self.indent = check_indent(indent)
        self._printer = printer(print)
        if sink is None and self._printer is None:
            raise ConfigError(
                "Telemetry has nowhere to write: pass a file path or a text stream as "
                "the first argument, or print=True to print the records"
            )
        self.path: Path | None = None
        self._stream, self._owned = open_sink(sink, check_flag("append", append))
        if self._owned:
            self.path = Path(sink)  # type: ignore[arg-type]
        self.episode = -1
        self.closed = False
        self._engine: Any = None
        self._log = TransientLog()
        self._seen: list[Any] | None = None
        self._cursor = 0
        self._stages: list[Any] = []
        self._seed: int | None = None
        self._phantom: PhantomEpisode | None = None

    def __repr__(self) -> str:
        where = self.path or ("print" if self._stream is None else type(self._stream).__name__)
        return f"Telemetry({str(where)!r}, layout={self.layout!r}, episode={self.episode})"

    def __reduce__(self) -> Any:
        raise ConfigError(
            "a Telemetry owns an open file and cannot be copied or pickled; build one per "
            "env in the process that plays it (ph.telemetry.for_episode(directory, "
            "config_index, repeat) in rollout workers)"
        )

    def __enter__(self) -> Telemetry:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Detach from the env, write what is pending and close the file (if opened here).
        Closing twice is harmless."""
        if self.closed:
            return
        engine = self._engine
        if engine is not None:
            set_telemetry(engine, None)
        self._finish_episode()
        self.closed = True
        if self._stream is not None:
            if self._owned:
                self._stream.close()
            elif hasattr(self._stream, "flush"):
                self._stream.flush()

    def check_attachable(self, engine: Any) -> None:
        """Raise ConfigError if this Telemetry cannot become the log of ``engine``: it is
        closed, already another env's log, or names agents the env does not have."""
        if self.closed:
            raise ConfigError(f"{self!r} is closed; make a new ph.Telemetry for this env")
        if self._engine is not None and self._engine is not engine:
            raise ConfigError(
                "this Telemetry is already another env's log; each env owns its own log: "
                "make one ph.Telemetry per env (each with its own file)"
            )
        known = set(engine.network.agent_ids)
        for name, agents in [("messages", self.messages), *self.fields.items()]:
            unknown = [] if agents in (None, False) else sorted(map(repr, agents - known))
            if unknown:
                raise ConfigError(
                    f"Telemetry {name}= names agents {', '.join(unknown)} that are not in "
                    f"this env; its agents are {sorted(known, key=repr)}"
                )

    def attach(self, engine: Any) -> None:
        """Become the log of ``engine`` (called by ``env.telemetry = ...``, after
        :meth:`check_attachable`)."""
        self._engine = engine
        if engine.ever_reset and not engine.episode_over:  # attached mid-episode
            self._start(engine)

    def detach(self) -> None:
        """Stop logging (called by ``env.telemetry = None``); the file stays open."""
        engine, self._engine = self._engine, None
        if engine is not None and engine.network.message_log is self._log:
            engine.network.message_log = None
        self._finish_episode()

    # ------------------------------------------------------------ engine hooks
    def begin_episode(self, engine: Any, seed: int | None) -> None:
        """Called by the engine at the start of ``reset``, before any stage plays."""
        self._finish_episode()
        self._seed = seed
        self._start(engine)

    def after_reset(self, engine: Any, observations: Mapping[Any, Any], infos: Any) -> None:
        """Called by the engine at the end of ``reset``."""
        self._flush_messages(engine, self._stages[0] if self._stages else None)
        record = self._record("reset", engine)
        record["seed"] = self._seed
        if engine.staged:
            record["stage"] = engine.current_stage
        fields = self.fields
        if "observations" in fields:
            record["observations"] = select(observations, fields["observations"])
        if "infos" in fields:
            record["infos"] = select(infos, fields["infos"])
        self._stages = []
        self._emit(record)

    def after_stage(self, engine: Any, stage: Any) -> None:
        """Called by the engine after each FSM stage (staged envs)."""
        self._flush_messages(engine, stage)
        self._stages.append(stage)
        record = self._record("stage", engine)
        record["stage"], record["next_stage"] = jsonable(stage), jsonable(engine.current_stage)
        self._emit(record)

    def after_step(self, engine: Any, actions: Mapping[Any, Any], outcome: Any) -> None:
        """Called by the engine at the end of ``step``."""
        stage = self._stages[0] if self._stages else None
        self._flush_messages(engine, stage)
        record = self._record("step", engine)
        if engine.staged:
            record["stage"] = jsonable(stage)
        fields = self.fields
        for name, values in zip(FIELDS, (outcome[0], actions, *outcome[1:])):
            if name in fields:
                record[name] = select(values, fields[name])
        if self.metrics:
            env = engine.host
            record["metrics"] = {
                name: jsonable(metric.extract(env))
                for name, metric in self.metrics.items()
                if metric.fsm_stages is None or stage in metric.fsm_stages
            }
        self._stages = []
        self._emit(record)
        if engine.episode_over:
            self._emit(self._record("end", engine))
            self._finish_episode()

    # ------------------------------------------------------------ internals
    def _start(self, engine: Any) -> None:
        self.episode += 1
        self._stages = []
        if self.layout == "episodes":
            self._phantom = PhantomEpisode()
        if self.messages is not False:
            network = engine.network
            if network.message_log is None or network.message_log is self._log:
                self._log.clear()
                network.message_log = self._log
            else:  # someone else's log (a rollout recording messages): read it alongside
                self._seen, self._cursor = network.message_log, len(network.message_log)

    def _finish_episode(self) -> None:
        """Write a Phantom-layout episode (also one cut short) and flush."""
        episode, self._phantom = self._phantom, None
        if episode is not None and episode.data["steps"]:
            self._write(episode.data)
        stream = self._stream
        if stream is not None and hasattr(stream, "flush") and not self.closed:
            stream.flush()

    def _take_messages(self, network: Any) -> list[Any]:
        log = network.message_log
        if log is None:  # someone switched logging off: switch it back on for next time
            network.message_log = self._log
            return []
        if log is self._log:
            taken = list(log)
            log.clear()
            return taken
        if log is not self._seen:  # another list since the last step (rollouts swap them)
            self._seen, self._cursor = log, 0
        taken = log[self._cursor :]
        self._cursor = len(log)
        return taken

    def _flush_messages(self, engine: Any, stage: Any) -> None:
        agents = self.messages
        if agents is False:
            return
        delivered = self._take_messages(engine.network)
        if not delivered:
            return
        base = self._record("message", engine)
        if engine.staged:
            base["stage"] = jsonable(stage)
        for message in delivered:
            if agents is None or message[0] in agents or message[1] in agents:
                self._emit({**base, **message_record(message)})

    def _record(self, kind: str, engine: Any) -> dict[str, Any]:
        record = {"kind": kind, "episode": self.episode, "step": engine.current_step}
        if self.tags:
            record.update(self.tags)
        return record

    def _emit(self, record: dict[str, Any]) -> None:
        if self._printer is not None:
            self._printer().write(format_record(record) + "\n")
        if self._phantom is not None:
            self._phantom.add(record)
        else:
            self._write(record)

    def _write(self, data: Mapping[str, Any]) -> None:
        if self._stream is not None:
            self._stream.write(dumps(data, self.indent) + "\n")


def set_telemetry(engine: Any, telemetry: Telemetry | None) -> None:
    """Make ``telemetry`` the log of ``engine`` (``None``: no log), detaching the old one.

    Raises:
        ConfigError: ``telemetry`` is not a ``ph.Telemetry`` or cannot be attached.
    """
    if telemetry is not None and not isinstance(telemetry, Telemetry):
        raise ConfigError(
            f"env.telemetry must be a ph.Telemetry or None, got {telemetry!r}; e.g. "
            "env.telemetry = ph.Telemetry('log.jsonl')"
        )
    old = engine.telemetry
    if old is telemetry:
        return
    if telemetry is not None:
        telemetry.check_attachable(engine)  # before the old log is let go
    if old is not None:
        old.detach()
    engine.telemetry = telemetry
    if telemetry is not None:
        telemetry.attach(engine)


def for_episode(
    directory: str | os.PathLike[str], config_index: int, repeat: int, **options: Any
) -> Telemetry:
    """A Telemetry of its own for one episode of a rollout, in ``directory``.

    The file is ``directory/episode-<config_index>-<repeat>.jsonl`` (five digits each),
    overwritten if it exists; every record is tagged with ``config_index`` and
    ``repeat``, so all files of a rollout concatenate into one table. Call it in the
    process that plays the episode (each worker writes its own files).

    Args:
        directory: Created (with parents) if missing.
        config_index / repeat: Ints >= 0: the configuration of the grid and the repeat.
        options: Any other :class:`Telemetry` keyword.

    Raises:
        ConfigError: a bad index, a directory that cannot be created, or a bad option.
    """
    for name, value in (("config_index", config_index), ("repeat", repeat)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"for_episode: {name} must be an int >= 0, got {value!r}")
    if "sink" in options:
        raise ConfigError("for_episode chooses the file itself; pass directory, not sink=")
    folder = make_directory(directory)
    tags = {"config_index": int(config_index), "repeat": int(repeat)}
    tags.update(check_tags(options.pop("tags", None)))
    path = folder / f"episode-{int(config_index):05d}-{int(repeat):05d}.jsonl"
    return Telemetry(path, tags=tags, **options)


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record of a telemetry file, or of every ``*.jsonl`` file of a directory
    (in name order), as dicts; ``pandas.DataFrame(read_records(d))`` makes a table.

    Raises:
        ConfigError: the path does not exist.
    """
    import json

    where = Path(path)
    if not where.exists():
        raise ConfigError(f"no telemetry at {str(where)!r}: give a .jsonl file or a directory")
    files = sorted(where.glob("*.jsonl")) if where.is_dir() else [where]
    out = []
    for file in files:
        with file.open(encoding="utf-8") as lines:
            out.extend(json.loads(line) for line in lines if line.strip())
    return out


def __getattr__(name: str) -> Any:
    """Phantom's ``ph.telemetry.logger`` (and its class), from
    :mod:`~phantomzoo.telemetry_defaults` (imported on first use: it imports this module)."""
    if name in ("logger", "TelemetryLogger", "TelemetryHost"):
        from . import telemetry_defaults

        return getattr(telemetry_defaults, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
