"""A hand-written, framework-free implementation of the supply chain's dynamics.

It is the *floor* the throughput benchmark compares phantomzoo against: the same
per-step dynamics (customers' random orders served from stock, restock arriving after
the step's sales, reward = sales - cost of carry x stock) written as a plain Python loop
over lists, with random draws batched per step. It returns the same per-shop
observations (as one array) and rewards, so the work done per step is comparable.
"""

from __future__ import annotations

import numpy as np


class PlainSupplyChain:
    """The supply chain without agents, messages or networks (a benchmark floor)."""

    def __init__(
        self,
        num_shops: int = 1,
        num_customers: int = 5,
        max_order_size: int = 5,
        shop_max_stock: int = 100,
        num_steps: int = 100,
        cost_of_carry: float = 0.1,
    ) -> None:
        self.num_shops = num_shops
        self.num_customers = num_customers
        self.max_order_size = max_order_size
        self.max_stock = shop_max_stock
        self.num_steps = num_steps
        self.cost_of_carry = cost_of_carry
        self.rng = np.random.default_rng(0)
        self.stock = [0] * num_shops
        self.t = 0

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.stock = [0] * self.num_shops
        self.t = 0
        return np.zeros((self.num_shops, 3), dtype=np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, list[float], bool]:
        """``actions``: restock quantities, shape (num_shops,) or (num_shops, 1)."""
        orders = self.rng.integers(
            0, self.max_order_size, size=(self.num_shops, self.num_customers)
        ).tolist()
        requests = np.rint(np.asarray(actions, dtype=np.float64).reshape(-1)).tolist()
        max_stock = self.max_stock
        coc = self.cost_of_carry
        stock = self.stock
        obs_rows = []
        rewards = []
        scale = self.num_customers * self.max_order_size
        for s in range(self.num_shops):
            on_hand = stock[s]
            request = max(min(int(requests[s]), max_stock - on_hand), 0)
            sales = missed = 0
            for quantity in orders[s]:
                if quantity > on_hand:
                    missed += quantity - on_hand
                    sales += on_hand
                    on_hand = 0
                else:
                    sales += quantity
                    on_hand -= quantity
            on_hand = min(on_hand + request, max_stock)
            stock[s] = on_hand
            obs_rows.append((on_hand / max_stock, sales / scale, missed / scale))
            rewards.append(sales - coc * on_hand)
        self.t += 1
        return np.array(obs_rows, dtype=np.float32), rewards, self.t >= self.num_steps
