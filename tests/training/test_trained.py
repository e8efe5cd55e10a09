from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs.supply_chain import OrderUpToPolicy
from phantomzoo.errors import TrainingError
from phantomzoo.training.trained import MLPPolicy, space_from_json, space_to_json


def _mlp(action_space, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    obs_space = gym.spaces.Box(0, 1, (3,))
    out = action_space.n if isinstance(action_space, gym.spaces.Discrete) else action_space.shape[0]
    layers = [
        (rng.normal(size=(3, 8)), rng.normal(size=8)),
        (rng.normal(size=(8, 8)), rng.normal(size=8)),
    ]
    head = (rng.normal(size=(8, out)), rng.normal(size=out))
    return MLPPolicy(obs_space, action_space, layers, head, **kwargs)


def test_mlp_forward_matches_a_hand_computation():
    policy = _mlp(gym.spaces.Box(0.0, 100.0, (1,)))
    obs = np.array([0.2, 0.5, 0.1])
    x = np.tanh(obs @ policy.layers[0][0] + policy.layers[0][1])
    x = np.tanh(x @ policy.layers[1][0] + policy.layers[1][1])
    mean = x @ policy.head[0] + policy.head[1]
    expected = 0.0 + (np.clip(mean, -1, 1) + 1) * 0.5 * 100.0
    np.testing.assert_allclose(policy.compute_action(obs), expected, rtol=1e-6)


def test_discrete_actions_are_argmax_and_sampling_follows_the_rng():
    policy = _mlp(gym.spaces.Discrete(4))
    obs = [np.array([0.1, 0.2, 0.3]), np.array([0.9, 0.8, 0.7])]
    assert all(isinstance(a, int) and 0 <= a < 4 for a in policy.compute_actions(obs))
    first = policy.compute_actions(obs, rng=np.random.default_rng(1))
    assert first == policy.compute_actions(obs, rng=np.random.default_rng(1))


def test_observation_normalisation_and_clip_scaling():
    policy = _mlp(
        gym.spaces.Box(-1.0, 1.0, (1,)),
        obs_mean=np.array([0.5, 0.5, 0.5]),
        obs_var=np.array([0.25, 0.25, 0.25]),
        action_scaling="clip",
    )
    action = policy.compute_action(np.array([0.5, 0.5, 0.5]))
    assert -1.0 <= action[0] <= 1.0


def test_spaces_round_trip_through_json():
    for space in (gym.spaces.Box(-1, 2, (3,)), gym.spaces.Discrete(5, start=1)):
        assert space_from_json(space_to_json(space)) == space
    with pytest.raises(TrainingError, match="support Box and Discrete"):
        space_to_json(gym.spaces.MultiBinary(3))


def test_trained_policies_save_and_load_without_pickle(tmp_path):
    env = ph.make("supply_chain_v0", num_shops=2)
    learnt = _mlp(gym.spaces.Box(0.0, 100.0, (1,)))
    learnt.observation_space = env.observation_space("SHOP1")
    fixed = OrderUpToPolicy(env.observation_space("SHOP2"), env.action_space("SHOP2"), level=20)
    policies = ph.TrainedPolicies(
        {"learnt": learnt, "heuristic": fixed},
        {"SHOP1": "learnt", "SHOP2": "heuristic"},
        {"kind": "registered", "name": "supply_chain_v0", "config": {"num_shops": 2}},
    )
    obs, _ = env.reset(seed=0)
    before = policies.compute_actions(obs)
    policies.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "policy_0.npz"]
    loaded = ph.load_policies(tmp_path)
    after = loaded.compute_actions(obs)
    for agent_id in obs:
        np.testing.assert_array_equal(before[agent_id], after[agent_id])
    assert loaded.env_info["config"] == {"num_shops": 2}
    assert isinstance(loaded["heuristic"], OrderUpToPolicy) and loaded["heuristic"].level == 20


def test_loading_errors(tmp_path):
    with pytest.raises(TrainingError, match="holds no trained policies"):
        ph.load_policies(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(TrainingError, match="is not a phantomzoo policy manifest"):
        ph.load_policies(tmp_path)


def test_trained_policies_evaluate_like_any_policy():
    env = ph.make("supply_chain_v0")
    fixed = OrderUpToPolicy(env.observation_space("SHOP"), env.action_space("SHOP"), level=25)
    policies = ph.TrainedPolicies({"h": fixed}, {"SHOP": "h"})
    result = ph.evaluate(env, policies, num_episodes=5, seed=0)
    mean, std = result["policies"]["h"]
    assert result["agents"]["SHOP"] == (mean, std) and 700 < mean < 900
    with pytest.raises(TrainingError, match="no policy for agent 'X'"):
        policies.compute_actions({"X": np.zeros(3)})
