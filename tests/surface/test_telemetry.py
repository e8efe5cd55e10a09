"""Telemetry: per-env JSON Lines logs of messages, stages and steps; Phantom's logger calls."""

from __future__ import annotations

import copy
import io
import json
import pickle
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest
from models import ConstantPolicy, Echo, Ping, PingEnv, Pong, Talker, TurnEnv

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.telemetry_records import jsonable

ACTIONS = {"A": 1, "B": 2}


@pytest.fixture(autouse=True)
def _logger_defaults_off():
    """Every test starts and ends with Phantom's global logger switched off."""
    ph.telemetry.logger.configure_file_logging(file_path=None)
    ph.telemetry.logger.configure_print_logging(enable=False)
    yield
    ph.telemetry.logger.configure_file_logging(file_path=None)
    ph.telemetry.logger.configure_print_logging(enable=False)


def play(env, steps=None, actions=ACTIONS, seed=0):
    """Reset and play a parallel env to its end (or for ``steps`` steps)."""
    env.reset(seed=seed)
    played = 0
    while env.agents and (steps is None or played < steps):
        env.step({a: actions[a] for a in env.agents})
        played += 1
    return played


def play_aec(env, seed=0):
    """Reset and play an AEC env to its end, every agent acting 1."""
    env.reset(seed=seed)
    for _agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else 1)


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def of_kind(records, kind):
    return [r for r in records if r["kind"] == kind]


# ---------------------------------------------------------------- the native layout
def test_records_load_with_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "log.jsonl"
    env = PingEnv(num_steps=3)
    env.telemetry = ph.Telemetry(path, infos=True)
    play(env)
    env.telemetry.close()
    frame = pd.read_json(path, lines=True)
    counts = frame["kind"].value_counts().to_dict()
    # each step: A and B ping their echo, each echo answers: 4 messages a step
    assert counts == {"message": 12, "step": 3, "reset": 1, "end": 1}
    steps = frame[frame["kind"] == "step"]
    assert steps["step"].tolist() == [1, 2, 3]
    assert steps.iloc[0]["actions"] == {"A": 1, "B": 2}
    assert steps.iloc[0]["rewards"] == {"A": 1.0, "B": 2.0}
    assert steps.iloc[-1]["truncations"] == {"A": True, "B": True}
    messages = frame[frame["kind"] == "message"]
    first = messages.iloc[0]
    assert (first["sender"], first["receiver"], first["payload_type"]) == ("A", "EA", "Ping")
    assert first["payload"] == {"value": 1}
    assert set(messages["payload_type"]) == {"Ping", "Pong"}


def test_step_record_holds_the_step_as_returned(tmp_path):
    path = tmp_path / "log.jsonl"
    env = PingEnv(num_steps=2)
    env.enable_telemetry(path, infos=True)
    env.reset(seed=3)
    obs, rewards, terminations, truncations, infos = env.step(ACTIONS)
    env.telemetry.close()
    reset, *_, step = [r for r in lines(path) if r["kind"] in ("reset", "step")]
    assert reset["seed"] == 3 and reset["step"] == 0 and reset["episode"] == 0
    assert step["observations"] == {k: v.tolist() for k, v in obs.items()}
    assert step["rewards"] == rewards
    assert step["terminations"] == terminations and step["truncations"] == truncations
    assert step["infos"] == infos


def test_every_delivered_message_is_logged_in_order(tmp_path):
    path = tmp_path / "log.jsonl"
    env = PingEnv(num_steps=4)
    env.telemetry = ph.Telemetry(path)
    env.network.message_log = []  # someone else's log (as a rollout keeps): read alongside
    play(env)
    env.telemetry.close()
    logged = of_kind(lines(path), "message")
    delivered = env.network.message_log
    assert len(logged) == len(delivered) == 16
    assert [(r["sender"], r["receiver"], r["payload"]["value"]) for r in logged] == [
        (m.sender_id, m.receiver_id, m.payload.value) for m in delivered
    ]


def test_messages_are_logged_when_a_rollout_swaps_the_log_every_step(tmp_path):
    path = tmp_path / "log.jsonl"
    env = PingEnv(num_steps=3)
    env.telemetry = ph.Telemetry(path)
    env.network.message_log = []
    env.reset(seed=0)
    kept = []
    while env.agents:
        env.step(ACTIONS)
        kept.append(env.network.message_log)  # what units.py does after each step
        env.network.message_log = []
    env.telemetry.close()
    logged = of_kind(lines(path), "message")
    assert len(logged) == sum(len(k) for k in kept) == 12
    assert [r["step"] for r in logged] == [1] * 4 + [2] * 4 + [3] * 4


class OneByOne(ph.resolvers.Resolver):
    """A custom resolver: one message at a time, through Resolver.deliver."""

    def resolve(self, network, pending, contexts, rng):
        while pending:
            receiver_id = next(iter(pending))
            batch = pending.pop(receiver_id)
            for message in batch:
                self.deliver(network, receiver_id, [message], contexts, pending)


def test_a_custom_resolver_that_delivers_with_deliver_is_logged(tmp_path):
    network = ph.Network([Talker("A", "EA"), Echo("EA")], resolver=OneByOne())
    network.add_connection("A", "EA")
    env = ph.PhantomEnv(3, network)
    path = tmp_path / "log.jsonl"
    env.telemetry = ph.Telemetry(path)
    play(env, actions={"A": 3})
    env.telemetry.close()
    logged = of_kind(lines(path), "message")
    assert [(r["payload_type"], r["payload"]["value"]) for r in logged] == [
        ("Ping", 3),
        ("Pong", 3),
    ] * 3


def test_filters_by_field_and_agent(tmp_path):
    path = tmp_path / "log.jsonl"
    env = PingEnv(num_steps=2)
    env.telemetry = ph.Telemetry(
        path, messages=["B"], observations=["A"], actions=False, rewards=True, infos=False
    )
    play(env)
    env.telemetry.close()
    records = lines(path)
    assert {(r["sender"], r["receiver"]) for r in of_kind(records, "message")} == {
        ("B", "EB"),
        ("EB", "B"),
    }
    step = of_kind(records, "step")[0]
    assert set(step["observations"]) == {"A"}
    assert "actions" not in step and "infos" not in step and "rewards" in step


def test_print_writes_a_line_per_record(tmp_path, capsys):
    stream = io.StringIO()
    env = PingEnv(num_steps=1)
    env.telemetry = ph.Telemetry(None, print=stream, messages=["A"])
    play(env)
    text = stream.getvalue()
    assert "MSG A -> EA Ping(value=1)" in text and "EPISODE DONE" in text
    env.telemetry = ph.Telemetry(None, print=True)
    play(env)
    assert "STEP" in capsys.readouterr().out


def test_values_are_made_json_safe():
    @dataclass
    class Config:
        rate: float

    value = {
        ("A", 1): np.float32(0.5),
        2: np.arange(3),
        "payload": Ping(4),
        "cfg": Config(0.25),
        "flag": np.bool_(True),
        "obj": object,
        "nested": [(np.int64(1), {np.int8(2): None})],
    }
    safe = jsonable(value)
    json.dumps(safe)  # plain JSON types only
    assert safe["('A', 1)"] == 0.5 and safe["2"] == [0, 1, 2] and safe["flag"] is True
    assert safe["payload"] == {"type": "Ping", "fields": {"value": 4}}
    assert safe["cfg"] == {"type": "Config", "fields": {"rate": 0.25}}
    assert safe["nested"] == [[1, {"2": None}]]
    assert safe["obj"] == repr(object)


# ---------------------------------------------------------------- off, isolation, copies
def test_off_by_default_writes_nothing_and_logs_no_messages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = PingEnv(num_steps=3)
    assert env.telemetry is None
    play(env)
    assert env.network.message_log is None
    assert list(tmp_path.iterdir()) == []


def test_detaching_switches_the_message_log_off_again(tmp_path):
    env = PingEnv(num_steps=5)
    telemetry = env.enable_telemetry(tmp_path / "log.jsonl")
    play(env, steps=2)
    assert env.network.message_log is not None
    env.telemetry = None
    assert env.network.message_log is None
    assert not telemetry.closed  # detached, still open: it may log another env
    env.step(ACTIONS)
    telemetry.close()
    assert max(r["step"] for r in lines(tmp_path / "log.jsonl")) == 2


def test_each_env_owns_its_log(tmp_path):
    first, second = PingEnv(num_steps=2), PingEnv(num_steps=3)
    first.telemetry = ph.Telemetry(tmp_path / "first.jsonl")
    second.telemetry = ph.Telemetry(tmp_path / "second.jsonl")
    play(first)
    play(second)
    play(first, seed=1)  # a second episode of the first env
    first.telemetry.close()
    second.telemetry.close()
    one, two = lines(tmp_path / "first.jsonl"), lines(tmp_path / "second.jsonl")
    assert [r["seed"] for r in of_kind(one, "reset")] == [0, 1]
    assert [r["episode"] for r in of_kind(one, "end")] == [0, 1]
    assert len(of_kind(one, "step")) == 4 and len(of_kind(two, "step")) == 3
    assert len(of_kind(two, "message")) == 12


def test_one_telemetry_cannot_log_two_envs(tmp_path):
    telemetry = ph.Telemetry(tmp_path / "log.jsonl")
    PingEnv().telemetry = telemetry
    with pytest.raises(ConfigError, match="already another env's log"):
        PingEnv().telemetry = telemetry


def test_copies_and_pickles_of_an_env_carry_no_telemetry(tmp_path):
    env = PingEnv(num_steps=3)
    env.telemetry = ph.Telemetry(tmp_path / "log.jsonl")
    play(env, steps=1)
    for twin in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        assert twin.telemetry is None
        assert twin.network.message_log is None
        twin.step(ACTIONS)
    assert env.telemetry is not None and env.network.message_log is not None
    with pytest.raises(ConfigError, match="cannot be copied or pickled"):
        pickle.dumps(env.telemetry)


def test_a_closed_telemetry_is_detached_and_cannot_be_reattached(tmp_path):
    env = PingEnv(num_steps=3)
    telemetry = env.enable_telemetry(tmp_path / "log.jsonl")
    telemetry.close()
    telemetry.close()  # harmless
    assert env.telemetry is None
    play(env)
    with pytest.raises(ConfigError, match="is closed"):
        env.telemetry = telemetry


def test_attached_mid_episode_logs_from_then_on(tmp_path):
    env = PingEnv(num_steps=3)
    env.reset(seed=0)
    env.step(ACTIONS)
    with ph.Telemetry(tmp_path / "log.jsonl") as telemetry:
        env.telemetry = telemetry
        env.step(ACTIONS)
    records = lines(tmp_path / "log.jsonl")
    assert [r["kind"] for r in records] == ["message"] * 4 + ["step"]
    assert {r["step"] for r in records} == {2}


# ---------------------------------------------------------------- staged envs
def test_staged_env_logs_every_stage_and_tags_messages_with_it(tmp_path):
    path = tmp_path / "log.jsonl"
    env = TurnEnv(num_steps=4)
    env.telemetry = ph.Telemetry(path)
    play_aec(env)
    env.telemetry.close()
    records = lines(path)
    stages = of_kind(records, "stage")
    assert [(r["stage"], r["next_stage"]) for r in stages] == [("a", "b"), ("b", "a")] * 2
    steps = of_kind(records, "step")
    assert [(r["step"], r["stage"]) for r in steps] == [(1, "a"), (2, "b"), (3, "a"), (4, "b")]
    assert steps[0]["actions"] == {"A": 1} and steps[1]["actions"] == {"B": 1}
    messages = of_kind(records, "message")
    assert [(m["stage"], m["sender"]) for m in messages[:4]] == [
        ("a", "A"),
        ("a", "EA"),
        ("b", "B"),
        ("b", "EB"),
    ]
    assert of_kind(records, "reset")[0]["stage"] == "a"


class Announcer(ph.Agent):
    """Pings its neighbour whenever it generates messages (in every stage)."""

    def __init__(self, agent_id, target):
        super().__init__(agent_id)
        self.target = target

    def generate_messages(self, ctx):
        return [(self.target, Ping(7))]

    @ph.agents.msg_handler(Pong)
    def on_pong(self, ctx, message):
        return None


class TickEnv(ph.FiniteStateMachineEnv):
    """A stage nobody acts in ("tick", played by the env alone) before A acts in "a"."""

    def __init__(self, num_steps=4):
        network = ph.Network([Talker("A", "EA"), Echo("EA"), Announcer("N", "EA")])
        network.add_connections_from([("A", "EA"), ("N", "EA")])
        super().__init__(
            num_steps,
            network,
            initial_stage="tick",
            stages=[
                ph.FSMStage("tick", [], next_stages=["a"]),
                ph.FSMStage("a", ["A"], next_stages=["tick"]),
            ],
        )


def test_stages_played_alone_in_reset_and_step_are_logged(tmp_path):
    path = tmp_path / "log.jsonl"
    env = TickEnv(num_steps=4)
    env.telemetry = ph.Telemetry(path)
    play_aec(env)
    env.telemetry.close()
    records = lines(path)
    head = [r["kind"] for r in records[: records.index(of_kind(records, "reset")[0]) + 1]]
    assert head == ["message", "message", "stage", "reset"]  # reset's tick: N's ping, the pong
    stages = of_kind(records, "stage")
    assert [(r["step"], r["stage"]) for r in stages] == [
        (1, "tick"),
        (2, "a"),
        (3, "tick"),
        (4, "a"),
    ]
    steps = of_kind(records, "step")
    assert [(r["step"], r["stage"]) for r in steps] == [(3, "a"), (4, "a")]


def test_metrics_are_read_after_every_step_and_honour_fsm_stages(tmp_path):
    path = tmp_path / "log.jsonl"
    env = TurnEnv(num_steps=4)
    env.telemetry = ph.Telemetry(
        path,
        metrics={
            "A/last": ph.metrics.SimpleAgentMetric("A", "last"),
            "step": ph.metrics.SimpleEnvMetric("current_step"),
            "B/last in b": ph.metrics.SimpleAgentMetric("B", "last", fsm_stages=["b"]),
        },
    )
    play_aec(env)
    env.telemetry.close()
    metrics = [r["metrics"] for r in of_kind(lines(path), "step")]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4]
    assert [m["A/last"] for m in metrics] == [1, 1, 1, 1]
    assert ["B/last in b" in m for m in metrics] == [False, True, False, True]


# ---------------------------------------------------------------- rollouts over workers
def test_for_episode_gives_each_episode_its_own_tagged_file(tmp_path):
    folder = tmp_path / "telemetry" / "run"
    for config_index, repeat in [(0, 0), (0, 1), (2, 0)]:
        env = PingEnv(num_steps=2)
        env.telemetry = ph.telemetry.for_episode(folder, config_index, repeat, infos=True)
        play(env, seed=repeat)
        env.telemetry.close()
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "episode-00000-00000.jsonl",
        "episode-00000-00001.jsonl",
        "episode-00002-00000.jsonl",
    ]
    records = ph.telemetry.read_records(folder)
    assert {(r["config_index"], r["repeat"]) for r in records} == {(0, 0), (0, 1), (2, 0)}
    assert len(of_kind(records, "end")) == 3


def test_for_episode_in_a_rollout_hook(tmp_path):
    """The per-episode call a rollout makes: the env is built, given its file, played."""
    rollouts = ph.rollout(
        PingEnv,
        env_config={"num_steps": 2},
        custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
        num_repeats=2,
        record_messages=True,
        show_progress_bar=False,
    )
    assert len(rollouts) == 2  # rollouts still play as before with telemetry importable
    env = PingEnv(num_steps=2)
    env.telemetry = ph.telemetry.for_episode(tmp_path, 0, 0)
    env.network.message_log = []
    play(env, actions={"A": 1, "B": 1})
    env.telemetry.close()
    logged = of_kind(ph.telemetry.read_records(tmp_path), "message")
    assert (
        len(logged)
        == len(env.network.message_log)
        == sum(len(step.messages) for step in rollouts[0].steps)
    )


def test_the_observation_space_shapes_are_untouched_by_telemetry(tmp_path):
    env = PingEnv()
    env.telemetry = ph.Telemetry(tmp_path / "log.jsonl")
    assert env.observation_space("A") == gym.spaces.Box(0.0, 10.0, shape=(1,))
