"""The exceptions phantomzoo raises for anything a user can get wrong.

Every error derives from :class:`PhantomZooError`, so ``except ph.PhantomZooError``
catches them all. Each subclass also derives from the built-in exception a Python
user would expect (``ValueError``, ``KeyError``, ``RuntimeError``, ``TypeError``), so
generic handlers keep working. Messages say what was received, what was expected and
how to fix it.
"""

from __future__ import annotations


class PhantomZooError(Exception):
    """Base class of every error raised by phantomzoo."""


class NetworkError(PhantomZooError, ValueError):
    """A network was built or used wrongly: duplicate or unknown agent ids, missing edges."""


class MessageError(PhantomZooError, TypeError):
    """A message payload broke its contract: wrong sender/receiver type, no handler."""


class NoHandlerError(MessageError, ValueError):
    """An agent received a payload it has no ``msg_handler`` for (also a ValueError, as
    Phantom raises)."""


class PayloadTypeError(MessageError, NetworkError):
    """A payload restricted by ``ph.msg_payload(sender_type=..., receiver_type=...)`` was
    sent between agents it does not allow (also a NetworkError, which is what Phantom
    raises for it)."""


class ResolverError(PhantomZooError, RuntimeError):
    """Message resolution could not finish (for example it exceeded its round limit)."""


class ActionError(PhantomZooError, ValueError):
    """The actions passed to ``step`` do not match the agents that must act."""


class EpisodeOverError(PhantomZooError, RuntimeError):
    """``step`` was called after the episode ended, without calling ``reset`` first."""


class ObservationError(PhantomZooError, ValueError):
    """An observation does not lie in the agent's observation space."""


class SamplerError(PhantomZooError, ValueError):
    """A sampler or range was given impossible parameters."""


class SupertypeError(PhantomZooError, TypeError):
    """A supertype or sampled type is malformed or cannot be flattened into an observation."""


class TypeConversionError(SupertypeError, ValueError):
    """A supertype's field cannot be turned into an observation space or its values.

    Also a ``ValueError``, which is what Phantom raises for the same mistake.
    """


class AgentDefinitionError(PhantomZooError, TypeError):
    """An agent class is incomplete (for example a strategic agent without spaces)."""


class RegistryError(PhantomZooError, KeyError):
    """An environment or backend name is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class ConformanceError(PhantomZooError, AssertionError):
    """:func:`phantomzoo.testing.check_env` found an environment that breaks a contract."""


class ConfigError(PhantomZooError, ValueError):
    """A configuration value (environment keyword, option) is unknown or invalid."""


class StageError(PhantomZooError, ValueError):
    """A finite-state-machine stage graph is malformed or a transition is not allowed."""


class PolicyMappingError(PhantomZooError, ValueError):
    """The ``policies`` mapping given to training or rollouts is inconsistent."""


class TrainingError(PhantomZooError, RuntimeError):
    """Training could not start or a trained result could not be saved or loaded."""


class ManifestError(TrainingError, ValueError):
    """A saved results directory is malformed: bad JSON, missing or mistyped entries,
    weights that disagree with the recorded spaces, unsafe file names, missing files."""


class TrustError(PhantomZooError, PermissionError):
    """Loading saved results would import code, and the user did not opt in to that."""


class ResultsExistError(PhantomZooError, FileExistsError):
    """A results directory already holds a run and neither overwrite nor resume was asked."""


class CheckpointError(PhantomZooError, RuntimeError):
    """A training checkpoint cannot be written, read or resumed from."""


class TrainingInterrupted(PhantomZooError, RuntimeError):
    """Training stopped on SIGINT/SIGTERM after saving its policies and a checkpoint.

    Attributes:
        results_dir: Where the policies and the checkpoint were saved.
        signal_name: ``"SIGINT"`` or ``"SIGTERM"``.
        result: The :class:`~phantomzoo.training.TrainingResult` up to the interruption.
    """

    def __init__(self, message: str, results_dir: object, signal_name: str, result: object = None):
        super().__init__(message)
        self.results_dir = results_dir
        self.signal_name = signal_name
        self.result = result


class NotResetError(EpisodeOverError):
    """An environment was stepped or observed before its first ``reset``; call ``reset()``."""


class RewardError(PhantomZooError, ValueError):
    """A reward is not one finite number (NaN, infinity, ``None``, a string, an array)."""


class DependencyNotInstalled(RegistryError, ImportError):
    """An optional dependency (a trainer backend's torch, ray, ...) is not installed;
    the message names the pip extra that provides it."""


class StepIndexError(PhantomZooError, IndexError):
    """A step index outside a rollout (an IndexError, so ``for step in rollout`` stops)."""


class RolloutWorkerError(PhantomZooError, RuntimeError):
    """A rollout worker process died (killed, out of memory, crashed in native code)
    before returning its unit; the message names the unit and what to try."""


class ReplayMismatchError(PhantomZooError, RuntimeError):
    """Playing a recorded episode again from its seed and actions gave another episode
    (the model is not deterministic given them); the message names the first step and
    agent that differ.

    Attributes:
        step: Index of the first step that differs.
        agent_id: The first agent whose part of that step differs (``None``: not one
            agent's, e.g. the episode's length or a metric).
        field: What differs (``"observations"``, ``"rewards"``, ``"messages"``, ...).
    """

    def __init__(
        self, message: str, step: int | None = None, agent_id: object = None, field: str = ""
    ) -> None:
        super().__init__(message)
        self.step = step
        self.agent_id = agent_id
        self.field = field
