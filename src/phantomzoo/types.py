"""The identifiers used across phantomzoo (Phantom's ``phantom.types``).

Agent and stage ids are any hashable value (strings by convention: they appear in
saved manifests, which accept ``str`` and ``int``); policy ids are strings.
"""

from __future__ import annotations

from collections.abc import Hashable

#: An agent's id: any hashable; ``str`` or ``int`` if its policy is to be saved.
AgentID = Hashable
#: A finite-state-machine stage's id.
StageID = Hashable
#: A policy's id in a policy mapping.
PolicyID = str

__all__ = ["AgentID", "PolicyID", "StageID"]
