"""cleanrl honours action masks: masked logits for Discrete and MultiDiscrete in
sampling, log-probabilities, entropies and argmax; trained policies and evaluation pass
the env's masks; training the mask toy never sends an illegal action and beats the
uniform-legal baseline."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs.mask_toy import MaskToyEnv, RefillPolicy, uniform_legal_returns
from phantomzoo.errors import ActionError
from phantomzoo.experiments.episodes import each_copy, policies_act, run_episodes
from phantomzoo.experiments.evaluation import as_trained, evaluate
from phantomzoo.policy import RandomPolicy
from phantomzoo.training.trained import MLPPolicy

torch = pytest.importorskip("torch")
nets = pytest.importorskip("phantomzoo.backends.cleanrl_nets")


def _net(space: gym.Space, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return nets.ActorCritic(3, space, (8,), "tanh", -1.0, gen)


@pytest.mark.parametrize(
    ("space", "mask"),
    [
        (gym.spaces.Discrete(5), [0, 1, 0, 1, 0]),
        (gym.spaces.MultiDiscrete([3, 2]), [0, 0, 1, 1, 0]),
    ],
)
def test_masked_sampling_never_picks_an_illegal_action(space, mask):
    net = _net(space)
    obs = torch.randn(400, 3, generator=torch.Generator().manual_seed(1))
    masks = torch.tensor([mask] * 400, dtype=torch.bool)
    gen = torch.Generator().manual_seed(2)
    actions, logp, _ = net.sample(obs, gen, masks)
    flat = np.asarray(mask, bool)
    if isinstance(space, gym.spaces.Discrete):
        assert flat[actions.numpy()].all()
    else:
        assert flat[:3][actions[:, 0].numpy()].all() and flat[3:][actions[:, 1].numpy()].all()
    # log-probabilities and entropies of the update agree with the rollout's
    logp2, entropy, _ = net.evaluate(obs, actions, masks)
    assert torch.allclose(logp, logp2)
    assert torch.isfinite(entropy).all() and (entropy >= 0).all()
    det = net.deterministic(obs, masks)
    picked = det.numpy() if det.ndim == 1 else det[:, 0].numpy()
    assert flat[:3][picked].all() if det.ndim > 1 else flat[picked].all()


def test_one_legal_action_has_probability_one_and_no_entropy():
    net = _net(gym.spaces.Discrete(4))
    obs = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    masks = torch.tensor([[0, 0, 1, 0]] * 10, dtype=torch.bool)
    actions, logp, _ = net.sample(obs, torch.Generator().manual_seed(0), masks)
    assert (actions == 2).all() and torch.allclose(logp, torch.zeros(10), atol=1e-6)
    _, entropy, _ = net.evaluate(obs, actions, masks)
    assert torch.allclose(entropy, torch.zeros(10), atol=1e-6)


def test_unmasked_sampling_is_unchanged_by_the_mask_path():
    net = _net(gym.spaces.Discrete(4))
    obs = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    a1, l1, _ = net.sample(obs, torch.Generator().manual_seed(5))
    a2, l2, _ = net.sample(obs, torch.Generator().manual_seed(5), torch.ones(50, 4, dtype=bool))
    assert torch.equal(a1, a2) and torch.allclose(l1, l2)


def test_mlp_policy_picks_among_legal_actions_only():
    space = gym.spaces.Discrete(3, start=1)
    head = (np.zeros((2, 3)), np.array([5.0, 0.0, 1.0]))  # prefers action 1 (index 0)
    policy = MLPPolicy(gym.spaces.Box(0, 1, (2,)), space, [], head)
    obs = [np.zeros(2)] * 3
    assert policy.compute_actions(obs) == [1, 1, 1]
    masks = [np.array([0, 1, 1]), None, np.array([0, 1, 0])]
    assert policy.compute_actions(obs, action_masks=masks) == [3, 1, 2]
    rng = np.random.default_rng(0)
    sampled = policy.compute_actions(obs * 30, rng=rng, action_masks=[np.array([0, 1, 1])] * 90)
    assert 1 not in sampled
    assert policy.compute_action(np.zeros(2), action_mask=np.array([0, 0, 1])) == 3
    with pytest.raises(ActionError, match="does not fit a policy over 3 actions"):
        policy.compute_actions(obs[:1], action_masks=[np.array([0, 0, 0])])
    with pytest.raises(ActionError, match="2 action mask"):
        policy.compute_actions(obs, action_masks=masks[:2])


def test_the_episode_loop_gives_masks_to_policies_that_take_them():
    env = MaskToyEnv(num_shops=2)
    space = env.action_space("SHOP1")
    head = (np.zeros((2, 5)), np.array([0.0, 0.0, 0.0, 0.0, 9.0]))  # always wants 4
    greedy = MLPPolicy(env.observation_space("SHOP1"), space, [], head)
    trained = as_trained(env, greedy)
    run_episodes(env, each_copy(trained.compute_actions), range(3))  # would raise unmasked
    run_episodes([env, MaskToyEnv(num_shops=2)], policies_act(trained), range(4))
    with pytest.raises(ActionError, match="illegal"):  # a policy that ignores masks
        run_episodes(env, each_copy(lambda obs: trained.compute_actions(obs)), range(3))
    random = RandomPolicy(env.observation_space("SHOP1"), space)
    with pytest.raises(ActionError, match="illegal"):
        evaluate(env, random, num_episodes=5)


def test_cleanrl_trains_the_mask_toy_legally_and_beats_uniform_legal(tmp_path):
    result = ph.train(
        "mask_toy_v0",
        {"shop": ["SHOP1", "SHOP2"]},
        backend="cleanrl",
        timesteps=8000,
        seed=0,
        results_dir=tmp_path,
        options={"num_envs": 4, "num_steps": 20, "learning_rate": 3e-3},
        progress=False,
    )  # checks="first": any illegal action sampled in training would have raised
    env = MaskToyEnv()
    trained = evaluate(env, result.policies, num_episodes=50)["policies"]["shop"][0]
    uniform = float(uniform_legal_returns(env, 50).mean())
    refill = RefillPolicy(env.observation_space("SHOP1"), env.action_space("SHOP1"))
    heuristic = evaluate(env, refill, num_episodes=50)["agents"]["SHOP1"][0]
    assert trained > 1.15 * uniform, (trained, uniform, heuristic)
    assert trained > 0.9 * heuristic
    loaded = ph.load_policies(tmp_path / "policies")  # the saved policy honours masks too
    assert evaluate(env, loaded, num_episodes=5)["policies"]["shop"][0] > uniform
