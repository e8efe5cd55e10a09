"""Payloads and agents of the digital-ads market, written with the public API.

Message flow of one impression (two stages of the environment):

* publisher stage: ``PublisherAgent --ImpressionRequest--> AdExchangeAgent
  --ImpressionRequest--> every connected AdvertiserAgent`` (each advertiser reads the
  user's details from the exchange's view);
* advertiser stage: ``AdvertiserAgent --Bid--> AdExchangeAgent`` (one batch, one
  auction), then ``--AuctionResult-->`` every bidder and ``--AdPlacement-->`` the
  publisher, which samples the click and sends ``--ImpressionResult-->`` the winner.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.samplers import Sampler

from .._pz import one_number
from .messages import (
    AdPlacement,
    AuctionResult,
    Bid,
    ImpressionRequest,
    ImpressionResult,
)

#: The advertiser families, in the order of the theme one-hot of observations.
THEMES: tuple[str, ...] = ("travel", "tech", "sport")

#: Paper Table 1: probability that a user clicks an ad, by user id and ad theme.
CLICK_PROBABILITIES: dict[int, dict[str, float]] = {
    1: {"travel": 1.0, "tech": 0.8, "sport": 0.0},
    2: {"travel": 0.0, "tech": 0.2, "sport": 1.0},
}

#: Stage ids (the publisher emits impressions only in its own stage).
PUBLISHER_STAGE = "publisher"
ADVERTISER_STAGE = "advertiser"

#: Layout of an advertiser's observation (before the appended type, its budget).
OBS_BUDGET_LEFT = 0  # remaining budget / initial budget
OBS_ELAPSED = 1  # impressions played / impressions per episode
OBS_USER = slice(2, 4)  # one-hot of the current user (1, 2); zeros before any impression
OBS_THEME = slice(4, 7)  # one-hot of the advertiser's theme (THEMES order)
OBS_USER_INFO = slice(7, 9)  # user age / 100 and zipcode / 99999, from the exchange's view
OBS_LAST = slice(9, 12)  # last auction: won, cost / max_bid, clicked
OBS_BUDGET = 12  # the type: the budget drawn for the episode
OBS_SIZE = 13

AGE_SCALE = 100.0
ZIPCODE_SCALE = 99_999.0


@dataclass(frozen=True)
class UserInfo:
    """What the exchange knows about a user (never sent in messages)."""

    age: int
    zipcode: int


#: User details the exchange exposes to advertisers through its view.
USER_INFO: dict[int, UserInfo] = {1: UserInfo(18, 94025), 2: UserInfo(40, 90250)}


_LOST = AuctionResult(False, 0.0)  # payloads are immutable, so one object serves all losers


# ------------------------------------------------------------------------------- views
@dataclass(frozen=True)
class ExchangeView(ph.AgentView):
    """What the exchange shows advertisers about the user of the current impression."""

    user_age: int
    user_zipcode: int


@dataclass
class AdvertiserSupertype(ph.Supertype):
    """An advertiser family's budget distribution (drawn anew every episode).

    Attributes:
        budget: Total the advertiser may spend in an episode.
    """

    budget: float | Sampler


# ------------------------------------------------------------------------------ agents
class PublisherAgent(ph.Agent):
    """Emits one impression request per impression and samples the user's click.

    The user of each impression is drawn uniformly among the users; clicks follow the
    user's probability for the ad's theme. Draws come from ``ctx.rng``, a block of
    impressions at a time.

    Args:
        agent_id: Id of the publisher.
        exchange_id: Id of the exchange it sends impressions to.
        click_probabilities: ``{user_id: {theme: probability}}`` (paper Table 1).
        block: Impressions drawn per call to the generator.
    """

    def __init__(
        self,
        agent_id: ph.AgentID,
        exchange_id: ph.AgentID,
        click_probabilities: Mapping[int, Mapping[str, float]] = CLICK_PROBABILITIES,
        block: int = 100,
    ) -> None:
        super().__init__(agent_id)
        self.exchange_id = exchange_id
        self.click_probabilities = {u: dict(p) for u, p in click_probabilities.items()}
        self.user_ids = tuple(self.click_probabilities)
        self.block = max(1, int(block))
        self.reset()

    def reset(self) -> None:
        self.user_id: int | None = None
        self.impressions = 0
        self.clicks = 0
        self._users: list[int] = []
        self._uniforms: list[float] = []
        self._uniform = 1.0

    def generate_messages(self, ctx: ph.Context) -> list[tuple[ph.AgentID, ph.MsgPayload]] | None:
        if ctx.env_view.current_stage != PUBLISHER_STAGE:
            return None
        if not self._users:
            rng = ctx.rng
            self._users = rng.integers(0, len(self.user_ids), size=self.block).tolist()
            self._uniforms = rng.random(self.block).tolist()
        self.user_id = self.user_ids[self._users.pop()]
        self._uniform = self._uniforms.pop()
        self.impressions += 1
        return [(self.exchange_id, ImpressionRequest(self.user_id))]

    @ph.agents.msg_handler(AdPlacement)
    def handle_ad_placement(self, ctx: ph.Context, message: ph.Message):
        ad = message.payload
        clicked = self._uniform < self.click_probabilities[self.user_id][ad.theme]
        self.clicks += clicked
        return [(ad.advertiser_id, ImpressionResult(clicked))]


class AdExchangeAgent(ph.Agent):
    """Forwards impressions to advertisers and auctions each one over their bids.

    The whole batch of bids of a stage is auctioned at once (``handle_batch``). Bids
    below ``min_bid`` do not take part. The highest bid wins, ties broken uniformly with
    ``ctx.rng``; the winner pays its bid (first price) or the second-highest bid, at
    least ``min_bid`` (second price: ``min_bid`` is the reserve price). Every bidder is
    told its result and cost, and the winning ad goes to the publisher.

    Args:
        agent_id: Id of the exchange.
        publisher_id: Id of the publisher.
        advertiser_ids: Ids of the advertisers (the only agents that see its view).
        auction: ``"first"`` or ``"second"`` price.
        min_bid: Smallest bid that takes part, and the reserve price.
        user_info: ``{user_id: UserInfo}`` exposed to advertisers through the view.
    """

    def __init__(
        self,
        agent_id: ph.AgentID,
        publisher_id: ph.AgentID,
        advertiser_ids: Iterable[ph.AgentID],
        auction: str = "first",
        min_bid: float = 0.01,
        user_info: Mapping[int, UserInfo] = USER_INFO,
    ) -> None:
        super().__init__(agent_id)
        self.publisher_id = publisher_id
        self.advertiser_ids = frozenset(advertiser_ids)
        self.second_price = auction == "second"
        self.min_bid = float(min_bid)
        self._views = {u: ExchangeView(i.age, i.zipcode) for u, i in user_info.items()}
        self.reset()

    def reset(self) -> None:
        self.user_id: int | None = None
        self.auctions = 0
        self.revenue = 0.0
        self._bidders: list[ph.AgentID] | None = None  # connected advertisers, per episode

    def view(self, neighbour_id: ph.AgentID | None = None) -> ExchangeView | None:
        """The current user's details, for advertisers only."""
        if neighbour_id in self.advertiser_ids and self.user_id is not None:
            return self._views[self.user_id]
        return None

    @ph.agents.msg_handler(ImpressionRequest)
    def handle_impression_request(self, ctx: ph.Context, message: ph.Message):
        self.user_id = message.payload.user_id
        if self._bidders is None:
            self._bidders = [i for i in ctx.neighbour_ids if i in self.advertiser_ids]
        payload = message.payload
        return [(i, payload) for i in self._bidders]

    def handle_batch(
        self, ctx: ph.Context, batch: Sequence[ph.Message]
    ) -> list[tuple[ph.AgentID, ph.MsgPayload]]:
        """Auction all bids of the batch at once; other messages go to their handlers."""
        bids = []
        replies: list[tuple[ph.AgentID, ph.MsgPayload]] = []
        for message in batch:
            if message.payload.__class__ is Bid:
                bids.append(message)
            else:
                replies.extend(self.handle_message(ctx, message) or ())
        if bids:
            replies.extend(self.run_auction(ctx, bids))
        return replies

    def run_auction(
        self, ctx: ph.Context, bids: Sequence[ph.Message]
    ) -> list[tuple[ph.AgentID, ph.MsgPayload]]:
        """Results for every bidder, plus the winning ad for the publisher if any."""
        replies: list[tuple[ph.AgentID, ph.MsgPayload]] = [(m.sender_id, _LOST) for m in bids]
        amounts = [m.payload.amount for m in bids]
        best = max(amounts)
        if not best >= self.min_bid:
            return replies
        ties = amounts.count(best)
        if ties == 1:
            winner = amounts.index(best)
        else:
            tied = [i for i, a in enumerate(amounts) if a == best]
            winner = tied[int(ctx.rng.integers(ties))]
        if not self.second_price:
            cost = best
        else:
            if ties > 1:
                second = best
            elif len(amounts) > 1:
                second = heapq.nlargest(2, amounts)[1]
            else:
                second = 0.0
            cost = max(second, self.min_bid)
        winner_id = bids[winner].sender_id
        replies[winner] = (winner_id, AuctionResult(True, cost))
        replies.append((self.publisher_id, AdPlacement(winner_id, bids[winner].payload.theme)))
        self.auctions += 1
        self.revenue += cost
        return replies


class AdvertiserAgent(ph.StrategicAgent):
    """Bids on impressions within its budget to collect clicks (learns).

    Observation: 13 numbers laid out as the ``OBS_*`` constants say, in ``[0, 1]``
    except the last, the agent's type (its budget), within the supertype's bounds. The
    agent appends its type itself, where type augmentation would put it, so the env
    runs with ``type_augmented_observations=False`` and each observation is built as one
    array. Action: ``Box(0, max_bid, (1,))``, the bid, capped to the remaining budget;
    bids below ``min_bid`` abstain. Reward: clicks of the step (0 or 1). Terminates once
    less than ``min_bid`` of budget is left.

    Args:
        agent_id: Id of the advertiser.
        exchange_id: Id of the exchange it bids at.
        theme: The theme of its ads (one of :data:`THEMES`).
        supertype: Its family's budget distribution.
        num_impressions: Impressions per episode (to scale elapsed time).
        max_bid: Upper bound of the action space.
        min_bid: Smallest bid that takes part in an auction.
    """

    def __init__(
        self,
        agent_id: ph.AgentID,
        exchange_id: ph.AgentID,
        theme: str,
        supertype: AdvertiserSupertype,
        num_impressions: int = 100,
        max_bid: float = 1.0,
        min_bid: float = 0.01,
    ) -> None:
        super().__init__(agent_id, supertype=supertype)
        self.exchange_id = exchange_id
        self.theme = theme
        self.theme_one_hot = tuple(float(t == theme) for t in THEMES)
        self.num_impressions = num_impressions
        self.max_bid = float(max_bid)
        self.min_bid = float(min_bid)
        type_low, type_high = supertype.bounds()
        self.observation_space = gym.spaces.Box(
            np.concatenate([np.zeros(OBS_BUDGET), type_low]).astype(np.float32),
            np.concatenate([np.ones(OBS_BUDGET), type_high]).astype(np.float32),
            dtype=np.float32,
        )
        self.action_space = gym.spaces.Box(0.0, self.max_bid, (1,), dtype=np.float32)
        self.budget = self.budget_left = 0.0

    def reset(self) -> None:
        self.budget = self.budget_left = float(self.type.budget)
        self.user_id = self.user_age = self.user_zipcode = 0  # 0: no impression yet
        self.total_clicks = self.total_wins = 0
        self.total_spent = self.bid = self.cost = self.clicks = 0.0
        self.won = False

    @ph.agents.msg_handler(ImpressionRequest)
    def handle_impression_request(self, ctx: ph.Context, message: ph.Message):
        self.user_id = message.payload.user_id
        view = ctx.view(message.sender_id)
        self.user_age = view.user_age
        self.user_zipcode = view.user_zipcode

    @ph.agents.msg_handler(AuctionResult)
    def handle_auction_result(self, ctx: ph.Context, message: ph.Message):
        result = message.payload
        if result.won:
            self.won = True
            self.cost = result.cost
            self.budget_left -= result.cost
            self.total_spent += result.cost
            self.total_wins += 1

    @ph.agents.msg_handler(ImpressionResult)
    def handle_impression_result(self, ctx: ph.Context, message: ph.Message):
        if message.payload.clicked:
            self.clicks = 1.0
            self.total_clicks += 1

    def render_state(self) -> str:
        """The advertiser's line in ``env.render()``: budget, last bid and outcome."""
        return (
            f"budget {self.budget_left:.3g}/{self.budget:.3g}  bid {self.bid:.3g}  "
            f"won {int(self.won)}  clicks {self.total_clicks}  spent {self.total_spent:.3g}"
        )

    def decode_action(self, ctx: ph.Context, action: Any):
        if self.won:  # clear the last auction's outcome; this step's arrives after the bid
            self.won = False
            self.cost = self.clicks = 0.0
        bid = one_number(self.id, action)
        if bid > self.max_bid:
            bid = self.max_bid
        if bid > self.budget_left:
            bid = self.budget_left
        if not bid >= self.min_bid:  # also catches NaN
            bid = 0.0
        self.bid = bid
        if self.exchange_id not in ctx:  # edge absent this episode (stochastic network)
            return None
        return [(self.exchange_id, Bid(bid, self.theme))]

    def encode_observation(self, ctx: ph.Context) -> np.ndarray:
        user = self.user_id
        travel, tech, sport = self.theme_one_hot
        return np.array(
            [
                self.budget_left / self.budget,
                (ctx.env_view.current_step // 2) / self.num_impressions,  # 2 stages each
                user == 1,
                user == 2,
                travel,
                tech,
                sport,
                self.user_age / AGE_SCALE,
                self.user_zipcode / ZIPCODE_SCALE,
                self.won,
                self.cost / self.max_bid,
                self.clicks,
                self.budget,
            ],
            dtype=np.float32,
        )

    def compute_reward(self, ctx: ph.Context) -> float:
        return self.clicks

    def is_terminated(self, ctx: ph.Context) -> bool:
        return self.budget_left < self.min_bid
