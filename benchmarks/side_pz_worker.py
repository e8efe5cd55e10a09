"""One side-by-side measurement of phantomzoo (started by ``phantom_side.py``).

    python side_pz_worker.py {sc|ads|ads_aec} N MIN_SECONDS SEED [--count]

sc       ``ph.make("supply_chain_v0", num_shops=N)`` through the PettingZoo ``ParallelEnv``
         API: ``reset(seed)``, then ``step(actions)`` while ``env.agents``.
ads      ``ph.make("digital_ads_v0", advertisers_per_family=N // 3, num_steps=10,
         max_bid=1, budgets of Phantom's example)`` through the acting-agents protocol
         (``acting_reset`` / ``acting_agents`` / ``acting_step``; one call per impression).
ads_aec  the same env through the PettingZoo AEC API: ``reset(seed)``, then
         ``for agent in agent_iter(): last(); step(action or None)``; one action batch is
         drawn per stage, at its first turn, and consumed turn by turn. The dead-agent
         ``step(None)`` calls that end an episode are timed but not counted.

The timing loop is :mod:`side_harness` (shared with the Phantom worker). With
``--count`` one more, untimed, episode runs with the network's message log on and the
messages per step are reported (to show both systems send the same messages).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import side_harness as sh  # noqa: E402

_T0 = time.perf_counter()
import phantomzoo as ph  # noqa: E402

IMPORT_S = time.perf_counter() - _T0
KINDS = ("sc", "ads", "ads_aec")
#: Impressions per ads episode: Phantom's example default (``num_steps=20``, two stages each).
IMPRESSIONS = 10
#: Phantom's example train-branch budget ranges (travel 5-15, tech 7-17, sport 10-20).
BUDGETS = {
    "travel_budget": (5.0, 15.0),
    "tech_budget": (7.0, 17.0),
    "sport_budget": (10.0, 20.0),
}


def build(kind: str, n: int) -> Any:
    """The env of one measurement (not timed)."""
    if kind == "sc":
        return ph.make("supply_chain_v0", num_shops=n)
    if n % 3:
        sh.fail(f"the ads market needs a multiple of 3 advertisers (three families), got {n}")
    return ph.make(
        "digital_ads_v0",
        advertisers_per_family=n // 3,
        num_steps=IMPRESSIONS,
        max_bid=1.0,
        **BUDGETS,
    )


def action_draw(env: Any, seed: int) -> sh.ActionDraw:
    """Uniform actions over the (shared) action space of the strategic agents."""
    spaces = [env.action_space(agent) for agent in env.possible_agents]
    first = spaces[0]
    if any(space != first for space in spaces[1:]):
        sh.fail("the strategic agents have different action spaces")
    return sh.ActionDraw(float(first.low.flat[0]), float(first.high.flat[0]), first.shape, seed)


# ------------------------------------------------------------------------ episodes
def parallel_episode(env: Any, draw: sh.ActionDraw, seed: int) -> sh.EpisodeCount:
    """One supply-chain episode through ``reset`` / ``step`` while ``env.agents``."""
    env.reset(seed=seed)
    count = sh.EpisodeCount()
    while env.agents:
        actions = draw.for_agents(env.agents)
        env.step(actions)
        count.env_steps += 1
        count.agent_steps += len(actions)
    count.acting_steps = count.env_steps
    return count


def acting_episode(env: Any, draw: sh.ActionDraw, seed: int) -> sh.EpisodeCount:
    """One ads episode through the acting protocol (one ``acting_step`` per impression)."""
    env.acting_reset(seed=seed)
    count = sh.EpisodeCount()
    acting = env.acting_agents
    while acting:
        actions = draw.for_agents(acting)
        env.acting_step(actions)
        count.env_steps += 1
        count.agent_steps += len(actions)
        acting = env.acting_agents
    count.acting_steps = count.env_steps
    return count


def aec_episode(env: Any, draw: sh.ActionDraw, seed: int) -> sh.EpisodeCount:
    """One ads episode through ``agent_iter`` / ``last`` / ``step``."""
    env.reset(seed=seed)
    count = sh.EpisodeCount(extra={"dead_steps": 0})
    pending: list[Any] = []
    for _agent in env.agent_iter():
        _, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
            count.extra["dead_steps"] += 1
            continue
        if not pending:  # first turn of a stage: one batch for all its acting agents
            pending.extend(reversed(list(draw.batch(len(env.acting_agents)))))
            count.acting_steps += 1
        env.step(pending.pop())
        count.agent_steps += 1
    count.env_steps = count.acting_steps  # stages with bidders = impressions
    return count


EPISODES = {"sc": parallel_episode, "ads": acting_episode, "ads_aec": aec_episode}


def warm_up(env: Any, kind: str, draw: sh.ActionDraw, seed: int) -> None:
    """One reset and :data:`side_harness.WARMUP_STEPS` steps (the first reset builds
    the routing tables); not timed."""
    if kind == "sc":
        env.reset(seed=seed)
        for _ in range(sh.WARMUP_STEPS):
            if not env.agents:
                env.reset(seed=seed)
            env.step(draw.for_agents(env.agents))
        return
    env.acting_reset(seed=seed)
    for _ in range(sh.WARMUP_STEPS):
        if not env.acting_agents:
            env.acting_reset(seed=seed)
        env.acting_step(draw.for_agents(env.acting_agents))


def count_messages(env: Any, kind: str, seed: int) -> dict[str, Any] | None:
    """Messages per step of one untimed episode, from the network's message log."""
    if kind == "ads_aec" or not hasattr(env.network, "message_log"):
        return None
    draw = action_draw(env, seed + 10_000)
    env.network.message_log = []
    episode = parallel_episode if kind == "sc" else acting_episode
    steps = episode(env, draw, seed + 10_000).env_steps
    log, env.network.message_log = env.network.message_log, None
    by_payload: dict[str, int] = {}
    for message in log:
        name = type(message.payload).__name__
        by_payload[name] = by_payload.get(name, 0) + 1
    return {
        "episode_steps": steps,
        "messages": len(log),
        "messages_per_step": len(log) / max(1, steps),
        "by_payload": by_payload,
    }


def main(argv: list[str]) -> None:
    args = sh.parse_worker_args(argv, KINDS)
    kind, n, seed = args["kind"], args["n"], args["seed"]
    t0 = time.perf_counter()
    env = build(kind, n)
    build_s = time.perf_counter() - t0
    draw = action_draw(env, seed)
    episode = EPISODES[kind]
    result = sh.measure(
        lambda: warm_up(env, kind, draw, seed),
        lambda s: episode(env, draw, s),
        args["min_seconds"],
        seed,
    )
    result.update(
        system="phantomzoo",
        api={"sc": "ParallelEnv", "ads": "acting protocol", "ads_aec": "AEC API"}[kind],
        kind=kind,
        n=n,
        agents=len(env.network),
        strategic=len(env.possible_agents),
        build_s=build_s,
        import_s=IMPORT_S,
        python=sys.version.split()[0],
    )
    if args["count"]:
        result["count"] = count_messages(env, kind, seed)
    sh.emit(result)


if __name__ == "__main__":
    main(sys.argv[1:])
