"""The digital-ads market of the Phantom paper (section 3.1): auctions for user impressions.

=================  ==========================================================
Agents             ``PUBLISHER`` (website, two users), ``EXCHANGE`` (ad exchange,
                   runs the auctions), advertisers ``TRAVEL1..n``, ``TECH1..n``,
                   ``SPORT1..n`` (strategic; ``n = advertisers_per_family``;
                   ``travel_0..``, ``tech_0..``, ``sport_0..`` with
                   ``agent_ids="pettingzoo"``)
Types              each advertiser's ``budget`` ~ Uniform(low, high) of its family,
                   redrawn every reset (travel 5-15, tech 10-20, sport 7-17 by default)
Observation        ``Box((13,))``: remaining budget fraction, elapsed fraction, user
                   one-hot (2), theme one-hot (3), user age / 100 and zipcode / 99999
                   (read from the exchange's view, shown to advertisers only), last
                   auction won, its cost / ``max_bid``, last ad clicked (all in
                   [0, 1]), then the type: the budget (within its family's range)
Action             ``Box(0, max_bid, (1,))``: the bid, capped to the remaining budget;
                   bids below ``min_bid`` abstain
Reward             clicks of the step (1 if the advertiser won and the user clicked)
Stages             ``"publisher"`` (no agent acts: the impression request reaches the
                   advertisers), then ``"advertiser"`` (all live advertisers bid, the
                   exchange auctions, the publisher reports the click); one impression
                   per pair, ``num_steps`` impressions per episode (100), so the
                   stage count ``env.num_steps`` is twice the keyword
Termination        an advertiser terminates when less than ``min_bid`` of budget is
                   left; every advertiser is truncated after ``num_steps`` impressions
Auction            ``"first"`` price (winner pays its bid) or ``"second"`` price (winner
                   pays the second-highest bid, at least ``min_bid``); ties are broken
                   with the episode generator
Users, clicks      each impression's user is drawn uniformly from the two users;
                   paper Table 1: user 1 clicks travel 1.0, tech 0.8, sport 0.0;
                   user 2 travel 0.0, tech 0.2, sport 1.0
Global state       ``env.state()`` (critics only), all in [0, 1]: per advertiser
                   budget left, budget, last bid, won, clicked, clicks so far;
                   then the current user (one-hot, age, zipcode) and the time
Randomness         users, clicks, budgets, tie breaks and (``stochastic_edges=True``)
                   advertiser-exchange edges all come from the episode generator
=================  ==========================================================

The environment is staged, so it is a PettingZoo ``AECEnv``; trainers may also drive it
through the acting-agents protocol (``acting_reset`` / ``acting_step``), one impression
per ``acting_step``::

    env = ph.make("digital_ads_v0", advertisers_per_family=20, auction="second")
    observations, _ = env.acting_reset(seed=0)
"""

from __future__ import annotations

from typing import Any

import phantomzoo as ph

from .agents import (
    CLICK_PROBABILITIES,
    THEMES,
    USER_INFO,
    AdExchangeAgent,
    AdvertiserAgent,
    AdvertiserSupertype,
    ExchangeView,
    PublisherAgent,
    UserInfo,
)
from .baselines import RandomBidPolicy, ValueBidPolicy, evaluate_clicks
from .messages import (
    AdPlacement,
    AuctionResult,
    Bid,
    ImpressionRequest,
    ImpressionResult,
)
from .model import DEFAULT_BUDGETS, EXCHANGE_ID, PUBLISHER_ID, DigitalAdsEnv

raw_env = DigitalAdsEnv


def env(**kwargs: Any) -> DigitalAdsEnv:
    """The digital-ads market as a PettingZoo ``AECEnv`` (it is staged, so AEC natively)."""
    return DigitalAdsEnv(**kwargs)


def parallel_env(**kwargs: Any) -> ph.StagedParallelEnv:
    """The model as a PettingZoo ``ParallelEnv``: its staged env's parallel view.

    Every live agent appears every step; ``infos[agent]["acting"]`` says whose action is
    used; rewards arrive as they accrue (see :mod:`phantomzoo.parallel`).
    """
    return ph.StagedParallelEnv(DigitalAdsEnv(**kwargs))


__all__ = [
    "CLICK_PROBABILITIES",
    "DEFAULT_BUDGETS",
    "EXCHANGE_ID",
    "PUBLISHER_ID",
    "THEMES",
    "USER_INFO",
    "AdExchangeAgent",
    "AdPlacement",
    "AdvertiserAgent",
    "AdvertiserSupertype",
    "AuctionResult",
    "Bid",
    "DigitalAdsEnv",
    "ExchangeView",
    "ImpressionRequest",
    "ImpressionResult",
    "PublisherAgent",
    "RandomBidPolicy",
    "UserInfo",
    "ValueBidPolicy",
    "env",
    "parallel_env",
    "evaluate_clicks",
    "raw_env",
]
