"""``ph.testing.lint(env_fn)``: check a model's message contracts before training it.

A phantomzoo model declares who handles which payload (``@ph.msg_handler``), who may
send and receive each payload (``@ph.msg_payload(sender_type=, receiver_type=)``), who is
connected to whom (the network), which stages exist and whom they reward
(``ph.FSMStage``) and what agents publish (``view``). :func:`lint` compares these
declarations with each other and with a few seeded random-action episodes, and returns
one :class:`~phantomzoo.experiments.lint_findings.Finding` per problem (codes in
:data:`~phantomzoo.experiments.lint_findings.CODES`)::

    for finding in ph.testing.lint(lambda: MyEnv()):
        print(finding)

``ph.testing.check_env`` reports the findings as :class:`LintWarning` warnings;
``phantomzoo lint ENV`` prints them and exits 1 when any is an error.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ConfigError
from ..validate import check_int
from .lint_checks import CHECKS
from .lint_facts import gather
from .lint_findings import CODES, Finding, check_ignore, sort_findings, summary
from .lint_play import play

__all__ = ["CODES", "Finding", "LintWarning", "lint", "summary", "warn_findings"]

#: Most steps a lint episode may take by default (long models are cut short).
DEFAULT_MAX_STEPS = 100


class LintWarning(UserWarning):
    """A lint finding, as ``ph.testing.check_env`` reports it."""


def lint(
    env_fn: Callable[[], Any],
    *,
    episodes: int = 3,
    seed: int = 0,
    max_steps: int = DEFAULT_MAX_STEPS,
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Check the message contracts of the model ``env_fn`` builds.

    Args:
        env_fn: Builds a fresh phantomzoo environment (parallel, staged, or a staged
            model's parallel view); called once.
        episodes: Random-action episodes to play (seeds ``seed, seed + 1, ...``); ``0``
            checks the declarations only (the checks that need episodes are skipped).
        seed: Seed of the first episode; the episodes' random actions come from it.
        max_steps: Most steps per episode (a long model is cut short there).
        ignore: Finding codes to leave out (the ones the model means).

    Returns:
        The findings, errors first (an empty list for a clean model).

    Raises:
        ConfigError: ``env_fn`` is not callable or builds no phantomzoo environment, a
            count is not a non-negative int, or ``ignore`` names an unknown code.
    """
    skip = _check_arguments(env_fn, episodes, seed, max_steps, ignore)
    env = env_fn()
    if getattr(env, "engine", None) is None or not hasattr(env, "acting_step"):
        raise ConfigError(
            f"lint: env_fn() returned {env!r}, not a phantomzoo environment (a "
            "ph.PhantomEnv, ph.FiniteStateMachineEnv or its parallel view); lint reads "
            "its network and stages, e.g. ph.testing.lint(lambda: MyEnv())"
        )
    try:
        observed = play(env, episodes, seed, max_steps)
        facts = gather(env, observed)
        found = [f for check in CHECKS for f in check(facts, observed)]
    finally:
        with contextlib.suppress(Exception):
            env.close()
    return sort_findings(f for f in found if f.code not in skip)


def _check_arguments(
    env_fn: Any, episodes: Any, seed: Any, max_steps: Any, ignore: Any
) -> frozenset[str]:
    if not callable(env_fn):
        raise ConfigError(
            f"lint needs a function that builds a fresh env, got {env_fn!r}; write "
            "ph.testing.lint(lambda: MyEnv(...))"
        )
    check_int("lint", "episodes", episodes, low=0)
    check_int("lint", "seed", seed, low=0)
    check_int("lint", "max_steps", max_steps, low=1)
    return check_ignore(ignore)


def warn_findings(env_fn: Callable[[], Any], seed: int = 0) -> list[Finding]:
    """Lint ``env_fn``'s model and issue each finding as a :class:`LintWarning` (what
    ``check_env`` does). An env that is not a phantomzoo env is skipped silently."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        probe = env_fn()
        if getattr(probe, "engine", None) is None:
            return []
        findings = lint(env_fn, seed=seed)
    for item in findings:
        warnings.warn(str(item), LintWarning, stacklevel=3)
    return findings
