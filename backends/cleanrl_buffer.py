"""cleanrl's rollout buffer for agents that act when they must and are paid when they are.

CleanRL's ``ppo.py`` stores a ``(num_steps, num_envs)`` grid: every env acts every step
and is rewarded at once. In an agent-based model only the *acting* agents decide in a
step, agents end at different times, and a reward may arrive turns after the action
that earned it. :class:`Transitions` therefore stores decisions as rows in the order
they are made and follows each agent separately:

* a **slot** is one (env copy, agent of the policy); ``pending[slot]`` is the row of its
  latest decision whose trajectory is still open (-1: none);
* a **reward**, whenever it arrives, is added to the slot's pending row: the action
  that earned it;
* a new decision of the slot **links** the pending row to the new one (``next``), so the
  pending row's next value is the value of that next decision;
* a trajectory that **ends** stores its bootstrap value on its pending row (0 when
  terminated, V(final observation) when truncated) and closes the slot;
* at the end of the rollout every still-open row bootstraps from the agent's current
  observation if it acts now, else from its own value (:meth:`bootstrap_open`); a reward
  arriving after that is not credited to it.

**Invariant.** Rows are appended in chunks (one per ``add`` call, i.e. per env step),
and a row's successor (``next``) always lies in a *later* chunk, because a slot decides
at most once per step. GAE can therefore run over the chunks in reverse, each chunk as
one vectorised update, with every successor's advantage already computed.

The buffer also keeps, per slot, the running discounted return that the reward
normaliser learns its scale from (``discounted``, ``returns_seen``), and, for a policy
whose agents have action masks, each decision's mask (``masks``), so that the update
evaluates log-probabilities and entropies over the same legal actions as the rollout.
"""

from __future__ import annotations

import numpy as np


class Transitions:
    """One learnt policy's rollout (see the module docs).

    Args:
        num_slots: ``num_envs * number of agents of the policy``.
        capacity: Most rows one rollout can hold (``num_steps * num_slots``).
        obs_dim: Flattened observation size.
        action_shape / action_dtype: Of one stored (trainer-space) action.
        gamma: Discount per decision.
        mask_dim: Length of one action mask (``None``: the policy is not masked).
    """

    def __init__(
        self,
        num_slots: int,
        capacity: int,
        obs_dim: int,
        action_shape: tuple[int, ...],
        action_dtype: type,
        gamma: float,
        mask_dim: int | None = None,
    ) -> None:
        self.gamma = gamma
        self.masks = None if mask_dim is None else np.ones((capacity, mask_dim), bool)
        self.pending = np.full(num_slots, -1)  # slot -> its open row
        self.discounted = np.zeros(num_slots)  # slot -> running discounted return
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros((capacity, *action_shape), action_dtype)
        self.logp, self.values = np.zeros(capacity, np.float32), np.zeros(capacity, np.float32)
        self.rewards, self.boot = np.zeros(capacity), np.zeros(capacity)
        self.next = np.full(capacity, -1)
        self.size = 0
        self.chunks: list[tuple[int, int]] = []
        self.returns_seen: list[np.ndarray] = []

    def add(
        self,
        slots: np.ndarray,
        obs: np.ndarray,
        actions: np.ndarray,
        logp: np.ndarray,
        values: np.ndarray,
        masks: np.ndarray | None = None,
    ) -> slice:
        """Record one decision per slot (one chunk); returns the rows written."""
        start, end = self.size, self.size + len(slots)
        if self.masks is not None:
            self.masks[start:end] = True if masks is None else masks
        rows = np.arange(start, end)
        self.obs[start:end], self.actions[start:end] = obs, actions
        self.logp[start:end], self.values[start:end] = logp, values
        self.rewards[start:end], self.boot[start:end], self.next[start:end] = 0.0, 0.0, -1
        previous = self.pending[slots]
        self.next[previous[previous >= 0]] = rows[previous >= 0]
        self.pending[slots] = rows
        self.returns_seen.append(self.discounted[slots])
        self.discounted[slots] *= self.gamma
        self.size = end
        self.chunks.append((start, end))
        return slice(start, end)

    def credit(self, slots: np.ndarray, rewards: np.ndarray) -> None:
        """Add rewards to each slot's pending row (the action that earned them)."""
        open_ = self.pending[slots]
        np.add.at(self.rewards, open_[open_ >= 0], rewards[open_ >= 0])
        np.add.at(self.discounted, slots, rewards)

    def end(self, slots: np.ndarray, boot_values: np.ndarray) -> None:
        """Close the slots' trajectories; ``boot_values``: 0 if terminated, V(final obs)."""
        open_ = self.pending[slots]
        self.boot[open_[open_ >= 0]] = boot_values[open_ >= 0]
        self.returns_seen.append(self.discounted[slots[open_ >= 0]])
        self.pending[slots], self.discounted[slots] = -1, 0.0

    def bootstrap_open(self, slots: np.ndarray, values_now: np.ndarray) -> None:
        """End of rollout: open rows bootstrap from their own value, or from
        ``values_now`` (V of the current observation) for the ``slots`` that act now."""
        open_ = self.pending[self.pending >= 0]
        self.boot[open_] = self.values[open_]
        if len(slots):
            index = self.pending[slots]
            self.boot[index[index >= 0]] = values_now[index >= 0]

    def open_rows(self, slots: np.ndarray) -> np.ndarray:
        """Which of ``slots`` have an open row (a mask)."""
        return self.pending[slots] >= 0

    def gae(self, rewards: np.ndarray, gae_lambda: float) -> tuple[np.ndarray, np.ndarray]:
        """Advantages and returns of the rollout's rows (``rewards``: possibly scaled).

        Relies on the invariant of the module docs: successors lie in later chunks.
        """
        n, gamma = self.size, self.gamma
        values, nxt = self.values[:n].astype(np.float64), self.next[:n]
        linked = nxt >= 0
        follow = np.where(linked, nxt, n)  # row n holds a zero: the recursion stops there
        next_values = np.where(linked, np.append(values, 0.0)[follow], self.boot[:n])
        delta = rewards + gamma * next_values - values
        adv = np.zeros(n + 1)
        for start, end in reversed(self.chunks):
            adv[start:end] = delta[start:end] + gamma * gae_lambda * adv[follow[start:end]]
        return adv[:n], adv[:n] + values

    def clear(self) -> None:
        """Empty the buffer for the next rollout (slots' discounted returns carry on)."""
        self.size, self.chunks, self.returns_seen = 0, [], []
        self.pending[:] = -1
