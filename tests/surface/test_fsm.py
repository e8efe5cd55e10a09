"""Staged models: stage-graph validation, AEC turn order, delayed rewards, conformance."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from models import Echo, Ping, Talker
from pettingzoo import AECEnv

import phantomzoo as ph
from phantomzoo.errors import ActionError, EpisodeOverError, StageError
from phantomzoo.testing import check_env


class Board(ph.Agent):
    """Adds up the pings it receives; publishes the total (and the stage) as its view."""

    def __init__(self, agent_id):
        super().__init__(agent_id)
        self.total = 0

    def reset(self):
        self.total = 0

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        self.total += message.payload.value

    def view(self, neighbour_id=None):
        return self.total


class Player(ph.StrategicAgent):
    """Pings the board with its action; observes the board's total and the stage."""

    def __init__(self, agent_id):
        super().__init__(agent_id)
        self.observation_space = gym.spaces.Box(0, 1000, (2,))
        self.action_space = gym.spaces.Discrete(4)
        self.stages_seen = []

    def reset(self):
        self.stages_seen = []

    def decode_action(self, ctx, action):
        return [("board", Ping(int(action)))]

    def encode_observation(self, ctx):
        self.stages_seen.append(ctx.env_view.current_stage)
        stage = 0.0 if ctx.env_view.current_stage == "odd" else 1.0
        return np.array([ctx.view("board"), stage], dtype=np.float32)

    def compute_reward(self, ctx):
        return float(ctx.view("board"))


def board_network():
    network = ph.Network([Player("A"), Player("B"), Board("board")])
    network.add_connections_between(["A", "B"], ["board"])
    return network


class OddEven(ph.FiniteStateMachineEnv):
    """A acts on odd stages, B on even ones; each is rewarded when the other acts."""

    def __init__(self, num_steps=6):
        super().__init__(num_steps, board_network(), initial_stage="odd")

    @ph.FSMStage("odd", acting_agents=["A"], rewarded_agents=["B"], next_stages=["even"])
    def odd(self):
        return "even"

    @ph.FSMStage("even", acting_agents=["B"], rewarded_agents=["A"], next_stages=["odd"])
    def even(self):
        return "odd"


def together_env(num_steps=4):
    return ph.FiniteStateMachineEnv(
        num_steps,
        board_network(),
        initial_stage="both",
        stages=[ph.FSMStage("both", ["A", "B"], next_stages=["both"])],
    )


def test_staged_env_is_an_aec_env_and_conforms():
    env = OddEven()
    assert isinstance(env, AECEnv)
    check_env(OddEven, num_cycles=40)
    check_env(together_env, num_cycles=40)


def test_turn_order_follows_the_stage_and_stage_resolves_after_last_actor():
    env = together_env()
    env.reset(seed=0)
    assert env.agent_selection == "A"
    obs_a, *_ = env.last()
    env.step(3)
    assert env.agent_selection == "B"
    obs_b, *_ = env.last()
    assert obs_a[0] == obs_b[0] == 0  # B does not see A's action of the same stage
    env.step(2)
    assert env.agent_selection == "A"
    obs, reward, *_ = env.last()
    assert obs[0] == 5 and reward == 5.0


def test_current_stage_is_visible_through_the_env_view():
    env = OddEven()
    env.reset(seed=0)
    env.step(1)  # A acts in "odd"; B observes next in "even"
    assert env.agent_selection == "B"
    assert env.network["B"].stages_seen[-1] == "even"
    np.testing.assert_array_equal(env.observe("B"), [1.0, 1.0])


def test_delayed_rewards_accumulate_until_the_next_turn():
    env = OddEven(num_steps=6)
    env.reset(seed=0)
    totals = {"A": 0.0, "B": 0.0}
    actions = iter([1, 2, 3, 1, 2, 3])
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, _ = env.last()
        totals[agent] += reward
        env.step(None if terminated or truncated else next(actions))
    # Board totals after each stage: 1, 3, 6, 7, 9, 12. B is rewarded after odd stages
    # (1 + 6 + 9), A after even stages (3 + 7 + 12); none is lost at the end.
    assert totals == {"A": 22.0, "B": 16.0}


def test_acting_step_protocol():
    env = OddEven(num_steps=4)
    obs, infos = env.acting_reset(seed=0)
    assert list(obs) == ["A"] and env.acting_agents == ["A"]
    obs, rewards, terminations, truncations, infos = env.acting_step({"A": 2})
    assert list(obs) == ["B"] and rewards == {"B": 2.0}
    assert set(terminations) == set(truncations) == set(infos) == {"B"}
    with pytest.raises(ActionError, match="which does not act now"):
        env.acting_step({"A": 1})
    with pytest.raises(ActionError, match=r"no action given for live agent\(s\) \['B'\]"):
        env.acting_step({})
    env.acting_step({"B": 1})
    env.acting_step({"A": 1})
    obs, rewards, _, truncations, _ = env.acting_step({"B": 1})
    assert env.acting_agents == [] and truncations == {"A": True, "B": True}
    assert set(obs) == {"A", "B"} and rewards == {"A": 5.0}
    with pytest.raises(EpisodeOverError, match="after the episode ended"):
        env.acting_step({"A": 1})


def test_same_seed_same_staged_episode():
    def trace(seed):
        env = OddEven()
        env.reset(seed=seed)
        out = []
        for agent in env.agent_iter():
            obs, reward, term, trunc, _ = env.last()
            out.append((agent, obs.tolist(), reward))
            env.step(None if term or trunc else 1)
        return out

    assert trace(5) == trace(5)


class Dropout(Player):
    """Terminates once the board total reaches 4."""

    def is_terminated(self, ctx):
        return ctx.view("board") >= 4


def test_terminated_agents_leave_the_turn_order():
    network = ph.Network([Dropout("A"), Player("B"), Board("board")])
    network.add_connections_between(["A", "B"], ["board"])
    env = ph.FiniteStateMachineEnv(
        10, network, "both", stages=[ph.FSMStage("both", ["A", "B"], next_stages=["both"])]
    )
    env.reset(seed=0)
    env.step(3)
    env.step(2)  # total 5: A terminates
    assert env.terminations["A"] and env.agent_selection == "A"  # dead agents go first
    env.step(None)
    assert env.agents == ["B"] and env.agent_selection == "B"
    env.step(1)
    assert env.agent_selection == "B"


# ------------------------------------------------------------------ validation
def _fsm(stages, initial="s", network=None):
    return ph.FiniteStateMachineEnv(5, network or board_network(), initial, stages=stages)


@pytest.mark.parametrize(
    ("stages", "initial", "match"),
    [
        ([], "s", "has no stages"),
        (
            [
                ph.FSMStage("s", ["A"], next_stages=["s"]),
                ph.FSMStage("s", ["B"], next_stages=["s"]),
            ],
            "s",
            "duplicate stage id 's'",
        ),
        ([ph.FSMStage("s", ["A"], next_stages=["s"])], "x", "initial stage 'x' is not a stage"),
        ([ph.FSMStage("s", ["A"], next_stages=["t"])], "s", "unknown next stage 't'"),
        (
            [
                ph.FSMStage("s", ["A"], next_stages=["s", "t"]),
                ph.FSMStage("t", ["B"], next_stages=["s"]),
            ],
            "s",
            "has no handler, so it needs exactly one next stage",
        ),
        ([ph.FSMStage("s", ["A"])], "s", "has no handler, so it needs exactly one next stage"),
        (
            [ph.FSMStage("s", ["board"], next_stages=["s"])],
            "s",
            "'board' .*is not a StrategicAgent",
        ),
        ([ph.FSMStage("s", ["ghost"], next_stages=["s"])], "s", "'ghost' is not in the network"),
        (["s"], "s", "must be ph.FSMStage instances"),
    ],
)
def test_stage_graph_is_validated_when_built(stages, initial, match):
    with pytest.raises(StageError, match=match):
        _fsm(stages, initial)


def test_handler_returning_a_stage_not_listed_is_an_error():
    env = _fsm(
        [
            ph.FSMStage("s", ["A"], next_stages=["s", "t"], handler=lambda env: "nowhere"),
            ph.FSMStage("t", ["B"], next_stages=["s"]),
        ]
    )
    env.reset(seed=0)
    with pytest.raises(StageError, match="returned 'nowhere', which is not one of its next stages"):
        env.step(1)


def test_stackelberg_leaders_and_followers_alternate():
    network = ph.Network([Talker("L", "EL"), Talker("F", "EF"), Echo("EL"), Echo("EF")])
    network.add_connections_from([("L", "EL"), ("F", "EF")])
    env = ph.StackelbergEnv(6, network, leader_agents=["L"], follower_agents=["F"])
    env.reset(seed=0)
    order = []
    for agent in env.agent_iter():
        _, _, term, trunc, _ = env.last()
        if not (term or trunc):
            order.append(agent)
        env.step(None if term or trunc else 1)
    assert order == ["L", "F", "L", "F", "L", "F"]
    with pytest.raises(StageError, match="both leaders and followers"):
        ph.StackelbergEnv(6, network, leader_agents=["L"], follower_agents=["L"])
    check_env(lambda: ph.StackelbergEnv(6, _talker_network(), ["L"], ["F"]), num_cycles=30)


def _talker_network():
    network = ph.Network([Talker("L", "EL"), Talker("F", "EF"), Echo("EL"), Echo("EF")])
    network.add_connections_from([("L", "EL"), ("F", "EF")])
    return network
