"""Games whose equilibria and best responses are known in closed form (for exploitability).

:class:`CournotEnv` is a discrete Cournot duopoly. Each step both firms choose a quantity
``q in {0, ..., 6}`` and send it to the rival; each earns ``q * (a - q - q_rival)``, where
the demand intercept ``a`` is drawn from ``{11, 12, 13}`` (uniform, the episode's
generator, one draw per firm per step, whatever the actions). The observation is a
constant, so a policy is one quantity. With ``E[a] = 12``:

* the best response to ``q_rival`` maximises ``q (12 - q - q_rival)``: ``(12 - q_rival) / 2``
  (to 4: 4, earning 16; to 2: 5, earning 25);
* the Nash equilibrium is ``q = 4`` for both (16 each per step);
* a firm playing 1 against 4 earns 7 per step: its best response (4) gains 9;
* both firms sharing one policy that plays 2 earn 16 each; one firm deviating alone
  (to the best response 5) earns 25: a gain of 9;
* both firms sharing one policy that plays 1 earn 10 each; when both re-learn together
  (each maximising its own profit, one shared policy: a symmetric play) they reach the
  symmetric equilibrium 4, earning 16: a gain of 6.

:func:`constant_mlp` builds a trained-policy object (an MLP) that always plays one action.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import phantomzoo as ph

QUANTITIES = 7
INTERCEPTS = (11, 12, 13)


class Quantity(ph.MsgPayload):
    value: int


class Firm(ph.StrategicAgent):
    """Chooses a quantity, tells the rival, earns ``q * (a - q - q_rival)``."""

    def __init__(self, agent_id: str, rival: str) -> None:
        super().__init__(agent_id)
        self.rival = rival
        self.quantity = 0
        self.rival_quantity = 0
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(1,))
        self.action_space = gym.spaces.Discrete(QUANTITIES)

    def reset(self) -> None:
        self.quantity = 0
        self.rival_quantity = 0

    def decode_action(self, ctx, action):
        self.quantity = int(action)
        return [(self.rival, Quantity(self.quantity))]

    @ph.agents.msg_handler(Quantity)
    def on_quantity(self, ctx, message):
        self.rival_quantity = message.payload.value

    def encode_observation(self, ctx):
        return np.zeros(1, dtype=np.float32)

    def compute_reward(self, ctx):
        intercept = INTERCEPTS[int(ctx.rng.integers(len(INTERCEPTS)))]
        return float(self.quantity * (intercept - self.quantity - self.rival_quantity))


class CournotEnv(ph.PhantomEnv):
    """Two firms, "A" and "B", in a repeated discrete Cournot duopoly."""

    def __init__(self, num_steps: int = 1) -> None:
        network = ph.Network([Firm("A", "B"), Firm("B", "A")])
        network.add_connection("A", "B")
        super().__init__(num_steps=num_steps, network=network)


def constant_mlp(action: int, n: int = QUANTITIES) -> ph.MLPPolicy:
    """A (hand-built) trained policy of :class:`Firm` that always chooses ``action``."""
    bias = np.zeros(n)
    bias[action] = 10.0
    head = (np.zeros((1, n)), bias)
    return ph.MLPPolicy(gym.spaces.Box(0.0, 1.0, shape=(1,)), gym.spaces.Discrete(n), [], head)


class QuantityPolicy(ph.Policy):
    """A hand-written (fixed) policy: always the quantity ``config["value"]``."""

    def compute_action(self, observation):
        return int(self.config.get("value", 4))
