"""The supply chain's four message payloads (shared by the agents and their batched twins)."""

from __future__ import annotations

import phantomzoo as ph


class OrderRequest(ph.MsgPayload):
    """Customer --> Shop: units wanted."""

    size: int


class OrderResponse(ph.MsgPayload):
    """Shop --> Customer: units delivered."""

    size: int


class StockRequest(ph.MsgPayload):
    """Shop --> Factory: units to restock."""

    size: int


class StockResponse(ph.MsgPayload):
    """Factory --> Shop: units delivered."""

    size: int
