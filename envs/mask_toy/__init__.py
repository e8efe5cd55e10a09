"""Mask toy: shops order stock into a small warehouse; ordering past free capacity is illegal.

=================  ==========================================================
Agents             ``SHOP1..n`` (strategic), no other agents, no connections
Observation        ``Box(0, 1, (2,))``: stock / capacity, last demand / capacity;
                   with ``dict_observations=True`` PettingZoo's classic form
                   ``{"observation": that Box, "action_mask": the mask}``
Action             ``Discrete(capacity + 1)``: units to order, delivered at once
Action mask        order ``q`` is legal iff ``q <= capacity - stock`` (free space);
                   ``infos[shop]["action_mask"]``, computed after each step
Reward             ``price`` × units sold − ``unit_cost`` × units ordered −
                   ``holding_cost`` × stock left at the end of the step
Stages             none; ``num_steps`` steps (default 20)
Randomness         demand ``integers(0, capacity + 1)`` per shop per step, from the
                   episode generator (``ctx.rng``)
=================  ==========================================================

A step: the order arrives, customers buy ``min(stock, demand)``, the rest is held. An
order past the free space is illegal: the engine refuses it against the mask with
:class:`~phantomzoo.errors.ActionError` at every check level but ``"off"``, so a trainer
that ignores masks crashes on its first illegal sample, and one that honours them
learns. (With ``checks="off"`` nothing is refused: the shop then orders only what
fits.) The sensible rule is to refill to capacity (:class:`RefillPolicy`);
:func:`uniform_legal_returns` is the baseline of ordering a uniformly random legal
amount.

PettingZoo's ``parallel_api_test`` samples legal actions only from masks in Dict
observations (its AEC ``api_test`` reads ``infos`` too), and its ``max_cycles_test``
ignores masks altogether, so its suite runs this model with ``dict_observations=True``
and ``checks="off"``; the bundled trainers use the default Box form and checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.validate import check_int, check_number

from .._pz import episode_length

#: Largest accepted ``num_shops``, ``num_steps`` and ``capacity``.
MAX_SHOPS = 100_000
MAX_STEPS = 10**9
MAX_CAPACITY = 1_000


class MaskedShop(ph.StrategicAgent):
    """A shop whose legal orders are limited by its warehouse's free space.

    Args:
        agent_id: The shop's id.
        capacity: Units the warehouse holds.
        price / unit_cost / holding_cost: Of a unit sold, ordered, held for a step.
        dict_observations: Observe ``{"observation": Box}`` (the engine adds
            ``"action_mask"``) instead of the Box itself.
    """

    def __init__(
        self,
        agent_id: str,
        capacity: int,
        price: float,
        unit_cost: float,
        holding_cost: float,
        dict_observations: bool = False,
    ) -> None:
        super().__init__(agent_id)
        self.capacity, self.price = capacity, price
        self.unit_cost, self.holding_cost = unit_cost, holding_cost
        self.dict_observations = dict_observations
        box = gym.spaces.Box(0.0, 1.0, (2,), np.float32)
        self.observation_space = gym.spaces.Dict({"observation": box}) if dict_observations else box
        self.action_space = gym.spaces.Discrete(capacity + 1)
        self.reset()

    def reset(self) -> None:
        self.stock, self.ordered, self.sold, self.demand = 0, 0, 0, 0

    def action_mask(self, ctx: ph.Context) -> np.ndarray:
        """Orders up to the free space are legal (ordering nothing always is)."""
        mask = np.zeros(self.capacity + 1, np.int8)
        mask[: self.capacity - self.stock + 1] = 1
        return mask

    def decode_action(self, ctx: ph.Context, action: Any) -> None:
        # The engine has refused masked-out orders (unless checks="off"): keep what fits.
        order = int(np.asarray(action).reshape(-1)[0])
        self.ordered = min(max(order, 0), self.capacity - self.stock)
        return None

    def post_message_resolution(self, ctx: ph.Context) -> None:
        self.stock += self.ordered
        self.demand = int(ctx.rng.integers(0, self.capacity + 1))
        self.sold = min(self.stock, self.demand)
        self.stock -= self.sold

    def encode_observation(self, ctx: ph.Context) -> Any:
        obs = np.array([self.stock, self.demand], np.float32) / np.float32(self.capacity)
        return {"observation": obs} if self.dict_observations else obs

    def compute_reward(self, ctx: ph.Context) -> float:
        return (
            self.price * self.sold - self.unit_cost * self.ordered - self.holding_cost * self.stock
        )

    def render_state(self) -> str:
        """The shop's line in ``env.render()``."""
        return (
            f"stock {self.stock}/{self.capacity}  ordered {self.ordered}  "
            f"sold {self.sold} of {self.demand}"
        )


class MaskToyEnv(ph.PhantomEnv):
    """``num_shops`` independent shops with masked orders (see the module docs).

    Args:
        num_shops: Number of shops (an int in 1..100,000).
        num_steps: Steps per episode (an int in 1..10**9).
        capacity: Warehouse capacity of each shop (an int in 1..1000).
        price / unit_cost / holding_cost: Finite numbers >= 0.
        dict_observations: PettingZoo's classic Dict observations (see the module docs).
        checks: Runtime checks, ``"first"`` (default), ``"full"`` or ``"off"``.
        max_cycles: PettingZoo's name for ``num_steps``.
        render_mode: ``None``, ``"ansi"`` or ``"human"``.
    """

    metadata: dict[str, Any] = {**ph.PhantomEnv.metadata, "name": "mask_toy_v0"}

    def __init__(
        self,
        num_shops: int = 2,
        num_steps: int = 20,
        capacity: int = 4,
        price: float = 1.0,
        unit_cost: float = 0.5,
        holding_cost: float = 0.05,
        dict_observations: bool = False,
        checks: str | None = None,
        max_cycles: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        num_steps = episode_length("mask_toy", "num_steps", num_steps, 20, max_cycles, MAX_STEPS)
        num_shops = check_int("mask_toy", "num_shops", num_shops, 1, MAX_SHOPS)
        num_steps = check_int("mask_toy", "num_steps", num_steps, 1, MAX_STEPS)
        capacity = check_int("mask_toy", "capacity", capacity, 1, MAX_CAPACITY)
        costs = {"price": price, "unit_cost": unit_cost, "holding_cost": holding_cost}
        for name, value in costs.items():
            costs[name] = check_number("mask_toy", name, value, 0.0)
        if not isinstance(dict_observations, (bool, np.bool_)):
            raise ConfigError(
                f"mask_toy: dict_observations must be True or False, got {dict_observations!r}"
            )
        shops = [
            MaskedShop(f"SHOP{i + 1}", capacity, **costs, dict_observations=bool(dict_observations))
            for i in range(num_shops)
        ]
        super().__init__(
            num_steps=num_steps, network=ph.Network(shops), checks=checks, render_mode=render_mode
        )


class RefillPolicy(ph.Policy):
    """The heuristic: order exactly the free space (refill to capacity), always legal.

    Config: ``capacity`` (the env's, default 4).
    """

    def compute_action(self, observation: Any) -> int:
        capacity = int(self.config.get("capacity", 4))
        if isinstance(observation, dict):
            observation = observation["observation"]
        stock = int(round(float(np.asarray(observation).reshape(-1)[0]) * capacity))
        return max(0, capacity - stock)


def uniform_legal_returns(env: MaskToyEnv, num_episodes: int, seed: int = 0) -> np.ndarray:
    """Mean return per shop per episode of ordering a uniformly random legal amount
    (the masks from ``infos``; draws from ``default_rng(seed)``)."""
    rng = np.random.default_rng(seed)
    totals = []
    for episode in range(num_episodes):
        _, infos = env.reset(seed=seed + episode)
        total = 0.0
        while env.agents:
            actions = {a: int(rng.choice(np.flatnonzero(infos[a]["action_mask"]))) for a in infos}
            _, rewards, _, _, infos = env.step(actions)
            infos = {a: infos[a] for a in env.agents}
            total += sum(rewards.values())
        totals.append(total / len(env.possible_agents))
    return np.asarray(totals)


raw_env = MaskToyEnv


def parallel_env(**kwargs: Any) -> MaskToyEnv:
    """The mask toy as a PettingZoo ``ParallelEnv``."""
    return MaskToyEnv(**kwargs)


def env(**kwargs: Any) -> Any:
    """The mask toy as a PettingZoo ``AECEnv`` (shops act one after another)."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(MaskToyEnv(**kwargs))


__all__: Sequence[str] = [
    "MaskToyEnv",
    "MaskedShop",
    "RefillPolicy",
    "env",
    "parallel_env",
    "raw_env",
    "uniform_legal_returns",
]
