"""Networks: who may talk to (and see) whom.

:class:`Network` (:mod:`.base`) holds the agents and their undirected connections and
checks every message against them; :class:`StochasticNetwork` (:mod:`.stochastic`)
gives every connection a probability and re-draws the edges each episode.
``ph.network.NetworkError`` is the error both raise for misuse.
"""

from __future__ import annotations

from ..errors import MessageError, NetworkError
from .base import Network
from .stochastic import StochasticNetwork

# Public (and pickled) under the package's name, as before the split into modules.
Network.__module__ = StochasticNetwork.__module__ = __name__

__all__ = ["MessageError", "Network", "NetworkError", "StochasticNetwork"]
