"""Telemetry: Phantom's ``ph.telemetry.logger`` calls (defaults for new envs, Phantom's
JSON layout) and every bad argument of the telemetry API."""

from __future__ import annotations

import json

import pytest
from models import Echo, PingEnv, Talker, TurnEnv

import phantomzoo as ph
from phantomzoo.errors import ConfigError


@pytest.fixture(autouse=True)
def _logger_defaults_off():
    """Every test starts and ends with Phantom's global logger switched off."""
    ph.telemetry.logger.configure_file_logging(file_path=None)
    ph.telemetry.logger.configure_print_logging(enable=False)
    yield
    ph.telemetry.logger.configure_file_logging(file_path=None)
    ph.telemetry.logger.configure_print_logging(enable=False)


def play(env, actions, seed=0):
    """Reset and play a parallel env to its end."""
    env.reset(seed=seed)
    while env.agents:
        env.step({a: actions[a] for a in env.agents})


def play_aec(env, seed=0):
    """Reset and play an AEC env to its end, every agent acting 1."""
    env.reset(seed=seed)
    for _agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last()
        env.step(None if terminated or truncated else 1)


# ---------------------------------------------------------------- Phantom's logger calls
class PhantomStyleEnv(ph.PhantomEnv):
    """Phantom's test env: two strategic agents and a plain agent, five steps."""

    def __init__(self):
        agents = [Talker("a1", "a3"), Talker("a2", "a3"), Echo("a3")]
        network = ph.Network(agents)
        network.add_connections_from([("a1", "a2"), ("a2", "a3"), ("a3", "a1")])
        super().__init__(num_steps=5, network=network)


def test_phantom_logger_calls_configure_new_envs(tmp_path, capsys):
    logger = ph.telemetry.logger
    step_metric = {"step": ph.metrics.SimpleEnvMetric("current_step")}
    logger.configure_print_logging(
        print_actions=True,
        print_observations=True,
        print_rewards=True,
        print_terminations=True,
        print_truncations=True,
        print_infos=True,
        print_messages=True,
        metrics=step_metric,
    )
    env = PhantomStyleEnv()
    play(env, actions={"a1": 1, "a2": 2})
    assert logger._current_episode is None
    assert not (tmp_path / "log.json").exists()
    assert capsys.readouterr().out == ""  # printing was configured but never enabled

    logger.configure_print_logging(enable=False)
    logger.configure_file_logging(file_path=tmp_path / "log.json", metrics=step_metric)
    env = PhantomStyleEnv()
    play(env, actions={"a1": 1, "a2": 2})
    data = json.load(open(tmp_path / "log.json"))  # one episode: one JSON object
    assert set(data) == {"start", "steps"}
    assert len(data["steps"]) == 6
    assert set(data["steps"][0]) == {"messages", "metrics", "observations"}
    assert set(data["steps"][1]) == {
        "actions",
        "terminations",
        "truncations",
        "infos",
        "messages",
        "metrics",
        "observations",
        "rewards",
    }
    assert data["steps"][5]["metrics"] == {"step": 5}
    assert data["steps"][5]["truncations"] == ["a1", "a2"]  # Phantom lists who ended
    assert data["steps"][1]["messages"][0] == {
        "sender_id": "a1",
        "receiver_id": "a3",
        "payload": {"value": 1},
    }
    logger.configure_file_logging(file_path=None)
    assert PhantomStyleEnv().telemetry is None


def test_phantom_logger_is_a_default_for_new_envs_only(tmp_path, capsys):
    before = PingEnv(num_steps=1)
    ph.telemetry.logger.configure_print_logging(enable=True, print_messages=["A"])
    after = PingEnv(num_steps=1)
    assert before.telemetry is None and after.telemetry is not None
    play(before, {"A": 1, "B": 2})
    assert capsys.readouterr().out == ""
    play(after, {"A": 1, "B": 2})
    out = capsys.readouterr().out
    assert "MSG A -> EA" in out and "MSG B" not in out
    ph.telemetry.logger.configure_file_logging(file_path=tmp_path / "log.json")
    envs = [PingEnv(num_steps=1), PingEnv(num_steps=2)]
    for env in envs:
        assert env.telemetry is not envs[0].telemetry or env is envs[0]  # one log per env
        play(env, {"A": 1, "B": 2})
    episodes = [json.loads(line) for line in (tmp_path / "log.json").read_text().splitlines()]
    assert [len(e["steps"]) for e in episodes] == [2, 3]  # appended to one file, whole lines


def test_phantom_layout_of_a_staged_env_names_its_stages(tmp_path):
    ph.telemetry.logger.configure_file_logging(file_path=tmp_path / "log.json", append=False)
    env = TurnEnv(num_steps=2)
    play_aec(env)
    data = json.loads((tmp_path / "log.json").read_text())
    assert [(s["fsm_current_stage"], s["fsm_next_stage"]) for s in data["steps"][1:]] == [
        ("a", "b"),
        ("b", "a"),
    ]


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"messages": "SHOP1"},
            r"messages= must be True, False or a list of agent ids.*\['SHOP1'\]",
        ),
        ({"observations": 3}, "observations= must be True, False or a list"),
        ({"actions": [["A"]]}, "agent ids must be hashable"),
        ({"metrics": ["x"]}, "metrics= must be a mapping"),
        ({"metrics": {"x": 3}}, r"metrics\['x'\] must be a ph.metrics.Metric"),
        ({"metrics": {1: ph.metrics.SimpleEnvMetric("current_step")}}, "names must be strings"),
        ({"layout": "tree"}, r"layout= must be one of \['records', 'episodes'\]"),
        ({"append": "yes"}, "append= must be True or False"),
        ({"print": 2}, "print= must be True, False or a text stream"),
        ({"tags": {"step": 1}}, "tags= keys must be strings other than the record fields"),
        ({"tags": [1]}, "tags= must be a mapping"),
        ({"indent": -1}, "indent= must be None or an int >= 0"),
    ],
)
def test_bad_options_are_refused(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ph.Telemetry(tmp_path / "log.jsonl", **kwargs)


def test_bad_sinks_are_refused_before_any_episode(tmp_path):
    with pytest.raises(ConfigError, match="has nowhere to write"):
        ph.Telemetry()
    with pytest.raises(ConfigError, match="sink must be a file path, a text stream or None"):
        ph.Telemetry(42)
    with pytest.raises(ConfigError, match="directory .* does not exist; create it first"):
        ph.Telemetry(tmp_path / "missing" / "log.jsonl")
    with pytest.raises(ConfigError, match="cannot write telemetry to .*: Is a directory"):
        ph.Telemetry(tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="does not exist; create it first"):
        PingEnv().enable_telemetry(tmp_path / "file" / "log.jsonl")
    with pytest.raises(ConfigError, match="does not exist"):
        ph.telemetry.logger.configure_file_logging(file_path=tmp_path / "nope" / "log.json")


def test_bad_attachments_are_refused(tmp_path):
    env = PingEnv()
    with pytest.raises(ConfigError, match="env.telemetry must be a ph.Telemetry or None"):
        env.telemetry = "log.jsonl"
    with pytest.raises(ConfigError, match=r"names agents 'Z' that are not in this env"):
        env.telemetry = ph.Telemetry(tmp_path / "log.jsonl", rewards=["A", "Z"])
    assert env.telemetry is None


def test_bad_for_episode_and_read_arguments(tmp_path):
    with pytest.raises(ConfigError, match="config_index must be an int >= 0"):
        ph.telemetry.for_episode(tmp_path, -1, 0)
    with pytest.raises(ConfigError, match="repeat must be an int >= 0"):
        ph.telemetry.for_episode(tmp_path, 0, 1.5)
    with pytest.raises(ConfigError, match="pass directory, not sink="):
        ph.telemetry.for_episode(tmp_path, 0, 0, sink="x.jsonl")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot create the telemetry directory"):
        ph.telemetry.for_episode(tmp_path / "file" / "sub", 0, 0)
    with pytest.raises(ConfigError, match="directory must be a path"):
        ph.telemetry.for_episode(3, 0, 0)
    with pytest.raises(ConfigError, match="no telemetry at"):
        ph.telemetry.read_records(tmp_path / "absent")


def test_bad_phantom_logger_options_are_refused(tmp_path):
    logger = ph.telemetry.logger
    with pytest.raises(ConfigError, match="enable must be a bool"):
        logger.configure_print_logging(enable="yes")
    with pytest.raises(ConfigError, match="messages= must be True, False or a list"):
        logger.configure_print_logging(print_messages="a1")
    with pytest.raises(ConfigError, match="human_readable must be a bool"):
        logger.configure_file_logging(file_path=tmp_path / "log.json", human_readable=1)
