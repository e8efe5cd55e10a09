"""A hand-written, framework-free implementation of the digital-ads market's dynamics.

It is the *floor* the ads throughput benchmark compares phantomzoo against: the same
impression loop (a user drawn per impression, bids capped to budgets, first- or
second-price auction with random tie breaks, a click drawn with the user's probability
for the winner's theme, budgets debited, advertisers terminating when spent) written as
plain Python over lists, with random draws batched as in the framework model. Each step
returns the observations of the advertisers that act next (plus those that just ended)
as one array, with the same 13 columns as the framework's observations, so the work per
advertiser-step is comparable.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

import numpy as np

from .agents import AGE_SCALE, CLICK_PROBABILITIES, OBS_SIZE, THEMES, USER_INFO, ZIPCODE_SCALE
from .model import DEFAULT_BUDGETS

StepResult = tuple[np.ndarray, list[float], list[bool], bool]


class PlainDigitalAds:
    """The digital-ads market without agents, messages or networks (a benchmark floor).

    Args:
        advertisers_per_family: Advertisers of each theme.
        auction: ``"first"`` or ``"second"`` price.
        num_steps: Impressions per episode.
        budgets: ``{theme: (low, high)}`` uniform budget ranges.
        max_bid: Largest bid.
        min_bid: Smallest bid taking part (second-price reserve; termination threshold).
    """

    def __init__(
        self,
        advertisers_per_family: int = 2,
        auction: str = "first",
        num_steps: int = 100,
        budgets: Mapping[str, Sequence[float]] = DEFAULT_BUDGETS,
        max_bid: float = 1.0,
        min_bid: float = 0.01,
    ) -> None:
        self.per_family = advertisers_per_family
        self.num_advertisers = 3 * advertisers_per_family
        self.second_price = auction == "second"
        self.num_steps = num_steps
        self.budget_ranges = [tuple(budgets[t]) for t in THEMES]
        self.max_bid = max_bid
        self.min_bid = min_bid
        self.themes = [k for k in range(len(THEMES)) for _ in range(advertisers_per_family)]
        self.probabilities = {u: [p[t] for t in THEMES] for u, p in CLICK_PROBABILITIES.items()}
        self.user_ids = list(CLICK_PROBABILITIES)
        # Per user: one-hot, age and zipcode columns of the observation.
        self.user_columns = {
            u: (float(u == 1), float(u == 2), i.age / AGE_SCALE, i.zipcode / ZIPCODE_SCALE)
            for u, i in USER_INFO.items()
        }
        self.block = min(num_steps, 256)
        self.rng = np.random.default_rng(0)
        self.reset(0)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Start an episode; the observations of every advertiser (all act first)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        rng = self.rng
        self.budget: list[float] = []
        for low, high in self.budget_ranges:
            self.budget.extend(rng.uniform(low, high, size=self.per_family).tolist())
        n = self.num_advertisers
        self.left = list(self.budget)
        self.won = [0.0] * n
        self.cost = [0.0] * n
        self.clicked = [0.0] * n
        self.live = list(range(n))
        self.t = 0
        self._users: list[int] = []
        self._uniforms: list[float] = []
        self._next_impression()
        return self._observe(self.live)

    def _next_impression(self) -> None:
        if not self._users:
            self._users = self.rng.integers(0, len(self.user_ids), size=self.block).tolist()
            self._uniforms = self.rng.random(self.block).tolist()
        self.user = self.user_ids[self._users.pop()]
        self.uniform = self._uniforms.pop()

    def step(self, bids: np.ndarray) -> StepResult:
        """Auction the current impression among the live advertisers.

        Args:
            bids: One bid per live advertiser (in ``self.live`` order), shape ``(n,)`` or
                ``(n, 1)``.

        Returns:
            ``(observations, rewards, terminated, done)``: observations of the
            advertisers acting next followed by those that just ended, and rewards and
            termination flags of the advertisers that just acted (``live`` order).
        """
        live = self.live
        amounts = np.asarray(bids, dtype=np.float64).reshape(-1).tolist()
        left, won, cost, clicked = self.left, self.won, self.cost, self.clicked
        max_bid, min_bid = self.max_bid, self.min_bid
        for k, i in enumerate(live):
            bid = amounts[k]
            bid = max_bid if bid > max_bid else bid
            bid = left[i] if bid > left[i] else bid
            amounts[k] = bid if bid >= min_bid else 0.0
            won[i] = cost[i] = clicked[i] = 0.0
        rewards = [0.0] * len(live)
        winner = self._auction(amounts)
        if winner is not None:
            k, price = winner
            i = live[k]
            won[i], cost[i] = 1.0, price
            left[i] -= price
            if self.uniform < self.probabilities[self.user][self.themes[i]]:
                clicked[i] = rewards[k] = 1.0
        self.t += 1
        done = self.t >= self.num_steps
        terminated = [left[i] < min_bid for i in live]
        ended = live if done else [i for i, end in zip(live, terminated) if end]
        self.live = [] if done else [i for i, end in zip(live, terminated) if not end]
        if self.live:
            self._next_impression()
        return self._observe(self.live + ended), rewards, terminated, not self.live

    def _auction(self, amounts: list[float]) -> tuple[int, float] | None:
        """``(position of the winner, price)``, or ``None`` when nobody takes part."""
        if not amounts:
            return None
        best = max(amounts)
        if not best >= self.min_bid:
            return None
        ties = amounts.count(best)
        if ties == 1:
            k = amounts.index(best)
        else:
            k = [j for j, a in enumerate(amounts) if a == best][int(self.rng.integers(ties))]
        if not self.second_price:
            return k, best
        if ties > 1:
            second = best
        elif len(amounts) > 1:
            second = heapq.nlargest(2, amounts)[1]
        else:
            second = 0.0
        return k, max(second, self.min_bid)

    def _observe(self, indices: list[int]) -> np.ndarray:
        user_id1, user_id2, age, zipcode = self.user_columns[self.user]
        elapsed = self.t / self.num_steps
        max_bid = self.max_bid
        left, budget, themes = self.left, self.budget, self.themes
        won, cost, clicked = self.won, self.cost, self.clicked
        rows = [
            (
                left[i] / budget[i],
                elapsed,
                user_id1,
                user_id2,
                float(themes[i] == 0),
                float(themes[i] == 1),
                float(themes[i] == 2),
                age,
                zipcode,
                won[i],
                cost[i] / max_bid,
                clicked[i],
                budget[i],
            )
            for i in indices
        ]
        return np.array(rows, dtype=np.float32).reshape(len(indices), OBS_SIZE)
