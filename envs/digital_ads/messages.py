"""Message payloads of the digital-ads market (who sends each to whom is in its docstring)."""

from __future__ import annotations

import phantomzoo as ph


class ImpressionRequest(ph.MsgPayload):
    """Publisher --> Exchange --> Advertisers: a user is on the website."""

    user_id: int


class Bid(ph.MsgPayload):
    """Advertiser --> Exchange: the bid on the current impression (0: abstain)."""

    amount: float
    theme: str


class AuctionResult(ph.MsgPayload):
    """Exchange --> Advertiser: whether its bid won and what it pays (0 unless it won)."""

    won: bool
    cost: float


class AdPlacement(ph.MsgPayload):
    """Exchange --> Publisher: the winning ad, to be shown to the current user."""

    advertiser_id: str
    theme: str


class ImpressionResult(ph.MsgPayload):
    """Publisher --> Advertiser (the auction's winner): whether the user clicked."""

    clicked: bool
