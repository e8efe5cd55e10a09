from __future__ import annotations

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.errors import NetworkError


class Player(ph.Agent):
    pass


class Dealer(ph.Agent):
    pass


def make_agents():
    return [Player("p1"), Player("p2"), Player("p3"), Dealer("d1")]


def test_connection_methods_agree():
    a = ph.Network(make_agents())
    for p in ("p1", "p2", "p3"):
        a.add_connection(p, "d1")
    b = ph.Network(make_agents())
    b.add_connections_from([("d1", "p1"), ("d1", "p2"), ("d1", "p3")])
    c = ph.Network(make_agents())
    c.add_connections_between(["d1"], ["p1", "p2", "p3"])
    d = ph.Network(make_agents())
    d.add_connections_with_adjmat(
        ["d1", "p1", "p2", "p3"],
        np.array([[0, 1, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]),
    )
    for net in (a, b, c, d):
        assert net.has_edge("p1", "d1") and net.has_edge("d1", "p1")
        assert not net.has_edge("p1", "p2")
        assert net.neighbours("d1") == ["p1", "p2", "p3"]


def test_accessors():
    net = ph.Network(make_agents())
    assert isinstance(net["d1"], Dealer)
    assert list(net.get_agents_with_type(Player)) == ["p1", "p2", "p3"]
    assert list(net.get_agents_without_type(Player)) == ["d1"]
    assert list(net.get_agents_where(lambda a: a.id in ["p1", "p3"])) == ["p1", "p3"]
    assert "p2" in net and len(net) == 4


def test_duplicate_agent_ids_are_rejected():
    with pytest.raises(NetworkError, match="duplicate agent id 'p1'"):
        ph.Network([Player("p1"), Dealer("p1")])


def test_connection_naming_unknown_agent():
    net = ph.Network(make_agents())
    with pytest.raises(NetworkError, match="unknown agent id 'p9'"):
        net.add_connection("p1", "p9")
    with pytest.raises(NetworkError, match="unknown agent id 'zz'"):
        net["zz"]


def test_bad_adjacency_matrices():
    net = ph.Network(make_agents())
    with pytest.raises(NetworkError, match="shape"):
        net.add_connections_with_adjmat(["p1", "p2"], np.zeros((3, 3)))
    with pytest.raises(NetworkError, match="symmetric"):
        net.add_connections_with_adjmat(["p1", "p2"], np.array([[0, 1], [0, 0]]))
    with pytest.raises(NetworkError, match="zero diagonal"):
        net.add_connections_with_adjmat(["p1", "p2"], np.array([[1, 0], [0, 0]]))


def test_an_agent_may_be_connected_to_itself_as_in_phantom():
    net = ph.Network(make_agents())
    net.add_connection("p1", "p1")
    assert net.has_edge("p1", "p1") and "p1" in net.neighbours("p1")


def test_network_holds_only_agents():
    with pytest.raises(NetworkError, match="ph.Agent instances"):
        ph.Network(["p1"])  # type: ignore[list-item]


def test_stochastic_network_resamples_from_given_generator():
    net = ph.StochasticNetwork(make_agents())
    net.add_connection("p1", "d1", 0.5)
    net.add_connection("p2", "d1", 1.0)
    net.add_connection("p3", "d1", 0.0)
    assert net.connection_rate("d1", "p1") == 0.5

    def draws(seed):
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(400):
            net.reset(rng)
            assert net.has_edge("p2", "d1") and not net.has_edge("p3", "d1")
            out.append(net.has_edge("p1", "d1"))
        return out

    first, second = draws(7), draws(7)
    assert first == second
    assert 0.4 < np.mean(first) < 0.6


def test_stochastic_network_errors():
    net = ph.StochasticNetwork(make_agents())
    with pytest.raises(NetworkError, match=r"rate must be in \[0, 1\]"):
        net.add_connection("p1", "d1", 1.5)
    with pytest.raises(NetworkError, match="needs a numpy Generator"):
        net.reset(7)
    net.reset()  # Phantom's unseeded call: a fresh generator (documented as unseeded)
