from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from models import Echo, Ping, PingEnv, Pong, Talker
from pettingzoo import ParallelEnv

import phantomzoo as ph
from phantomzoo.errors import (
    ActionError,
    ConfigError,
    EpisodeOverError,
    NetworkError,
    ObservationError,
    ResolverError,
)


def test_env_is_a_parallel_env_over_strategic_agents(ping_env):
    assert isinstance(ping_env, ParallelEnv)
    assert ping_env.possible_agents == ["A", "B"]
    assert ping_env.observation_space("A") is ping_env.observation_space("A")
    assert ping_env.action_space("B") is ping_env.action_space("B")
    obs, infos = ping_env.reset(seed=0)
    assert set(obs) == set(infos) == {"A", "B"}
    assert ping_env.agents == ["A", "B"]


def test_step_returns_five_dicts_without_all_key(ping_env):
    ping_env.reset(seed=0)
    obs, rewards, terminations, truncations, infos = ping_env.step({"A": 3, "B": 1})
    for d in (obs, rewards, terminations, truncations, infos):
        assert set(d) == {"A", "B"}
    assert "__all__" not in terminations
    np.testing.assert_array_equal(obs["A"], [3.0])
    assert rewards == {"A": 3.0, "B": 1.0}


def test_episode_truncates_after_num_steps(ping_env):
    ping_env.reset(seed=0)
    for _ in range(5):
        _, _, terminations, truncations, _ = ping_env.step({"A": 0, "B": 0})
    assert truncations == {"A": True, "B": True} and not any(terminations.values())
    assert ping_env.agents == []
    with pytest.raises(EpisodeOverError, match=r"after the episode ended.*call env.reset\(\)"):
        ping_env.step({"A": 0, "B": 0})


def test_step_before_reset(ping_env):
    with pytest.raises(EpisodeOverError, match=r"before reset\(\)"):
        ping_env.step({"A": 0, "B": 0})


def test_action_errors(ping_env):
    ping_env.reset(seed=0)
    with pytest.raises(ActionError, match=r"no action given for live agent\(s\) \['B'\]"):
        ping_env.step({"A": 0})
    with pytest.raises(ActionError, match="unknown agent 'Z'"):
        ping_env.step({"A": 0, "B": 0, "Z": 1})
    with pytest.raises(ActionError, match=r"'EA' \(Echo\) is not a StrategicAgent"):
        ping_env.step({"A": 0, "B": 0, "EA": 1})
    with pytest.raises(ActionError, match="is not a StrategicAgent"):
        ping_env.observation_space("EA")


class Mortal(Talker):
    """Terminates once it has received a Pong of value 3."""

    def is_terminated(self, ctx):
        return self.last == 3


def test_agents_shrink_as_they_terminate():
    network = ph.Network([Mortal("A", "EA"), Mortal("B", "EB"), Echo("EA"), Echo("EB")])
    network.add_connections_from([("A", "EA"), ("B", "EB")])
    env = ph.PhantomEnv(num_steps=10, network=network)
    env.reset(seed=0)
    _, _, terminations, _, _ = env.step({"A": 3, "B": 1})
    assert terminations == {"A": True, "B": False}
    assert env.agents == ["B"]
    with pytest.raises(ActionError, match="'A', which has already terminated"):
        env.step({"A": 0, "B": 0})
    obs, *_ = env.step({"B": 2})
    assert set(obs) == {"B"}


class Chatty(ph.Agent):
    """Non-strategic: sends a Ping every step through generate_messages."""

    def __init__(self, agent_id, target):
        super().__init__(agent_id)
        self.target = target
        self.pongs = 0

    def generate_messages(self, ctx):
        return [(self.target, Ping(ctx.current_step))]

    @ph.agents.msg_handler(Pong)
    def on_pong(self, ctx, message):
        self.pongs += 1


def test_non_strategic_agents_act_through_generate_messages():
    network = ph.Network([Talker("A", "E"), Echo("E"), Chatty("C", "E")])
    network.add_connections_between(["A", "C"], ["E"])
    env = ph.PhantomEnv(num_steps=4, network=network)
    env.reset(seed=0)
    for _ in range(3):
        env.step({"A": 1})
    assert network["C"].pongs == 3


class Publisher(ph.Agent):
    def __init__(self, agent_id, price):
        super().__init__(agent_id)
        self.price = price

    def view(self, neighbour_id=None):
        return ("price", self.price, neighbour_id)


class Looker(Talker):
    def encode_observation(self, ctx):
        self.seen = ctx.view("P1")
        self.views = ctx.agent_views
        self.env_view = ctx.env_view
        return super().encode_observation(ctx)


def test_context_gives_neighbour_views_only():
    network = ph.Network([Looker("A", "E"), Echo("E"), Publisher("P1", 3.0), Publisher("P2", 9.0)])
    network.add_connections_from([("A", "E"), ("A", "P1")])
    env = ph.PhantomEnv(num_steps=4, network=network)
    env.reset(seed=0)
    env.step({"A": 0})
    looker = network["A"]
    assert looker.seen == ("price", 3.0, "A")  # views are personalised per neighbour
    assert set(looker.views) == {"E", "P1"}
    assert looker.env_view == ph.EnvView(current_step=1, proportion_time_elapsed=0.25)
    ctx = env.engine.context("A")
    with pytest.raises(
        NetworkError, match=r"agent 'A' cannot see agent 'P2': they are not connected"
    ):
        ctx.view("P2")


class Bouncer(ph.Agent):
    """Passes every Ping on to the other bouncer: resolution never ends on its own."""

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        other = "S2" if self.id == "S1" else "S1"
        return [(other, Ping(message.payload.value + 1))]


def test_resolver_round_limit():
    network = ph.Network(
        [Talker("A", "S1"), Bouncer("S1"), Bouncer("S2")],
        resolver=ph.resolvers.BatchResolver(round_limit=5),
    )
    network.add_connections_from([("A", "S1"), ("S1", "S2")])
    env = ph.PhantomEnv(num_steps=3, network=network)
    env.reset(seed=0)
    with pytest.raises(ResolverError, match="still pending after round_limit=5 rounds"):
        env.step({"A": 1})


def test_round_limit_must_not_be_negative():
    with pytest.raises(ResolverError, match="round_limit must be None or an int >= 0"):
        ph.resolvers.BatchResolver(round_limit=-1)


class Recorder(ph.Agent):
    def __init__(self, agent_id):
        super().__init__(agent_id)
        self.order = []

    def reset(self):
        self.order = []

    @ph.agents.msg_handler(Ping)
    def on_ping(self, ctx, message):
        self.order.append(message.sender_id)


def test_shuffled_batches_follow_the_seed():
    def run(seed):
        senders = [Talker(f"T{i}", "R") for i in range(8)]
        network = ph.Network(
            [*senders, Recorder("R")], resolver=ph.resolvers.BatchResolver(shuffle_batches=True)
        )
        network.add_connections_between([s.id for s in senders], ["R"])
        env = ph.PhantomEnv(num_steps=3, network=network)
        env.reset(seed=seed)
        env.step({s.id: 0 for s in senders})
        return network["R"].order

    assert run(1) == run(1)
    assert sorted(run(1)) == [f"T{i}" for i in range(8)]
    assert run(1) != run(2) or run(1) != run(3)


class OutOfBounds(Talker):
    def encode_observation(self, ctx):
        return np.array([42.0], dtype=np.float32)  # the space is [0, 10]


def test_observation_check_is_opt_in():
    def build(**kwargs):
        network = ph.Network([OutOfBounds("A", "E"), Echo("E")])
        network.add_connection("A", "E")
        return ph.PhantomEnv(num_steps=3, network=network, **kwargs)

    build().reset(seed=0)  # silently allowed without the debug switch
    with pytest.raises(ObservationError, match=r"observation of agent 'A' at step 0 lies outside"):
        build(check_observations=True).reset(seed=0)
    env = build()
    env.check_observations = True
    with pytest.raises(ObservationError, match="lies outside"):
        env.reset(seed=0)


def test_observations_are_cast_to_the_space_dtype():
    class Float64(Talker):
        def encode_observation(self, ctx):
            return np.array([1.0])

    network = ph.Network([Float64("A", "E"), Echo("E")])
    network.add_connection("A", "E")
    env = ph.PhantomEnv(num_steps=3, network=network)
    obs, _ = env.reset(seed=0)
    assert obs["A"].dtype == np.float32
    assert env.observation_space("A").contains(obs["A"])


def test_num_steps_validation():
    with pytest.raises(ConfigError, match="num_steps must be an int >= 1"):
        ph.PhantomEnv(num_steps=0, network=ph.Network([]))


def test_same_seed_same_episode_with_discrete_and_box_spaces():
    def rollout(seed):
        env = PingEnv(num_steps=5)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        trace = []
        while env.agents:
            obs, rewards, *_ = env.step({a: int(rng.integers(4)) for a in env.agents})
            trace.append((obs["A"].tolist(), rewards))
        return trace

    assert rollout(3) == rollout(3)


def test_spaces_need_gymnasium_objects():
    class NoSpace(Talker):
        def __init__(self, *args):
            super().__init__(*args)
            self.action_space = [0, 1]

    network = ph.Network([NoSpace("A", "E"), Echo("E")])
    with pytest.raises(ph.errors.AgentDefinitionError, match="has action_space"):
        ph.PhantomEnv(num_steps=2, network=network)
    assert isinstance(gym.spaces.Discrete(2), gym.Space)


def test_ph_testing_is_reachable_as_an_attribute_after_a_plain_import():
    """``import phantomzoo as ph; ph.testing.check_env(...)`` as the README says (a lazy
    module attribute once recursed endlessly)."""
    import subprocess
    import sys

    code = "import phantomzoo as ph; print(callable(ph.testing.check_env))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "True"


def test_phantoms_env_attributes():
    """Phantom's env helpers: agent ids and objects by kind, env[agent_id], and whether the
    episode ended for every strategic agent."""
    from models import MortalEnv, PingEnv

    env = PingEnv(num_steps=2)
    assert env.n_agents == 4 and env.agent_ids == ["A", "B", "EA", "EB"]
    assert env.strategic_agent_ids == ["A", "B"] and env.non_strategic_agent_ids == ["EA", "EB"]
    assert env.strategic_agents == [env["A"], env["B"]]
    assert [a.id for a in env.non_strategic_agents] == ["EA", "EB"]
    env.reset(seed=0)
    assert not env.is_truncated() and not env.is_terminated()
    env.step({"A": 1, "B": 1})
    env.step({"A": 1, "B": 1})
    assert env.is_truncated() and not env.is_terminated()
    mortal = MortalEnv(num_steps=10)
    mortal.reset(seed=0)
    mortal.step({"A": 3})  # A pings 3 and terminates
    assert mortal.is_terminated() and not mortal.is_truncated()
    mortal.reset(seed=0)
    assert not mortal.is_terminated()


def test_phantoms_fsm_error_names_are_stage_errors():
    from phantomzoo.errors import StageError

    assert ph.fsm.FSMValidationError is StageError and ph.fsm.FSMRuntimeError is StageError
