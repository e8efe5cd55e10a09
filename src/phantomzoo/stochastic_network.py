"""StochasticNetwork: a network whose edges exist with a probability, re-drawn every reset.

Rates are numbers in [0, 1] or samplers of such numbers (drawn per edge per reset); the
draws come from the generator the environment passes to ``reset`` (the episode's seeded
one), or from a fresh unseeded generator when a user calls ``reset()`` without one.
Import it as ``ph.StochasticNetwork`` or from :mod:`phantomzoo.network`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .errors import NetworkError
from .network import Network, _as_iterable, _pair
from .samplers import Sampler, Shared
from .types import AgentID


class StochasticNetwork(Network):
    """A network whose edges exist with a probability, re-drawn on every reset.

    ``add_connection(a, b, rate)`` makes the edge present in a fraction ``rate`` of
    episodes. ``rate`` is a number in [0, 1] or a :class:`~phantomzoo.samplers.Sampler`
    of such numbers: a sampler is drawn once per edge per reset (independently for every
    edge, or once for all edges holding one :class:`~phantomzoo.samplers.Shared`), then
    the edge is drawn with that probability. Until the first reset an edge is present
    when its rate can be above 0. Draws come from the generator passed to :meth:`reset`
    (the environment passes the episode's seeded one). Arguments are those of
    :class:`Network` (``connections`` may hold triples).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._rates: dict[tuple[AgentID, AgentID], float | Sampler] = {}
        super().__init__(*args, **kwargs)

    def add_connection(self, id_a: AgentID, id_b: AgentID, rate: float | Sampler = 1.0) -> None:
        """Connect two agents with probability ``rate`` per episode (a number in [0, 1] or
        a sampler of such numbers)."""
        self._check_known(id_a, id_b)
        if id_a == id_b:
            raise NetworkError(f"cannot connect agent {id_a!r} to itself")
        rate = _check_rate(id_a, id_b, rate)
        key = (id_a, id_b) if (id_b, id_a) not in self._rates else (id_b, id_a)
        self._rates[key] = rate
        high = rate if not isinstance(rate, Sampler) else float(np.max(rate.bounds()[1]))
        if high > 0.0:
            super().add_connection(id_a, id_b)

    def add_connections_from(self, connections: Iterable[Sequence[Any]]) -> None:
        """Connect every ``(id_a, id_b)`` pair (rate 1) and ``(id_a, id_b, rate)`` triple."""
        for item in _as_iterable("add_connections_from", connections):
            if isinstance(item, (tuple, list)) and len(item) == 3:
                self.add_connection(item[0], item[1], item[2])
            else:
                id_a, id_b = _pair(item, "(id_a, id_b) pairs or (id_a, id_b, rate) triples")
                self.add_connection(id_a, id_b)

    def add_connections_between(
        self, ids_a: Iterable[AgentID], ids_b: Iterable[AgentID], rate: float | Sampler = 1.0
    ) -> None:
        """Connect every pair across the two groups with probability ``rate``."""
        ids_b = list(ids_b)
        for id_a in ids_a:
            for id_b in ids_b:
                self.add_connection(id_a, id_b, rate)

    def connection_rate(self, id_a: AgentID, id_b: AgentID) -> float | Sampler:
        """The probability (or its sampler) that the two agents are connected in an
        episode; 0.0 for agents never connected."""
        return self._rates.get((id_a, id_b), self._rates.get((id_b, id_a), 0.0))

    def reset(self, rng: np.random.Generator | None = None) -> None:
        """Re-draw every edge (see :meth:`resample_connectivity`), then reset the agents."""
        self.resample_connectivity(rng)
        super().reset(rng)

    def resample_connectivity(self, rng: np.random.Generator | None = None) -> None:
        """Re-draw every edge from ``rng``.

        The environment passes the episode's seeded generator. Called without one (as a
        Phantom user calls ``network.reset()``), the draw is **unseeded**: it uses a fresh
        ``np.random.default_rng()``, so it differs from run to run; pass
        ``np.random.default_rng(seed)`` for a reproducible draw.

        Raises:
            NetworkError: if ``rng`` is not a NumPy generator, or a rate sampler draws a
                value outside [0, 1].
        """
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise NetworkError(
                f"StochasticNetwork.reset(rng) needs a numpy Generator, got {rng!r}; call "
                "network.reset(np.random.default_rng(seed)), or network.reset() (unseeded)"
            )
        for adjacent in self._adj.values():
            adjacent.clear()
        pairs = list(self._rates)
        if pairs:
            rates = np.fromiter(self._drawn_rates(pairs, rng), dtype=float, count=len(pairs))
            present = rng.random(len(pairs)) < rates
            for (id_a, id_b), keep in zip(pairs, present.tolist()):
                if keep:
                    self._adj[id_a].add(id_b)
                    self._adj[id_b].add(id_a)
        self._version += 1

    def _drawn_rates(
        self, pairs: list[tuple[AgentID, AgentID]], rng: np.random.Generator
    ) -> Iterator[float]:
        """Each pair's rate this episode; samplers drawn in pair order (before the edges,
        so networks of fixed rates draw exactly as they always have)."""
        shared: dict[int, float | None] = {}  # one draw per Shared sampler per reset
        for pair in pairs:
            rate = self._rates[pair]
            if not isinstance(rate, Sampler):
                yield rate
                continue
            key = id(rate) if isinstance(rate, Shared) else None
            value = shared.get(key) if key is not None else None
            if value is None:
                value = _as_probability(rate.sample(rng))
            if value is None:
                raise NetworkError(
                    f"connection {pair[0]!r}-{pair[1]!r}: its rate sampler {rate!r} drew a "
                    "value that is not a probability in [0, 1]; bound it to [0, 1]"
                )
            if key is not None:
                shared[key] = value
            yield value


# -------------------------------------------------------------------- helpers
def _as_probability(value: Any) -> float | None:
    """``value`` as a float in [0, 1], or ``None`` when it is not one."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0.0 <= number <= 1.0 else None


def _check_rate(id_a: AgentID, id_b: AgentID, rate: Any) -> float | Sampler:
    """A fixed rate as a float in [0, 1], or a sampler whose bounds allow [0, 1] draws."""
    where = f"connection {id_a!r}-{id_b!r}"
    if isinstance(rate, Sampler):
        if rate.shape != ():
            raise NetworkError(f"{where}: a rate sampler must draw single numbers, not {rate!r}")
        low, high = (float(b) for b in rate.bounds())
        if high < 0.0 or low > 1.0:
            raise NetworkError(
                f"{where}: rate sampler {rate!r} draws in [{low}, {high}], outside [0, 1]; "
                "rates are probabilities"
            )
        return rate
    number = _as_probability(rate)
    if number is None:
        raise NetworkError(
            f"{where}: rate must be in [0, 1] (a number, or a ph sampler of such "
            f"numbers), got {rate!r}"
        )
    return number
