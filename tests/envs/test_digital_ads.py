from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import phantomzoo as ph
from phantomzoo.envs import digital_ads_v0
from phantomzoo.envs.digital_ads import (
    AdPlacement,
    AuctionResult,
    Bid,
    DigitalAdsEnv,
    ExchangeView,
    RandomBidPolicy,
    ValueBidPolicy,
    evaluate_clicks,
)
from phantomzoo.envs.digital_ads.agents import OBS_BUDGET, OBS_BUDGET_LEFT, OBS_LAST, OBS_USER
from phantomzoo.envs.digital_ads.floor import PlainDigitalAds
from phantomzoo.errors import ConfigError
from phantomzoo.testing import check_env


def bids(env, amounts):
    """One float32 action per acting advertiser: ``amounts[id]`` or 0 (abstain)."""
    return {a: np.array([amounts.get(a, 0.0)], dtype=np.float32) for a in env.acting_agents}


def test_reachable_by_name_and_module():
    env = ph.make("digital_ads_v0", advertisers_per_family=3)
    assert isinstance(env, DigitalAdsEnv)
    assert env.possible_agents == [
        f"{t}{k}" for t in ("TRAVEL", "TECH", "SPORT") for k in (1, 2, 3)
    ]
    assert len(env.network) == 9 + 2
    assert env.num_steps == 2 * env.num_impressions == 200
    assert digital_ads_v0.raw_env is DigitalAdsEnv
    aec = digital_ads_v0.env(num_steps=5)
    aec.reset(seed=0)
    assert aec.agent_selection == "TRAVEL1"
    assert env.observation_space("TECH1").shape == (13,)
    assert env.action_space("TECH1").high.tolist() == [1.0]


SMALL_BUDGETS = dict(travel_budget=(0.5, 1.0), tech_budget=(0.5, 1.5), sport_budget=(1.0, 2.0))


@pytest.mark.parametrize(
    ("kwargs", "cycles"),
    [
        ({}, 50),
        ({"auction": "second", "stochastic_edges": True, "connection_rate": 0.5}, 50),
        ({"num_steps": 30, **SMALL_BUDGETS}, 1000),  # advertisers terminate mid-episode
    ],
    ids=["default", "second-stochastic", "terminations"],
)
def test_conformance(kwargs, cycles):
    check_env(lambda: ph.make("digital_ads_v0", **kwargs), num_cycles=cycles)


def test_aec_and_acting_protocol_agree():
    env = ph.make("digital_ads_v0", num_steps=30, **SMALL_BUDGETS)
    env.reset(seed=4)
    rng = np.random.default_rng(0)
    played, aec_returns = [], {}
    for agent in env.agent_iter():
        _, reward, terminated, truncated, _ = env.last()
        aec_returns[agent] = aec_returns.get(agent, 0.0) + reward
        action = None if terminated or truncated else rng.uniform(0, 1, (1,)).astype(np.float32)
        if action is not None:
            played.append(action)
        env.step(action)
    replay = iter(played)
    env.acting_reset(seed=4)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    while env.acting_agents:
        _, rewards, *_ = env.acting_step({a: next(replay) for a in env.acting_agents})
        for agent_id, reward in rewards.items():
            returns[agent_id] += reward
    assert returns == aec_returns and next(replay, None) is None


@pytest.mark.parametrize(
    ("auction", "cost"), [("first", 0.9), ("second", 0.5)], ids=["first", "second"]
)
def test_auction_in_the_env(auction, cost):
    env = ph.make("digital_ads_v0", advertisers_per_family=1, auction=auction)
    env.acting_reset(seed=1)
    user = env.network["PUBLISHER"].user_id
    start = {a: env.network[a].budget_left for a in env.possible_agents}
    obs, rewards, *_ = env.acting_step(bids(env, {"TRAVEL1": 0.9, "TECH1": 0.5, "SPORT1": 0.3}))
    # The winner paid, saw the result and (user 1 always clicks travel, user 2 never) the click.
    clicked = 1.0 if user == 1 else 0.0
    assert obs["TRAVEL1"][OBS_LAST].tolist() == pytest.approx([1.0, cost, clicked])
    assert env.network["TRAVEL1"].budget_left == pytest.approx(start["TRAVEL1"] - cost)
    assert rewards == {"TRAVEL1": clicked, "TECH1": 0.0, "SPORT1": 0.0}
    assert env.network["EXCHANGE"].revenue == pytest.approx(cost)
    for loser in ("TECH1", "SPORT1"):
        assert obs[loser][OBS_LAST].tolist() == [0.0, 0.0, 0.0]
        assert env.network[loser].budget_left == start[loser]


def auction(kind, amounts, seed=0):
    """Replies of a fresh exchange auctioning ``{advertiser_id: bid}``."""
    env = ph.make("digital_ads_v0", advertisers_per_family=2, auction=kind)
    exchange = env.network["EXCHANGE"]
    theme = {a: env.family_of(a) for a in env.possible_agents}
    batch = [ph.Message(a, "EXCHANGE", Bid(x, theme[a])) for a, x in amounts.items()]
    ctx = SimpleNamespace(rng=np.random.default_rng(seed))
    return dict(exchange.handle_batch(ctx, batch))


def test_first_and_second_price_results():
    amounts = {"TRAVEL1": 0.9, "TECH1": 0.5, "SPORT1": 0.3, "SPORT2": 0.005}
    first = auction("first", amounts)
    assert first == {
        "TRAVEL1": AuctionResult(True, 0.9),
        "TECH1": AuctionResult(False, 0.0),
        "SPORT1": AuctionResult(False, 0.0),
        "SPORT2": AuctionResult(False, 0.0),  # below min_bid: told it lost
        "PUBLISHER": AdPlacement("TRAVEL1", "travel"),
    }
    second = auction("second", amounts)
    assert second["TRAVEL1"] == AuctionResult(True, 0.5)
    assert second["TECH1"] == AuctionResult(False, 0.0)
    # Alone, a second-price winner pays the reserve (min_bid).
    assert auction("second", {"TECH2": 0.7})["TECH2"] == AuctionResult(True, 0.01)
    # Nobody above min_bid: no winner, no ad.
    empty = auction("first", {"TECH1": 0.0, "SPORT1": 0.001})
    assert "PUBLISHER" not in empty
    assert set(empty.values()) == {AuctionResult(False, 0.0)}


def test_ties_are_broken_by_the_generator():
    winners = set()
    for seed in range(20):
        replies = auction("second", {"TRAVEL1": 0.7, "TECH1": 0.7, "SPORT1": 0.2}, seed)
        winners.add(replies["PUBLISHER"].advertiser_id)
        assert replies[replies["PUBLISHER"].advertiser_id] == AuctionResult(True, 0.7)
    assert winners == {"TRAVEL1", "TECH1"}


def test_bids_are_capped_and_invalid_bids_abstain():
    env = ph.make("digital_ads_v0", advertisers_per_family=1, travel_budget=(0.5, 0.5))
    env.checks = "off"  # NaN bids are refused by the default runtime checks (see below)
    env.acting_reset(seed=0)
    actions = bids(env, {"TRAVEL1": 5.0, "TECH1": float("nan")})
    env.acting_step(actions)
    assert env.network["TRAVEL1"].bid == 0.5  # capped to max_bid, then to the budget
    assert env.network["TECH1"].bid == 0.0


def test_nan_bid_is_refused_by_the_default_checks():
    env = ph.make("digital_ads_v0", advertisers_per_family=1)
    env.acting_reset(seed=0)
    with pytest.raises(ph.errors.ActionError, match=r"agent 'TECH1' for step 2 .*contains NaN"):
        env.acting_step(bids(env, {"TECH1": float("nan")}))


def test_budgets_are_resampled_each_reset_from_the_seed():
    env = ph.make("digital_ads_v0", advertisers_per_family=5)

    def budgets(seed):
        obs, _ = env.acting_reset(seed=seed)
        for agent_id, o in obs.items():
            assert env.network[agent_id].budget_left == pytest.approx(o[OBS_BUDGET], rel=1e-6)
        return {a: float(o[OBS_BUDGET]) for a, o in obs.items()}

    first, again, other = budgets(0), budgets(0), budgets(1)
    assert first == again and first != other
    assert len(set(first.values())) == len(first)  # each advertiser its own draw
    for agent_id, budget in first.items():
        low, high = env.config[f"{env.family_of(agent_id)}_budget"]
        assert low <= budget <= high


def test_advertiser_terminates_when_budget_spent():
    env = ph.make("digital_ads_v0", advertisers_per_family=1, travel_budget=(0.5, 0.5))
    env.acting_reset(seed=0)
    obs, _, terminations, truncations, _ = env.acting_step(bids(env, {"TRAVEL1": 1.0}))
    assert terminations == {"TRAVEL1": True, "TECH1": False, "SPORT1": False}
    assert not any(truncations.values())
    assert obs["TRAVEL1"][OBS_BUDGET_LEFT] == 0.0  # final observation
    assert env.acting_agents == ["TECH1", "SPORT1"]


def test_episode_length_and_truncation():
    env = ph.make("digital_ads_v0", num_steps=4)
    env.acting_reset(seed=0)
    for _ in range(4):
        *_, truncations, _ = env.acting_step(bids(env, {}))
    assert all(truncations.values()) and env.acting_agents == []


def test_exchange_view_is_for_advertisers_only():
    env = ph.make("digital_ads_v0")
    obs, _ = env.acting_reset(seed=0)
    exchange = env.network["EXCHANGE"]
    view = exchange.view("TRAVEL1")
    assert isinstance(view, ExchangeView) and exchange.view("PUBLISHER") is None
    user = env.network["PUBLISHER"].user_id
    assert obs["TRAVEL1"][OBS_USER].tolist() == [float(user == 1), float(user == 2)]
    assert obs["TRAVEL1"][7] == pytest.approx(view.user_age / 100)


def test_stochastic_edges_drop_advertisers_per_episode():
    env = ph.make(
        "digital_ads_v0", advertisers_per_family=10, stochastic_edges=True, connection_rate=0.5
    )
    edges = []
    for seed in (0, 1):
        obs, _ = env.acting_reset(seed=seed)
        connected = [a for a in env.possible_agents if env.network.has_edge("EXCHANGE", a)]
        assert 0 < len(connected) < 30
        cut = [a for a in env.possible_agents if a not in connected]
        assert all(obs[a][OBS_USER].sum() == 0 for a in cut)  # never told of an impression
        _, rewards, *_ = env.acting_step(bids(env, dict.fromkeys(cut, 1.0)))
        assert all(env.network[a].budget_left == env.network[a].budget for a in cut)
        edges.append(connected)
    assert edges[0] != edges[1]


def test_value_heuristic_beats_random_bidding():
    env = ph.make("digital_ads_v0", num_steps=50)
    spaces = (env.observation_space("TRAVEL1"), env.action_space("TRAVEL1"))
    random = evaluate_clicks(env, RandomBidPolicy(*spaces, seed=0), num_episodes=5, seed=100)
    value = evaluate_clicks(env, ValueBidPolicy(*spaces), num_episodes=5, seed=100)
    assert set(value) == {"travel", "tech", "sport", "overall"}
    assert value["overall"] > 1.3 * random["overall"]
    assert value["overall"] == pytest.approx(value["travel"] + value["tech"] + value["sport"])


def test_value_heuristic_bids_on_click_probability():
    env = ph.make("digital_ads_v0")
    obs, _ = env.acting_reset(seed=0)
    spaces = (env.observation_space("TRAVEL1"), env.action_space("TRAVEL1"))
    policy = ValueBidPolicy(*spaces)
    user = env.network["PUBLISHER"].user_id
    expected = {1: [1.0, 0.8, 0.0], 2: [0.0, 0.2, 1.0]}[user]  # full budget, no time elapsed
    actions = policy.compute_actions([obs[a] for a in ("TRAVEL1", "TECH1", "SPORT1")])
    assert [float(a[0]) for a in actions] == pytest.approx(expected)


@pytest.mark.parametrize("per_family", [2, 20, 40, 400])
def test_runs_at_every_size(per_family):
    env = ph.make("digital_ads_v0", advertisers_per_family=per_family, num_steps=3)
    assert len(env.possible_agents) == 3 * per_family
    obs, _ = env.acting_reset(seed=0)
    rng = np.random.default_rng(0)
    steps = 0
    while env.acting_agents:
        acting = env.acting_agents
        draws = rng.uniform(0, 1, (len(acting), 1)).astype(np.float32)
        obs, rewards, *_ = env.acting_step(dict(zip(acting, draws)))
        assert sum(rewards.values()) <= 1.0  # one impression, at most one click
        steps += 1
    assert steps == 3 and env.network["PUBLISHER"].impressions == 3


@pytest.mark.parametrize("auction_kind", ["first", "second"])
def test_floor_reproduces_the_model(auction_kind):
    env = ph.make("digital_ads_v0", advertisers_per_family=2, auction=auction_kind, num_steps=60)
    floor = PlainDigitalAds(2, auction=auction_kind, num_steps=60)
    rng = np.random.default_rng(5)
    obs, _ = env.acting_reset(seed=3)
    floor_obs = floor.reset(3)
    ids = env.possible_agents
    while env.acting_agents:
        np.testing.assert_allclose(
            np.stack([obs[ids[i]] for i in floor.live]), floor_obs[: len(floor.live)]
        )
        acting = env.acting_agents
        draws = np.round(rng.uniform(0, 1, (len(acting), 1)), 1).astype(np.float32)  # ties
        obs, rewards, *_ = env.acting_step(dict(zip(acting, draws)))
        floor_obs, floor_rewards, _, _ = floor.step(draws)
        assert [rewards[a] for a in acting] == floor_rewards
    assert [env.network[a].budget_left for a in ids] == pytest.approx(floor.left)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"advertisers_per_family": 0}, "advertisers_per_family must be an int >= 1"),
        ({"advertisers_per_family": 2.5}, "advertisers_per_family must be an int >= 1"),
        ({"num_steps": 0}, "num_steps must be an int >= 1"),
        ({"auction": "dutch"}, "auction must be 'first' or 'second'"),
        ({"max_bid": -1.0}, "need 0 < min_bid <= max_bid"),
        ({"min_bid": 0.0}, "need 0 < min_bid <= max_bid"),
        ({"min_bid": 2.0}, "need 0 < min_bid <= max_bid"),
        ({"max_bid": float("inf")}, "max_bid must be finite"),
        ({"max_bid": "1"}, "max_bid must be a number"),
        ({"travel_budget": 5.0}, "travel_budget must be a \\(low, high\\) pair"),
        ({"tech_budget": (20.0, 10.0)}, "tech_budget must satisfy min_bid"),
        ({"sport_budget": (0.0, 10.0)}, "sport_budget must satisfy min_bid"),
        ({"sport_budget": (1.0, float("nan"))}, "sport_budget high must be finite"),
        ({"stochastic_edges": "yes"}, "stochastic_edges must be True or False"),
        ({"connection_rate": 0.0}, "connection_rate must be in \\(0, 1\\]"),
        ({"connection_rate": 1.5}, "connection_rate must be in \\(0, 1\\]"),
        ({"check_observations": 1}, "check_observations must be True or False"),
        ({"num_advertisers": 6}, "does not accept 'num_advertisers'"),
    ],
)
def test_bad_configs_raise_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ph.make("digital_ads_v0", **kwargs)


def test_evaluation_errors():
    env = ph.make("digital_ads_v0")
    policy = ValueBidPolicy(env.observation_space("TRAVEL1"), env.action_space("TRAVEL1"))
    with pytest.raises(ConfigError, match="num_episodes must be an int >= 1"):
        evaluate_clicks(env, policy, num_episodes=0)
    with pytest.raises(ConfigError, match="no policy given for famil"):
        evaluate_clicks(env, {"travel": policy})
