"""What the bundled models share as PettingZoo environments: episode-length aliases and
tolerant reading of one-number actions.

* ``max_cycles`` is PettingZoo's name for the episode length (its own envs and
  ``pettingzoo.test.max_cycles_test`` use it); every bundled env accepts it as an alias
  of its own length argument (:func:`episode_length`).
* Consumers reshape actions: AgileRL's vector worker squeezes a shape-(1,) ``Box``
  action into a 0-d array, others send a plain float or a ``(1, 1)`` array.
  :func:`one_number` reads the single value of any of these and refuses the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from phantomzoo.errors import ActionError, ConfigError
from phantomzoo.validate import check_int

#: Array kinds read as numbers: bool, signed and unsigned ints, floats.
_NUMERIC_KINDS = "biuf"


def episode_length(
    owner: str, name: str, value: int, default: int, max_cycles: int | None, high: int
) -> int:
    """The episode length from ``name=value`` and its alias ``max_cycles``.

    ``max_cycles`` wins over an untouched ``value`` (equal to ``default``); giving both
    with different values is refused.

    Raises:
        ConfigError: when ``max_cycles`` is not an int in ``1..high`` or disagrees with
            an explicitly given ``value``.
    """
    if max_cycles is None:
        return value
    max_cycles = check_int(owner, "max_cycles", max_cycles, 1, high)
    if value != default and value != max_cycles:
        raise ConfigError(
            f"{owner}: max_cycles={max_cycles} and {name}={value} disagree; max_cycles is "
            f"PettingZoo's name for {name} (the episode length): pass only one of them"
        )
    return max_cycles


def one_number(agent_id: str, action: Any) -> float:
    """The single value of a one-number action of any shape (``(1,)``, ``()``, ``(1, 1)``,
    a Python number), as a float.

    Raises:
        ActionError: when the action does not hold exactly one number.
    """
    if type(action) is np.ndarray and action.shape == (1,):  # the common case, fast
        return float(action[0])
    if isinstance(action, (float, int)) and not isinstance(action, bool):
        return float(action)
    try:
        array = np.asarray(action)
    except (TypeError, ValueError):
        array = None
    if array is None or array.size != 1 or array.dtype.kind not in _NUMERIC_KINDS:
        described = (
            f"an array of shape {array.shape} and dtype {array.dtype}"
            if array is not None
            else type(action).__name__
        )
        raise ActionError(
            f"action of agent {agent_id!r} must hold exactly one number (a shape-(1,) "
            f"array, a 0-d array or a float), got {described}: {action!r:.80}"
        )
    return float(array.reshape(-1)[0])
