"""The digital-ads market environment: network, stages and configuration."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.engine.checks import check_level
from phantomzoo.errors import ConfigError, NotResetError
from phantomzoo.samplers import Sampler, UniformFloatSampler
from phantomzoo.validate import check_int

from .._ids import PETTINGZOO, PHANTOM, check_agent_ids, learner_ids
from .._pz import episode_length
from .._supertypes import field_overrides, widen
from .agents import (
    ADVERTISER_STAGE,
    AGE_SCALE,
    PUBLISHER_STAGE,
    THEMES,
    USER_INFO,
    ZIPCODE_SCALE,
    AdExchangeAgent,
    AdvertiserAgent,
    AdvertiserSupertype,
    PublisherAgent,
)

#: Default budget ranges ``(low, high)`` per family, drawn uniformly every reset. The
#: paper's figures were lost; these are those of Phantom's own example (travel has the
#: smallest budgets, tech the largest).
DEFAULT_BUDGETS: dict[str, tuple[float, float]] = {
    "travel": (5.0, 15.0),
    "tech": (10.0, 20.0),
    "sport": (7.0, 17.0),
}

OWNER = "digital_ads"
PUBLISHER_ID = "PUBLISHER"
EXCHANGE_ID = "EXCHANGE"
AUCTIONS = ("first", "second")
#: Largest accepted ``advertisers_per_family`` and ``num_steps``.
MAX_PER_FAMILY = 100_000
MAX_IMPRESSIONS = 10**9


#: What :meth:`DigitalAdsEnv.global_state` holds for each advertiser, in order.
STATE_FIELDS = ("budget_left", "budget", "bid", "won", "clicked", "total_clicks")
#: What it holds after the advertisers: the current user and the time.
STATE_TAIL = ("user_1", "user_2", "user_age", "user_zipcode", "elapsed")


def advertiser_id(theme: str, index: int, scheme: str = PHANTOM) -> str:
    """Id of the ``index``-th (from 1) advertiser of a family: ``"TRAVEL1"``, ``"SPORT40"``
    (``scheme="pettingzoo"``: ``"travel_0"``, ``"sport_39"``)."""
    if scheme == PETTINGZOO:
        return f"{theme.lower()}_{index - 1}"
    return f"{theme.upper()}{index}"


class DigitalAdsEnv(ph.FiniteStateMachineEnv):
    """A publisher, an ad exchange and three families of learning advertisers.

    Each impression is played in two stages: ``"publisher"`` (no agent acts: the
    publisher's impression request reaches the advertisers through the exchange) and
    ``"advertiser"`` (every live advertiser bids; the exchange auctions, the publisher
    reports the click to the winner; advertisers are rewarded with their clicks).

    Args:
        advertisers_per_family: Advertisers of each theme (2, 20, 40, 400 give 6, 60,
            120, 1200 advertisers).
        auction: ``"first"`` (the winner pays its bid) or ``"second"`` price (the winner
            pays the second-highest bid, at least ``min_bid``).
        num_steps: Impressions (auctions) per episode. Each is two stages, so the
            underlying stage count ``env.num_steps`` is twice this.
        travel_budget: ``(low, high)`` of the travel advertisers' uniform budget.
        tech_budget: Same for tech advertisers.
        sport_budget: Same for sport advertisers.
        max_bid: Upper bound of the bid (action space ``Box(0, max_bid, (1,))``).
        min_bid: Smallest bid taking part in an auction, the second-price reserve, and
            the budget below which an advertiser terminates.
        stochastic_edges: Connect each advertiser to the exchange with probability
            ``connection_rate`` per episode (``ph.StochasticNetwork``), as in the paper.
        connection_rate: The probability used when ``stochastic_edges`` is true.
        check_observations: Older debug switch: ``True`` means ``checks="full"``.
        checks: Runtime checks, ``"first"`` (default), ``"full"`` or ``"off"`` (see
            :class:`~phantomzoo.engine.checks.RuntimeChecks`).
        max_cycles: PettingZoo's name for ``num_steps`` (impressions per episode;
            giving both, different, is refused).
        render_mode: ``None``, ``"ansi"`` or ``"human"``: each advertiser's budget and bid.
        agent_ids: ``"phantom"`` (``TRAVEL1``, ``TECH1``, ..., default) or
            ``"pettingzoo"`` (``travel_0``, ``tech_0``, ...: PettingZoo's ``name_N``
            convention, one name per family, whose observation spaces differ); names
            only, the same seed plays the same episode.
        agent_supertypes: Per-advertiser budgets, Phantom's way: ``{"TRAVEL1":
            {"budget": 8.0}}`` or ``{"TRAVEL1": AdvertiserSupertype((5, 9))}`` (a
            number, a ``(low, high)`` pair or a sampler, at least ``min_bid``); the
            others keep their family's budget, and a family keeps one observation space.

    The global state (``env.state()``, for centralised critics only; advertisers
    observe only themselves and the user) is :meth:`global_state`.

    ``advertisers_per_family`` is an int in 1..100,000, ``num_steps`` in 1..10**9,
    bids and budgets finite numbers with ``0 < min_bid <= max_bid`` and ``min_bid <=
    low <= high``; anything else raises :class:`~phantomzoo.errors.ConfigError`.
    """

    metadata: dict[str, Any] = {
        "name": "digital_ads_v0",
        "render_modes": list(ph.FiniteStateMachineEnv.metadata["render_modes"]),
        "is_parallelizable": False,
    }

    def __init__(
        self,
        advertisers_per_family: int = 2,
        auction: str = "first",
        num_steps: int = 100,
        travel_budget: Sequence[float] = DEFAULT_BUDGETS["travel"],
        tech_budget: Sequence[float] = DEFAULT_BUDGETS["tech"],
        sport_budget: Sequence[float] = DEFAULT_BUDGETS["sport"],
        max_bid: float = 1.0,
        min_bid: float = 0.01,
        stochastic_edges: bool = False,
        connection_rate: float = 0.9,
        check_observations: bool | None = None,
        checks: str | None = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
        agent_ids: str = PHANTOM,
        agent_supertypes: Mapping[str, Any] | None = None,
    ) -> None:
        num_steps = episode_length(OWNER, "num_steps", num_steps, 100, max_cycles, MAX_IMPRESSIONS)
        check_int(OWNER, "advertisers_per_family", advertisers_per_family, 1, MAX_PER_FAMILY)
        check_int(OWNER, "num_steps", num_steps, 1, MAX_IMPRESSIONS)
        if auction not in AUCTIONS:
            raise ConfigError(f"digital_ads: auction must be 'first' or 'second', got {auction!r}")
        max_bid = _check_number("max_bid", max_bid)
        min_bid = _check_number("min_bid", min_bid)
        if not 0.0 < min_bid <= max_bid:
            raise ConfigError(
                f"digital_ads: need 0 < min_bid <= max_bid, got min_bid={min_bid}, "
                f"max_bid={max_bid}"
            )
        budgets = {
            "travel": _check_budget("travel_budget", travel_budget, min_bid),
            "tech": _check_budget("tech_budget", tech_budget, min_bid),
            "sport": _check_budget("sport_budget", sport_budget, min_bid),
        }
        flags = [("stochastic_edges", stochastic_edges)]
        if check_observations is not None:
            flags.append(("check_observations", check_observations))
        for name, flag in flags:
            if not isinstance(flag, (bool, np.bool_)):
                raise ConfigError(f"digital_ads: {name} must be True or False, got {flag!r}")
        connection_rate = _check_number("connection_rate", connection_rate)
        if not 0.0 < connection_rate <= 1.0:
            raise ConfigError(
                f"digital_ads: connection_rate must be in (0, 1], got {connection_rate}"
            )
        level = check_level(check_observations, checks)
        agent_ids = check_agent_ids(OWNER, agent_ids)

        self.config = dict(
            advertisers_per_family=int(advertisers_per_family),
            auction=auction,
            num_steps=int(num_steps),
            travel_budget=budgets["travel"],
            tech_budget=budgets["tech"],
            sport_budget=budgets["sport"],
            max_bid=max_bid,
            min_bid=min_bid,
            stochastic_edges=bool(stochastic_edges),
            connection_rate=connection_rate,
            agent_ids=agent_ids,
        )
        if agent_supertypes is not None:  # recorded only when given
            self.config["agent_supertypes"] = agent_supertypes
        self.num_impressions = int(num_steps)
        self.publisher_id = PUBLISHER_ID
        self.exchange_id = EXCHANGE_ID
        self.family_ids: dict[str, list[str]] = {}
        advertisers: list[AdvertiserAgent] = []
        for theme in THEMES:
            self.family_ids[theme] = learner_ids(agent_ids, theme, int(advertisers_per_family))
        own = field_overrides(
            OWNER,
            agent_supertypes,
            [i for ids in self.family_ids.values() for i in ids],
            AdvertiserSupertype,
            "budget",
            lambda value, name: _budget_sampler(value, name, min_bid),
            None,
        )
        for theme, ids in self.family_ids.items():
            family = UniformFloatSampler(*budgets[theme])
            # one range per family (widened to its members' own), so one space per family
            budget = widen({i: family if own.get(i) is None else own[i] for i in ids})
            advertisers.extend(
                AdvertiserAgent(
                    i,
                    EXCHANGE_ID,
                    theme,
                    AdvertiserSupertype(budget=budget[i]),
                    self.num_impressions,
                    max_bid,
                    min_bid,
                )
                for i in ids
            )
        self.advertiser_ids = [a.id for a in advertisers]
        network = self._build_network(advertisers, auction, min_bid, connection_rate)
        super().__init__(
            num_steps=2 * self.num_impressions,
            network=network,
            initial_stage=PUBLISHER_STAGE,
            stages=[
                ph.FSMStage(PUBLISHER_STAGE, [], next_stages=[ADVERTISER_STAGE]),
                ph.FSMStage(ADVERTISER_STAGE, self.advertiser_ids, next_stages=[PUBLISHER_STAGE]),
            ],
            # Advertisers append their type themselves (see AdvertiserAgent).
            type_augmented_observations=False,
            checks=level,
            render_mode=render_mode,
        )
        self.state_space = gym.spaces.Box(
            0.0, 1.0, (len(STATE_FIELDS) * len(advertisers) + len(STATE_TAIL),), np.float32
        )

    def _build_network(
        self,
        advertisers: list[AdvertiserAgent],
        auction: str,
        min_bid: float,
        connection_rate: float,
    ) -> ph.Network:
        publisher = PublisherAgent(PUBLISHER_ID, EXCHANGE_ID, block=min(self.num_impressions, 256))
        exchange = AdExchangeAgent(
            EXCHANGE_ID, PUBLISHER_ID, self.advertiser_ids, auction=auction, min_bid=min_bid
        )
        agents: list[ph.Agent] = [publisher, exchange, *advertisers]
        if self.config["stochastic_edges"]:
            network: ph.Network = ph.StochasticNetwork(agents)
            network.add_connection(PUBLISHER_ID, EXCHANGE_ID)
            network.add_connections_between([EXCHANGE_ID], self.advertiser_ids, connection_rate)
        else:
            network = ph.Network(agents)
            network.add_connection(PUBLISHER_ID, EXCHANGE_ID)
            network.add_connections_between([EXCHANGE_ID], self.advertiser_ids)
        # The publisher reports clicks straight to the winning advertiser.
        network.add_connections_between([PUBLISHER_ID], self.advertiser_ids)
        return network

    def global_state(self) -> np.ndarray:
        """The modeller's state for centralised critics (``env.state()``), all in [0, 1].

        For each advertiser in ``advertiser_ids`` order, :data:`STATE_FIELDS`: remaining
        budget fraction, its budget (its type) / the top of its family's budget range,
        its last bid / ``max_bid``, whether it won the last auction and got the click,
        and its clicks so far / impressions per episode; then :data:`STATE_TAIL`: the
        current impression's user (one-hot, zeros before the first impression), that
        user's age / 100 and zipcode / 99999, and the fraction of impressions played.
        Read from the agents, never written: advertisers' observations stay their own.

        Raises:
            NotResetError: before the first ``reset``.
        """
        if not self.engine.ever_reset:
            raise NotResetError("state() called before reset(); call env.reset(seed=...) first")
        config, rows = self.config, []
        for agent_id in self.advertiser_ids:
            agent: AdvertiserAgent = self.network[agent_id]  # type: ignore[assignment]
            rows.extend(
                (
                    agent.budget_left / agent.budget,
                    agent.budget / config[f"{agent.theme}_budget"][1],
                    agent.bid / agent.max_bid,
                    agent.won,
                    agent.clicks,
                    agent.total_clicks / self.num_impressions,
                )
            )
        user = self.network[PUBLISHER_ID].user_id  # type: ignore[attr-defined]
        info = USER_INFO.get(user)
        rows.extend(
            (
                user == 1,
                user == 2,
                info.age / AGE_SCALE if info else 0.0,
                info.zipcode / ZIPCODE_SCALE if info else 0.0,
                (self.current_step // 2) / self.num_impressions,
            )
        )
        return np.array(rows, dtype=np.float32)

    def family_of(self, agent_id: ph.AgentID) -> str:
        """The theme of advertiser ``agent_id``."""
        return self.network[agent_id].theme  # type: ignore[attr-defined,no-any-return]


# ----------------------------------------------------------------------------- checks
def _check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ConfigError(f"digital_ads: {name} must be a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ConfigError(f"digital_ads: {name} must be finite, got {value!r}")
    return out


def _check_budget(name: str, value: Any, min_bid: float) -> tuple[float, float]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ConfigError(
            f"digital_ads: {name} must be a (low, high) pair, got {value!r}"
        ) from None
    low, high = _check_number(f"{name} low", low), _check_number(f"{name} high", high)
    if not min_bid <= low <= high:
        raise ConfigError(
            f"digital_ads: {name} must satisfy min_bid ({min_bid:g}) <= low <= high, "
            f"got ({low:g}, {high:g})"
        )
    return (low, high)


def _budget_sampler(value: Any, name: str, min_bid: float) -> Sampler | None:
    """An advertiser's own budget: ``None`` (its family's), a number, a ``(low, high)``
    pair or a sampler, never below ``min_bid``."""
    if value is None:
        return None
    if isinstance(value, Sampler):
        low = float(np.min(value.bounds()[0]))
        if not low >= min_bid:
            raise ConfigError(
                f"digital_ads: {name} = {value!r} may draw {low:g}, below min_bid "
                f"({min_bid:g}); bound (or clip) it to >= min_bid"
            )
        return value
    if isinstance(value, (tuple, list)):
        return UniformFloatSampler(*_check_budget(name, value, min_bid))
    number = _check_number(name, value)
    return UniformFloatSampler(*_check_budget(name, (number, number), min_bid))
