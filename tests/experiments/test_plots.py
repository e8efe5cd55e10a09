"""ph.plots: the message graph and the timeline of a recorded episode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.episode_graph import (
    agent_classes,
    build_graph,
    class_of_id,
    positions,
    recorded_messages,
    rollout_agents,
)
from phantomzoo.errors import ConfigError, DependencyNotInstalled
from phantomzoo.experiments.trajectories import Rollout
from phantomzoo.plot_timeline import action_values, stage_runs
from tests.models import ConstantPolicy, Echo, Ping, PingEnv, Talker, TurnEnv

pytest.importorskip("matplotlib")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Idle(ph.Agent):
    """Connected to the hub but never sends anything (its edge carries no message)."""


class HubEnv(ph.PhantomEnv):
    """``size`` talkers pinging one shared echo, plus an idle agent next to the echo."""

    def __init__(self, size: int = 3, num_steps: int = 4) -> None:
        talkers = [Talker(f"T{i}", "HUB") for i in range(1, size + 1)]
        network = ph.Network([*talkers, Echo("HUB"), Idle("IDLE")])
        network.add_connections_from([(t.id, "HUB") for t in talkers])
        network.add_connection("HUB", "IDLE")
        super().__init__(num_steps=num_steps, network=network)


class VectorTalker(Talker):
    """A talker with a 2-number action (it pings the rounded first one)."""

    def __init__(self, agent_id: str, target: str) -> None:
        super().__init__(agent_id, target)
        self.action_space = gym.spaces.Box(0.0, 3.0, shape=(2,))

    def decode_action(self, ctx, action):
        return [(self.target, Ping(int(round(float(action[0])))))]


class VectorEnv(ph.PhantomEnv):
    def __init__(self) -> None:
        network = ph.Network([VectorTalker("V", "EV"), Echo("EV")])
        network.add_connection("V", "EV")
        super().__init__(num_steps=3, network=network)


class VectorPolicy(ph.Policy):
    def compute_action(self, observation):
        return np.array([1.0, 2.5], dtype=np.float32)


def _hub_rollout(size: int = 3, record: bool = True) -> Rollout:
    mapping = {f"T{i}": (ConstantPolicy, {"value": i % 4}) for i in range(1, size + 1)}
    (rollout,) = ph.rollout(
        HubEnv,
        env_config={"size": size},
        custom_policy_mapping=mapping,
        record_messages=record,
        show_progress_bar=False,
    )
    return rollout


def _ping_rollout(env=PingEnv, record: bool = True) -> Rollout:
    (rollout,) = ph.rollout(
        env,
        custom_policy_mapping={"A": ConstantPolicy, "B": ConstantPolicy},
        record_messages=record,
        show_progress_bar=False,
    )
    return rollout


def _is_png(path: Path) -> bool:
    data = Path(path).read_bytes()
    return len(data) > 1000 and data.startswith(PNG_SIGNATURE)


# ---------------------------------------------------------------- pictures written
def test_message_graph_writes_a_png(tmp_path: Path) -> None:
    rollout = _ping_rollout()
    out = ph.plots.message_graph(rollout, tmp_path / "sub" / "graph.png", env=PingEnv())
    assert out == tmp_path / "sub" / "graph.png"
    assert _is_png(out)


@pytest.mark.parametrize("layout", ["auto", "circles", "networkx"])
@pytest.mark.parametrize("aggregate", [None, True, False])
def test_message_graph_every_layout_and_mode(tmp_path: Path, layout: str, aggregate) -> None:
    if layout == "networkx":
        pytest.importorskip("networkx")
    rollout = _hub_rollout(size=8)
    path = tmp_path / f"{layout}-{aggregate}.png"
    ph.plots.message_graph(rollout, path, env=HubEnv(size=8), layout=layout, aggregate=aggregate)
    assert _is_png(path)


def test_a_large_episode_is_drawn_per_class_and_quickly(tmp_path: Path) -> None:
    import time

    rollout = _hub_rollout(size=1200)
    start = time.perf_counter()
    path = ph.plots.message_graph(rollout, tmp_path / "big.png", env=HubEnv(size=1200))
    assert time.perf_counter() - start < 20
    assert _is_png(path)


def test_registered_env_name_is_built_with_the_rollout_config(tmp_path: Path) -> None:
    ph.register("plots_hub_test_v0", entry_point=HubEnv)
    rollout = _hub_rollout(size=5)
    path = ph.plots.message_graph(rollout, tmp_path / "g.png", env="plots_hub_test_v0")
    assert _is_png(path)


def test_timeline_writes_a_png_with_stage_bands(tmp_path: Path) -> None:
    rollout = _ping_rollout(TurnEnv)
    assert [s for s, _, _ in stage_runs(rollout)] == ["a", "b", "a", "b", "a", "b"]
    path = ph.plots.timeline(rollout, tmp_path / "timeline.png", agents=["A", "B"])
    assert _is_png(path)


def test_timeline_default_agents_and_vector_actions(tmp_path: Path) -> None:
    (rollout,) = ph.rollout(
        VectorEnv, custom_policy_mapping={"V": VectorPolicy}, show_progress_bar=False
    )
    values = action_values(rollout, "V")
    assert values.shape == (3, 2) and values[0].tolist() == [1.0, 2.5]
    assert _is_png(ph.plots.timeline(rollout, tmp_path / "t.png"))


def test_timeline_does_not_need_messages(tmp_path: Path) -> None:
    rollout = _hub_rollout(size=3, record=False)
    assert _is_png(ph.plots.timeline(rollout, tmp_path / "t.png", agents=["T1", "T3"]))


def test_episode_plots_writes_both(tmp_path: Path) -> None:
    paths = ph.plots.episode_plots(_ping_rollout(), tmp_path, env=PingEnv(), prefix="ep0_")
    assert [p.name for p in paths] == ["ep0_message_graph.png", "ep0_timeline.png"]
    assert all(_is_png(p) for p in paths)
    only = ph.plots.episode_plots(_ping_rollout(record=False), tmp_path / "no_messages")
    assert [p.name for p in only] == ["timeline.png"]


def test_ph_plots_is_lazy_and_import_needs_no_matplotlib() -> None:
    code = (
        "import sys, phantomzoo as ph\n"
        "assert 'matplotlib' not in sys.modules, 'import phantomzoo imported matplotlib'\n"
        "assert callable(ph.plots.message_graph) and callable(ph.plots.timeline)\n"
        "assert 'matplotlib' not in sys.modules, 'ph.plots imported matplotlib'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- what is drawn
def test_graph_counts_messages_per_edge_and_payload() -> None:
    rollout = _hub_rollout(size=3)
    messages = recorded_messages(rollout, "test")
    groups, declared = agent_classes(rollout_agents(rollout, messages), HubEnv(size=3))
    graph = build_graph(rollout, messages, groups, declared)
    # ConstantPolicy value i % 4: T1..T3 ping every one of the 4 steps, the echo answers
    assert graph.flows[("T1", "HUB", "Ping")] == 4
    assert graph.flows[("HUB", "T2", "Pong")] == 4
    assert graph.total_messages() == 24
    assert graph.quiet == {frozenset(("HUB", "IDLE"))}
    assert graph.classes() == ["Echo", "Talker", "Idle"]  # along the flow; silent last
    grouped = build_graph(rollout, messages, groups, declared, aggregate=True)
    assert grouped.flows == {("Talker", "Echo", "Ping"): 12, ("Echo", "Talker", "Pong"): 12}
    assert grouped.sizes == {"Talker": 3, "Echo": 1, "Idle": 1}
    assert grouped.quiet == {frozenset(("Echo", "Idle"))}


def test_classes_without_env_are_guessed_from_ids() -> None:
    assert class_of_id("SHOP1_CUST3") == "CUST"
    assert class_of_id("TRAVEL12") == "TRAVEL"
    assert class_of_id("WAREHOUSE") == "WAREHOUSE"
    assert class_of_id(7) == "7"
    groups, declared = agent_classes(["A1", "A2", "EB"])
    assert groups == {"A1": "A", "A2": "A", "EB": "EB"} and declared == []
    given, _ = agent_classes(["A1", "EB"], classes={"A1": "buyer", "EB": "seller"})
    assert given == {"A1": "buyer", "EB": "seller"}


def test_layouts_are_deterministic_and_work_without_networkx(monkeypatch) -> None:
    rollout = _hub_rollout(size=6)
    messages = recorded_messages(rollout, "test")
    groups, declared = agent_classes(rollout_agents(rollout, messages), HubEnv(size=6))
    graph = build_graph(rollout, messages, groups, declared)
    assert positions(graph, "circles") == positions(graph, "circles")
    monkeypatch.setitem(sys.modules, "networkx", None)
    assert positions(graph, "auto") == positions(graph, "circles")
    places = positions(graph, "circles")
    assert len({(round(x, 6), round(y, 6)) for x, y in places.values()}) == len(graph.nodes)


# ---------------------------------------------------------------- errors
def test_missing_matplotlib_names_the_plots_extra(monkeypatch, tmp_path: Path) -> None:
    rollout = _ping_rollout()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(DependencyNotInstalled, match=r"pip install 'phantomzoo\[plots\]'"):
        ph.plots.message_graph(rollout, tmp_path / "g.png")
    with pytest.raises(DependencyNotInstalled, match=r"phantomzoo\[plots\]"):
        ph.plots.timeline(rollout, tmp_path / "t.png")
    assert not (tmp_path / "g.png").exists()


def test_networkx_layout_without_networkx(monkeypatch, tmp_path: Path) -> None:
    rollout = _ping_rollout()
    monkeypatch.setitem(sys.modules, "networkx", None)
    with pytest.raises(DependencyNotInstalled, match="layout='networkx' needs networkx"):
        ph.plots.message_graph(rollout, tmp_path / "g.png", layout="networkx")


def test_message_graph_refuses_bad_arguments(tmp_path: Path) -> None:
    rollout = _ping_rollout()
    png = tmp_path / "g.png"
    with pytest.raises(ConfigError, match=r"returns a list: pass one episode, e.g. rollouts\[0\]"):
        ph.plots.message_graph([rollout], png)
    with pytest.raises(ConfigError, match="needs one ph.Rollout, got dict"):
        ph.plots.message_graph({}, png)
    with pytest.raises(ConfigError, match=r"record_messages=True"):
        ph.plots.message_graph(_ping_rollout(record=False), png)
    with pytest.raises(ConfigError, match=r"give a path ending in \.png, got '.*g\.pdf'"):
        ph.plots.message_graph(rollout, tmp_path / "g.pdf")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        ph.plots.message_graph(rollout, folder)
    with pytest.raises(ConfigError, match="path must be a file name ending in .png, got 3"):
        ph.plots.message_graph(rollout, 3)
    with pytest.raises(ConfigError, match="aggregate must be True, False or None"):
        ph.plots.message_graph(rollout, png, aggregate="yes")
    with pytest.raises(ConfigError, match="max_agents must be an int >= 1, got 0"):
        ph.plots.message_graph(rollout, png, max_agents=0)
    with pytest.raises(ConfigError, match="layout must be one of auto, networkx, circles"):
        ph.plots.message_graph(rollout, png, layout="spring")
    with pytest.raises(ConfigError, match=r"classes has no entry for agent\(s\) \['B'"):
        ph.plots.message_graph(rollout, png, classes={"A": "x", "EA": "y"})
    with pytest.raises(ConfigError, match=r"classes must be a mapping"):
        ph.plots.message_graph(rollout, png, classes=["A"])
    with pytest.raises(ConfigError, match=r"env has no agent\(s\) \['A', 'B'"):
        ph.plots.message_graph(rollout, png, env=HubEnv())
    with pytest.raises(ConfigError, match=r"env must be the episode's phantomzoo env"):
        ph.plots.message_graph(rollout, png, env=object())
    assert not png.exists()


def test_empty_rollouts_are_refused(tmp_path: Path) -> None:
    empty = Rollout(0, 0, {}, {}, [])
    with pytest.raises(ConfigError, match="the rollout has no steps"):
        ph.plots.message_graph(empty, tmp_path / "g.png")
    with pytest.raises(ConfigError, match="the rollout has no steps"):
        ph.plots.timeline(empty, tmp_path / "t.png")


def test_timeline_refuses_bad_agents(tmp_path: Path) -> None:
    rollout = _ping_rollout()
    png = tmp_path / "t.png"
    with pytest.raises(ConfigError, match=r"agent\(s\) \['C'\] are not in the rollout; it has 'A'"):
        ph.plots.timeline(rollout, png, agents=["A", "C"])
    with pytest.raises(ConfigError, match="agents is empty"):
        ph.plots.timeline(rollout, png, agents=[])
    with pytest.raises(
        ConfigError, match=r"agents must be a list of agent ids \(e.g. \['SHOP1'\]\)"
    ):
        ph.plots.timeline(rollout, png, agents="A")
    with pytest.raises(ConfigError, match="timeline draws at most 12 agents"):
        ph.plots.timeline(_hub_rollout(size=13), png, agents=[f"T{i}" for i in range(1, 14)])
    with pytest.raises(ConfigError, match=r"needs one ph.Rollout"):
        ph.plots.timeline([rollout], png)
    with pytest.raises(ConfigError, match=r"writes PNG files"):
        ph.plots.timeline(rollout, tmp_path / "t.svg")
    assert not png.exists()


def test_timeline_refuses_actions_that_are_not_numbers(tmp_path: Path) -> None:
    rollout = _ping_rollout()
    rollout.steps[1].actions["A"] = "buy"
    with pytest.raises(ConfigError, match=r"agent 'A' took an action that is not numbers"):
        ph.plots.timeline(rollout, tmp_path / "t.png", agents=["A"])
    rollout.steps[1].actions["A"] = np.array([1.0, 2.0])
    with pytest.raises(ConfigError, match=r"agent 'A''s actions change size between steps"):
        ph.plots.timeline(rollout, tmp_path / "t.png", agents=["A"])
