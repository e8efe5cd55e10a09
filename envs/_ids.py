"""Agent-id schemes of the bundled models: Phantom-style (default) or PettingZoo-style.

The bundled models name their learning agents the Phantom way (``SHOP1``, ``TRAVEL2``,
``GUESSER3``, or ``SHOP`` for the single shop of the tutorial supply chain); the seeds,
examples and saved results use these ids. Consumers that read structure from ids follow
PettingZoo's ``<name>_<N>`` convention instead: TorchRL's ``PettingZooWrapper`` puts
``shop_0`` and ``shop_1`` in one group ``"shop"`` but ``SHOP1`` and ``SHOP2`` in a group
each. Every bundled env therefore takes ``agent_ids``:

* ``"phantom"`` (default): ``SHOP1, SHOP2, ...`` (numbered from 1, upper case);
* ``"pettingzoo"``: ``shop_0, shop_1, ...`` (numbered from 0, lower case, ``name_N``).

With the default ids, give TorchRL the groups yourself, e.g.
``PettingZooWrapper(env, group_map={"shop": env.possible_agents})`` (or
``MarlGroupMapType.ALL_IN_ONE_GROUP``).

Only the learning agents (the PettingZoo agents) are renamed; the agents the env plays
itself (factory, customers, publisher, exchange) keep their ids. The scheme changes
names only: the same seed gives the same episode under either scheme.
"""

from __future__ import annotations

from typing import Any

from phantomzoo.errors import ConfigError

PHANTOM = "phantom"
PETTINGZOO = "pettingzoo"
#: The accepted values of every bundled env's ``agent_ids`` keyword.
AGENT_ID_SCHEMES: tuple[str, ...] = (PHANTOM, PETTINGZOO)


def check_agent_ids(owner: str, scheme: Any) -> str:
    """``scheme`` if it is one of :data:`AGENT_ID_SCHEMES`.

    Raises:
        ConfigError: naming the accepted schemes otherwise.
    """
    if isinstance(scheme, str) and scheme in AGENT_ID_SCHEMES:
        return scheme
    raise ConfigError(
        f"{owner}: agent_ids={scheme!r} is not an id scheme; pass 'phantom' (SHOP1, SHOP2, "
        "..., the default) or 'pettingzoo' (shop_0, shop_1, ..., PettingZoo's name_N "
        "convention, which TorchRL groups by name)"
    )


def learner_ids(scheme: str, name: str, count: int) -> list[str]:
    """The ids of ``count`` learning agents called ``name`` under ``scheme``.

    ``learner_ids("phantom", "shop", 2) == ["SHOP1", "SHOP2"]`` and
    ``learner_ids("pettingzoo", "shop", 2) == ["shop_0", "shop_1"]``.
    """
    if scheme == PETTINGZOO:
        return [f"{name.lower()}_{k}" for k in range(count)]
    return [f"{name.upper()}{k + 1}" for k in range(count)]
