"""One policy interface: compute_actions(observations, rng=None) for every kind of policy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from models import ConstantPolicy, PingEnv

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.envs.supply_chain_paper import CostTablePolicy
from phantomzoo.errors import ActionError, ConfigError
from phantomzoo.experiments.evaluation import as_trained, episode_returns, pooled_returns
from phantomzoo.policy import RandomPolicy, checked_actions

OBS = gym.spaces.Box(0.0, 1.0, (3,))
BOX = gym.spaces.Box(0.0, 100.0, (1,))
OBSERVATIONS = [np.array([0.1, 0.2, 0.3]), np.array([0.9, 0.8, 0.7]), np.array([0.5, 0.5, 0.5])]


class Legacy(ph.Policy):
    """A batch override written before rng existed."""

    def compute_actions(self, observations):
        """Doubles the first entry."""
        return [2 * float(o[0]) for o in observations]


class Noisy(ph.Policy):
    """A fixed policy that explores with the caller's generator."""

    def compute_actions(self, observations, rng=None):
        if rng is None:
            return [0.0 for _ in observations]
        return list(rng.uniform(size=len(observations)))


def _mlp(action_space, seed=0):
    rng = np.random.default_rng(seed)
    out = action_space.n if isinstance(action_space, gym.spaces.Discrete) else action_space.shape[0]
    layers = [(rng.normal(size=(3, 8)), rng.normal(size=8))]
    head = (rng.normal(size=(8, out)), rng.normal(size=out))
    return ph.MLPPolicy(OBS, action_space, layers, head, log_std=np.zeros(out))


@pytest.mark.parametrize(
    "policy",
    [
        ConstantPolicy(OBS, BOX, value=3),
        Legacy(OBS, BOX),
        OrderUpToPolicy(OBS, BOX, level=20),
        CostTablePolicy(OBS, BOX, table={0.1: 30, 0.9: 10}),
        _mlp(BOX),
        _mlp(gym.spaces.Discrete(3)),
    ],
    ids=["compute_action only", "legacy batch", "order-up-to", "cost table", "mlp box", "mlp disc"],
)
def test_every_deterministic_policy_takes_rng_and_acts_once_per_observation(policy):
    plain = policy.compute_actions(OBSERVATIONS)
    assert len(plain) == len(OBSERVATIONS)
    singles = [policy.compute_action(o) for o in OBSERVATIONS]
    np.testing.assert_allclose(np.asarray(plain, float), np.asarray(singles, float))
    if not isinstance(policy, ph.MLPPolicy):  # deterministic: the generator is unused
        again = policy.compute_actions(OBSERVATIONS, rng=np.random.default_rng(0))
        np.testing.assert_array_equal(np.asarray(again, float), np.asarray(plain, float))


def test_legacy_batch_overrides_are_adapted_and_keep_their_name_and_docs():
    policy = Legacy(OBS, BOX)
    assert policy.compute_actions(OBSERVATIONS, rng=np.random.default_rng(1)) == [0.2, 1.8, 1.0]
    assert Legacy.compute_actions.__name__ == "compute_actions"
    assert Legacy.compute_actions.__doc__ == "Doubles the first entry."
    assert Noisy.compute_actions is Noisy.__dict__["compute_actions"]  # takes rng: untouched


def test_mlp_samples_only_with_an_rng_and_repeats_with_its_seed():
    policy = _mlp(BOX)
    plain = policy.compute_actions(OBSERVATIONS)
    assert plain == policy.compute_actions(OBSERVATIONS)
    first = policy.compute_actions(OBSERVATIONS, rng=np.random.default_rng(4))
    again = policy.compute_actions(OBSERVATIONS, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(np.asarray(first), np.asarray(plain))


def test_random_policy_draws_from_its_own_seed_not_the_rng():
    first = RandomPolicy(OBS, BOX, seed=3).compute_actions(OBSERVATIONS)
    other = RandomPolicy(OBS, BOX, seed=3).compute_actions(
        OBSERVATIONS, rng=np.random.default_rng(99)
    )
    np.testing.assert_array_equal(first, other)


def test_trained_policies_pass_the_rng_to_fixed_and_trained_policies_alike():
    policies = ph.TrainedPolicies(
        {"noisy": Noisy(OBS, BOX), "mlp": _mlp(BOX)}, {"A": "noisy", "B": "mlp"}
    )
    obs = {"A": OBSERVATIONS[0], "B": OBSERVATIONS[1]}
    assert policies.compute_actions(obs)["A"] == 0.0
    sampled = policies.compute_actions(obs, rng=np.random.default_rng(7))
    assert sampled["A"] == np.random.default_rng(7).uniform(size=1)[0]
    assert list(sampled) == ["A", "B"]


def test_evaluate_policy_explores_with_fixed_policies_too():
    trained = ph.TrainedPolicies({"noisy": Noisy(OBS, BOX)}, {"A": "noisy"})
    rows = ph.evaluate_policy(trained, "noisy", [0.0, 0.0, 0.0], explore=True, seed=2)
    assert rows[0][2] == np.random.default_rng(2).uniform(size=1)[0]
    assert ph.evaluate_policy(trained, "noisy", [0.0, 0.0, 0.0])[0][2] == 0.0


# ------------------------------------------------------------------------ errors
class TooMany(ph.Policy):
    def compute_actions(self, observations, rng=None):
        return [1] * (len(observations) + 1)


class Lazy(ph.Policy):
    def compute_actions(self, observations, rng=None):
        return (1 for _ in observations)


def test_checked_actions_names_the_policy_that_returned_the_wrong_count():
    with pytest.raises(
        ActionError, match=r"policy 'shop' \(TooMany\).compute_actions returned 4 action\(s\) "
    ):
        checked_actions(TooMany(OBS, BOX), "shop", OBSERVATIONS)
    with pytest.raises(ActionError, match=r"policy 'shop' \(Lazy\).*returned generator, not a"):
        checked_actions(Lazy(OBS, BOX), "shop", OBSERVATIONS)


def test_trained_policies_and_evaluation_refuse_a_wrong_count_by_policy_id():
    env = PingEnv(num_steps=2)
    spaces = env.observation_space("A"), env.action_space("A")
    policies = ph.TrainedPolicies({"greedy": TooMany(*spaces)}, {"A": "greedy", "B": "greedy"})
    with pytest.raises(ActionError, match=r"policy 'greedy' \(TooMany\).*3 action\(s\) for 2"):
        policies.compute_actions({"A": np.zeros(1), "B": np.zeros(1)})
    with pytest.raises(ActionError, match="policy 'greedy'"):
        ph.evaluate(env, policies, num_episodes=1)
    with pytest.raises(ActionError, match="policy 'shared' \\(TooMany\\)"):
        episode_returns(env, TooMany(*spaces), 1)


def test_policy_mappings_are_checked_and_shared_objects_batched():
    env = PingEnv(num_steps=3)
    spaces = env.observation_space("A"), env.action_space("A")
    with pytest.raises(ConfigError, match=r"no policy given for agent\(s\) \['B'\]"):
        as_trained(env, {"A": ConstantPolicy(*spaces)})
    with pytest.raises(ConfigError, match="the policy of agent 'B' must be a ph.Policy instance"):
        as_trained(env, {"A": ConstantPolicy(*spaces), "B": 3})
    with pytest.raises(ConfigError, match="policies must be trained policies, a ph.Policy"):
        as_trained(env, 3)
    sizes = []

    class Counting(ConstantPolicy):
        def compute_actions(self, observations, rng=None):
            sizes.append(len(observations))
            return super().compute_actions(observations, rng)

    shared = Counting(*spaces, value=2)
    returns = episode_returns(env, {"A": shared, "B": shared}, 2, seed=1)
    assert sizes == [2] * 6 and returns["A"].tolist() == [6.0, 6.0]
    assert pooled_returns(env, shared, 2, seed=1).tolist() == [6.0, 6.0, 6.0, 6.0]


def test_episode_counts_are_checked():
    env = PingEnv()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="num_episodes must be an int >= 1"):
            episode_returns(env, ConstantPolicy(env.observation_space("A"), BOX), bad)


def test_a_policy_implementing_neither_method_says_which_to_write():
    with pytest.raises(NotImplementedError, match="must implement compute_action"):
        ph.Policy(OBS, BOX).compute_actions(OBSERVATIONS)
