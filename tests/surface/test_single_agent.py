"""ph.SingleAgentEnvAdapter: one agent learns through a Gymnasium env, the others are played.

Phantom's own adapter tests (agent ids, reset, step, the bad-configuration cases) are
rewritten here for Gymnasium's ``reset(seed=, options=)``, plus what phantomzoo adds:
staged models played on through the others' stages (returns equal to the episode
loop's), trained policies and typed errors. Masks, Gymnasium's env checker and SB3
learners: test_single_agent_learners.py.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from models import ConstantPolicy, DelayedTurnEnv, Echo, MortalEnv, PingEnv, Talker, TurnEnv

import phantomzoo as ph
from phantomzoo.envs.supply_chain.heuristics import OrderUpToPolicy
from phantomzoo.errors import ConfigError, EpisodeOverError, NotResetError
from phantomzoo.experiments.episodes import policies_act, run_episodes


# ------------------------------------------------------------------ Phantom's mock model
class Mock(ph.StrategicAgent):
    """Phantom's test agent: B terminates after its first step; remembers its last action."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)

    def is_terminated(self, ctx):
        return self.id == "B"

    def compute_reward(self, ctx):
        return 0.0

    def encode_observation(self, ctx):
        return np.ones(1, np.float32)

    def decode_action(self, ctx, action):
        self.last_action = action
        return []


class Twos(ph.Policy):
    def compute_action(self, observation):
        return np.full(1, 2.0, np.float32)


def mock_config() -> dict:
    return {"network": ph.Network([Mock("A"), Mock("B")]), "num_steps": 2}


@pytest.fixture
def mock_env() -> ph.SingleAgentEnvAdapter:
    return ph.SingleAgentEnvAdapter(
        env_class=ph.PhantomEnv,
        agent_id="A",
        other_policies={"B": (Twos, {})},
        env_config=mock_config(),
    )


def test_phantom_agent_ids_and_counts(mock_env):
    assert mock_env.agent_ids == ["A", "B"]
    assert mock_env.n_agents == 2
    assert mock_env.active_agent == "A"
    assert set(mock_env.agents) == {"A", "B"} and isinstance(mock_env.agents["B"], Mock)
    assert isinstance(mock_env, gym.Env)


def test_phantom_reset(mock_env):
    obs, info = mock_env.reset(seed=0)
    assert mock_env.current_step == 0
    assert obs == 1.0 and info == {}
    assert set(mock_env._observations) == {"A", "B"}


def test_phantom_step(mock_env):
    mock_env.reset(seed=0)
    step = mock_env.step(np.full(1, 3.0, np.float32))
    assert mock_env.current_step == 1
    assert step == (1.0, 0.0, False, False, {})
    assert mock_env.agents["A"].last_action == 3.0
    assert mock_env.agents["B"].last_action == 2.0
    # B terminated: only A acts now, and the time limit truncates it
    obs, reward, terminated, truncated, info = mock_env.step(np.zeros(1, np.float32))
    assert mock_env.current_step == 2
    assert (terminated, truncated) == (False, True)
    assert mock_env._actions.keys() == {"A"}


@pytest.mark.parametrize(
    "agent_id, others, match",
    [
        ("X", {"B": (Twos, {})}, "'X' is not an agent"),
        ("A", {"A": (Twos, {}), "B": (Twos, {})}, "listed twice"),
        ("A", {"X": (Twos, {})}, "names agent 'X', which is not an agent"),
        ("A", {}, r"no policy for agent\(s\) \['B'\]"),
    ],
)
def test_phantom_bad_configurations_raise_value_errors(agent_id, others, match):
    with pytest.raises(ValueError, match=match) as caught:
        ph.SingleAgentEnvAdapter(ph.PhantomEnv, agent_id, others, env_config=mock_config())
    assert isinstance(caught.value, ConfigError)


# ------------------------------------------------------------------ Gymnasium semantics
def ping(**kwargs) -> ph.SingleAgentEnvAdapter:
    return ph.SingleAgentEnvAdapter(PingEnv, "A", {"B": (ConstantPolicy, {"value": 1})}, kwargs)


def test_spaces_are_the_learning_agents():
    env = ping()
    inner = env.env
    assert env.observation_space is inner.observation_space("A")
    assert env.action_space is inner.action_space("A")


def test_reward_and_observation_are_the_learning_agents_only():
    env = ping()
    obs, _ = env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(3)
    assert reward == 3.0 and obs[0] == 3.0  # B's constant 1 would have given 1.0
    assert env._observations["B"][0] == 1.0
    assert (terminated, truncated) == (False, False)


def test_an_episode_runs_to_the_time_limit_and_then_refuses_steps():
    env = ping(num_steps=3)
    with pytest.raises(NotResetError, match="before reset"):
        env.step(0)
    env.reset(seed=1)
    ends = [env.step(1)[2:4] for _ in range(3)]
    assert ends == [(False, False), (False, False), (False, True)]
    with pytest.raises(EpisodeOverError, match="call env.reset"):
        env.step(0)
    env.reset(seed=1)  # a new episode plays again
    assert env.step(2)[1] == 2.0


def test_termination_of_the_learning_agent_ends_its_episode():
    env = ph.SingleAgentEnvAdapter(MortalEnv, "A", {})  # no other strategic agent
    env.reset(seed=0)
    assert env.step(1)[2] is False
    obs, reward, terminated, truncated, _ = env.step(3)
    assert terminated and not truncated and reward == 3.0


def test_reset_takes_seed_and_options_and_repeats_with_the_seed():
    env = ph.SingleAgentEnvAdapter(
        "supply_chain_v0",
        "SHOP1",
        {"SHOP2": (OrderUpToPolicy, {"level": 20})},
        env_config={"num_shops": 2},
    )
    action = np.array([15.0], np.float32)

    def episode(seed):
        first, _ = env.reset(seed=seed, options={"ignored": True})
        steps = [env.step(action) for _ in range(5)]
        return [first] + [s[0] for s in steps], [s[1] for s in steps]

    (obs_a, rew_a), (obs_b, rew_b) = episode(7), episode(7)
    assert all(np.array_equal(a, b) for a, b in zip(obs_a, obs_b)) and rew_a == rew_b
    assert episode(8)[1] != rew_a


def test_collect_infos_pass_through():
    class Chatty(Talker):
        def collect_infos(self, ctx):
            return {"last": self.last}

    class ChattyEnv(ph.PhantomEnv):
        def __init__(self):
            network = ph.Network([Chatty("A", "EA"), Talker("B", "EB"), Echo("EA"), Echo("EB")])
            network.add_connections_from([("A", "EA"), ("B", "EB")])
            super().__init__(num_steps=4, network=network)

    env = ph.SingleAgentEnvAdapter(ChattyEnv, "A", {"B": ConstantPolicy})
    env.reset(seed=0)
    assert env.step(2)[4] == {"last": 2}


def test_render_passes_through():
    env = ping(render_mode="ansi")
    assert env.render_mode == "ansi" and "ansi" in env.metadata["render_modes"]
    env.reset(seed=0)
    env.step(1)
    assert "step 1/5" in env.render()
    env.close()


# ------------------------------------------------------------------ env forms
def test_the_model_can_be_a_class_an_instance_or_a_registered_id():
    others = {"SHOP2": (OrderUpToPolicy, {"level": 20})}
    from phantomzoo.envs.supply_chain import SupplyChainEnv

    built = SupplyChainEnv(num_shops=2)
    envs = [
        ph.SingleAgentEnvAdapter(SupplyChainEnv, "SHOP1", others, {"num_shops": 2}),
        ph.SingleAgentEnvAdapter(built, "SHOP1", others),
        ph.SingleAgentEnvAdapter("supply_chain_v0", "SHOP1", others, {"num_shops": 2}),
    ]
    assert envs[1].env is built
    firsts = [e.reset(seed=3)[0] for e in envs]
    assert all(np.array_equal(firsts[0], f) for f in firsts[1:])


def test_env_forms_that_are_refused():
    others = {"B": ConstantPolicy}
    with pytest.raises(ConfigError, match="already built"):
        ph.SingleAgentEnvAdapter(PingEnv(), "A", others, {"num_steps": 3})
    with pytest.raises(ConfigError, match="needs a phantomzoo env"):
        ph.SingleAgentEnvAdapter(gym.Env, "A", others)
    with pytest.raises(ConfigError, match="needs a phantomzoo env"):
        ph.SingleAgentEnvAdapter(object(), "A", others)
    with pytest.raises(ConfigError, match="env_config must be a dict"):
        ph.SingleAgentEnvAdapter(PingEnv, "A", others, ["num_steps", 3])


# ------------------------------------------------------------------ policy forms and errors
def mlp_for(env, agent_id, seed=0) -> ph.MLPPolicy:
    rng = np.random.default_rng(seed)
    obs_space, act_space = env.observation_space(agent_id), env.action_space(agent_id)
    n_in, n_out = obs_space.shape[0], int(act_space.n)
    return ph.MLPPolicy(
        obs_space,
        act_space,
        [(rng.normal(size=(n_in, 8)), np.zeros(8))],
        (rng.normal(size=(8, n_out)), rng.normal(size=n_out)),
    )


def test_policies_as_class_instance_and_trained_policies_act_the_same():
    inner = PingEnv()
    mlp = mlp_for(inner, "B")
    trained = ph.TrainedPolicies({"p": mlp}, {"A": "p", "B": "p"})  # covers the learner too
    forms = [{"B": mlp}, {"B": trained}, trained]
    rewards = []
    for form in forms:
        env = ph.SingleAgentEnvAdapter(PingEnv, "A", form)
        env.reset(seed=0)
        env.step(0)
        rewards.append(env._actions["B"])
    assert rewards[0] == rewards[1] == rewards[2] == mlp.compute_action(np.zeros(1, np.float32))
    assert ph.SingleAgentEnvAdapter(PingEnv, "A", trained).other_policies is trained


def test_agents_sharing_one_policy_object_share_one_policy_id():
    inner = ph.make("supply_chain_v0", num_shops=3)
    shared = OrderUpToPolicy(
        inner.observation_space("SHOP2"), inner.action_space("SHOP2"), level=20
    )
    env = ph.SingleAgentEnvAdapter(inner, "SHOP1", {"SHOP2": shared, "SHOP3": shared})
    assert env.other_policies.agent_to_policy == {"SHOP2": "policy_0", "SHOP3": "policy_0"}
    env.reset(seed=0)
    env.step(np.array([5.0], np.float32))
    assert env._actions["SHOP2"][0] == env._actions["SHOP3"][0] == 20.0  # empty shops


class NotActing(ph.Policy):
    """Implements neither compute_action nor compute_actions."""


@pytest.mark.parametrize(
    "others, match",
    [
        ({"B": lambda obs: 1}, "not a policy"),
        ({"B": "ConstantPolicy"}, "not a policy"),
        ({"B": object()}, "not a policy"),
        ({"B": (dict, {})}, "not a ph.Policy subclass"),
        ({"B": NotActing}, "implements neither compute_action"),
        ({"B": (ConstantPolicy,)}, "tuple of 1 item"),
        ({"B": (ConstantPolicy, {"value": 1}, "extra")}, "tuple of 3 item"),
        ({"B": (ConstantPolicy, ["value", 1])}, "config must be a dict"),
        ({"B": ConstantPolicy, "EB": ConstantPolicy}, "'EB' .*Echo.*not a strategic agent"),
        ({"B": ConstantPolicy, "A": ConstantPolicy}, "'A' is listed twice"),
        ({"B": ConstantPolicy, "Z": ConstantPolicy}, "'Z', which is not an agent"),
        ({}, r"no policy for agent\(s\) \['B'\]"),
        ([("B", ConstantPolicy)], "other_policies must be"),
    ],
)
def test_bad_other_policies_are_refused(others, match):
    with pytest.raises(ConfigError, match=match):
        ph.SingleAgentEnvAdapter(PingEnv, "A", others)


def test_policies_for_other_spaces_are_refused():
    wrong = ConstantPolicy(gym.spaces.Box(0.0, 1.0, (3,)), gym.spaces.Discrete(4))
    with pytest.raises(ConfigError, match="observation space Box.*but the agent's is"):
        ph.SingleAgentEnvAdapter(PingEnv, "A", {"B": wrong})
    inner = PingEnv()
    wrong_actions = ConstantPolicy(inner.observation_space("B"), gym.spaces.Discrete(2))
    with pytest.raises(ConfigError, match="action space Discrete\\(2\\)"):
        ph.SingleAgentEnvAdapter(PingEnv, "A", {"B": wrong_actions})


def test_trained_policies_that_miss_an_agent_are_refused():
    inner = PingEnv()
    only_a = ph.TrainedPolicies({"p": mlp_for(inner, "A")}, {"A": "p"})
    with pytest.raises(ConfigError, match="cover \\['A'\\], not agent 'B'"):
        ph.SingleAgentEnvAdapter(PingEnv, "A", only_a)
    with pytest.raises(ConfigError, match="cover \\['A'\\], not agent 'B'"):
        ph.SingleAgentEnvAdapter(PingEnv, "A", {"B": only_a})


@pytest.mark.parametrize(
    "agent_id, match",
    [
        ("EA", "'EA' \\(Echo\\) is not a strategic agent"),
        ("nobody", "'nobody' is not an agent of PingEnv"),
        (["A"], "is not an agent of PingEnv"),  # unhashable
    ],
)
def test_bad_learning_agents_are_refused(agent_id, match):
    with pytest.raises(ConfigError, match=match):
        ph.SingleAgentEnvAdapter(PingEnv, agent_id, {"B": ConstantPolicy})


class BystanderEnv(ph.FiniteStateMachineEnv):
    """A acts in the only stage; strategic B acts in none."""

    def __init__(self):
        network = ph.Network([Talker("A", "EA"), Talker("B", "EB"), Echo("EA"), Echo("EB")])
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        stage = ph.FSMStage("a", ["A"], next_stages=["a"])
        super().__init__(4, network, initial_stage="a", stages=[stage])


def test_a_learner_that_never_acts_is_refused_and_bystanders_need_no_policy():
    with pytest.raises(ConfigError, match="'B' acts in no stage"):
        ph.SingleAgentEnvAdapter(BystanderEnv, "B", {"A": ConstantPolicy})
    env = ph.SingleAgentEnvAdapter(BystanderEnv, "A", {})
    env.reset(seed=0)
    assert env.step(2)[1] == 2.0


# ------------------------------------------------------------------ staged models
def test_staged_model_plays_on_through_the_other_agents_stage():
    env = ph.SingleAgentEnvAdapter(TurnEnv, "A", {"B": (ConstantPolicy, {"value": 2})})
    env.reset(seed=0)
    assert env.current_step == 0
    obs, reward, *_ = env.step(3)
    assert env.current_step == 2  # A's stage and B's stage
    assert env._actions == {"B": 2} and env.env.current_stage == "a"
    assert reward == 3.0


def test_a_learner_that_moves_second_starts_after_the_others_first_stage():
    env = ph.SingleAgentEnvAdapter(TurnEnv, "B", {"A": (ConstantPolicy, {"value": 1})})
    env.reset(seed=0)
    assert env.current_step == 1 and env.env.acting_agents == ["B"]
    steps = 0
    while True:
        *_, terminated, truncated, _ = env.step(2)
        steps += 1
        if terminated or truncated:
            break
    assert steps == 3  # 6 stages, B acts in every second one


class Paid(Talker):
    """A talker paid 1 every time it is rewarded, on top of its last pong."""

    def compute_reward(self, ctx):
        return 1.0 + self.last


class PaidToWaitEnv(ph.FiniteStateMachineEnv):
    """B moves first and both are rewarded after B's stage, so A earns a reward before
    its first action."""

    def __init__(self) -> None:
        network = ph.Network([Paid("A", "EA"), Paid("B", "EB"), Echo("EA"), Echo("EB")])
        network.add_connections_from([("A", "EA"), ("B", "EB")])
        super().__init__(
            7,
            network,
            initial_stage="b",
            stages=[
                ph.FSMStage("b", ["B"], rewarded_agents=["A", "B"], next_stages=["a"]),
                ph.FSMStage("a", ["A"], rewarded_agents=[], next_stages=["b"]),
            ],
        )


@pytest.mark.parametrize(
    "model, learner",
    [(DelayedTurnEnv, "A"), (DelayedTurnEnv, "B"), (PaidToWaitEnv, "A"), (PaidToWaitEnv, "B")],
)
def test_returns_through_the_adapter_equal_the_episode_loops(model, learner):
    """Delayed rewards (earned while others act, or before the learner's first action)
    add up to the same returns as the episode loop's."""
    inner = model()
    policies = {a: mlp_for(inner, a, seed=n) for n, a in enumerate(inner.possible_agents)}
    trained = ph.TrainedPolicies(policies, {a: a for a in policies})
    expected = run_episodes(model(), policies_act(trained), seeds=[5])[0].returns
    env = ph.SingleAgentEnvAdapter(model, learner, trained)
    obs, _ = env.reset(seed=5)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(policies[learner].compute_action(obs))
        total += reward
        done = terminated or truncated
    assert total == pytest.approx(expected[learner]) and expected[learner] != 0.0
