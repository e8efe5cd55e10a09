"""What the consumer tests share: every registered env, small configurations, both forms.

The consumer tests drive the bundled envs only through their PettingZoo modules
(``phantomzoo.envs.<name>``: ``env()`` for the AEC form, ``parallel_env()`` for the
parallel one, staged models included through their parallel view), exactly as a user of
a third-party library would, and never through phantomzoo's own backends.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import Any

import phantomzoo as ph

#: Every registered env, in a stable order (a newly registered env is tested too).
REGISTERED: list[str] = sorted(ph.registered_envs())
#: Small configurations by env name; an env not listed here runs with its defaults.
SMALL: dict[str, dict[str, Any]] = {
    "supply_chain_v0": {"num_shops": 2, "num_customers": 2},
    "supply_chain_paper_v0": {"num_shops": 2, "customers_per_shop": 2},
    "digital_ads_v0": {"advertisers_per_family": 1},
    "type_toy_v0": {"num_agents": 2},
}
#: Episode length (PettingZoo's ``max_cycles``) used by the consumer tests.
CYCLES = 8


def module(name: str) -> ModuleType:
    """The PettingZoo-style module ``phantomzoo.envs.<name>`` of registered env ``name``."""
    return importlib.import_module(f"phantomzoo.envs.{name}")


def config(name: str, **overrides: Any) -> dict[str, Any]:
    """``name``'s small configuration with ``max_cycles=CYCLES``, updated by ``overrides``."""
    return {**SMALL.get(name, {}), "max_cycles": CYCLES, **overrides}


def parallel_env(name: str, **overrides: Any) -> Any:
    """The parallel form (a PettingZoo ``ParallelEnv``) of ``name``, small."""
    return module(name).parallel_env(**config(name, **overrides))


def aec_env(name: str, **overrides: Any) -> Any:
    """The AEC form (a PettingZoo ``AECEnv``) of ``name``, small."""
    return module(name).env(**config(name, **overrides))


def is_staged(name: str) -> bool:
    """Whether ``name`` is a staged model (its parallel form is the staged parallel view)."""
    return isinstance(module(name).raw_env(**SMALL.get(name, {})), ph.FiniteStateMachineEnv)


def group_by_kind(agent_ids: list[str]) -> dict[str, list[str]]:
    """Agents grouped by their id without the trailing number: ``SHOP1, SHOP2 -> "SHOP"``.

    This is the TorchRL ``group_map`` for Phantom-style ids (TorchRL's own default only
    groups PettingZoo-style ``name_N`` ids and puts ``SHOP1`` and ``SHOP2`` in a group
    each).
    """
    groups: dict[str, list[str]] = {}
    for agent in agent_ids:
        groups.setdefault(re.sub(r"_?\d+$", "", agent) or agent, []).append(agent)
    return groups


def is_masked(name: str) -> bool:
    """Whether ``name``'s agents declare action masks (``infos[agent]["action_mask"]``)."""
    infos = parallel_env(name).reset(seed=0)[1]
    return any("action_mask" in info for info in infos.values())


#: Keyword for a masked env given to a consumer that ignores masks: the engine then
#: stops refusing illegal actions (the model handles them itself, see its docs).
IGNORE_MASKS: dict[str, Any] = {"checks": "off"}
#: Keywords that put a masked env's masks in Dict observations (PettingZoo's classic
#: ``{"observation", "action_mask"}`` form), for consumers that read masks only there.
DICT_MASKS: dict[str, dict[str, Any]] = {"mask_toy_v0": {"dict_observations": True}}
