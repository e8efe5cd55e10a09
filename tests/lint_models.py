"""Tiny models that each break one message contract ``ph.testing.lint`` checks.

``MODELS`` maps every finding code to a function building a model that triggers it
(and, as far as the code allows, nothing else); ``clean_env`` breaks none.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import phantomzoo as ph
from phantomzoo.samplers import UniformFloatSampler


class Note(ph.MsgPayload):
    """Unrestricted: anyone connected may send it to anyone."""

    value: int


class Reply(ph.MsgPayload):
    value: int


@ph.msg_payload(sender_type="Actor", receiver_type="Sink")
class Order:
    """Declared for Actor -> Sink, but no Sink handles it."""

    size: int


@ph.msg_payload(sender_type="Actor")
class Tip:
    """Only Actors may send it."""

    amount: int


@ph.msg_payload(receiver_type="Sink")
class Memo:
    """Only Sinks may receive it."""

    text: str


class Actor(ph.StrategicAgent):
    """Acts with Discrete(2); sends ``Note(action)`` to each of ``targets``."""

    def __init__(self, agent_id, targets=(), fail_at=None):
        super().__init__(agent_id)
        self.targets = list(targets)
        self.fail_at = fail_at
        self.heard = 0
        self.observation_space = gym.spaces.Box(0.0, 1e9, (1,))
        self.action_space = gym.spaces.Discrete(2)

    def reset(self):
        self.heard = 0

    def decode_action(self, ctx, action):
        if self.fail_at is not None and ctx.current_step == self.fail_at:
            raise ValueError(f"{self.id} cannot act at step {ctx.current_step}")
        return [(target, Note(int(action))) for target in self.targets]

    @ph.msg_handler(Reply)
    def on_reply(self, ctx, message):
        self.heard += 1

    def encode_observation(self, ctx):
        return np.array([self.heard], dtype=np.float32)

    def compute_reward(self, ctx):
        return 0.0


class Echo(ph.Agent):
    """Answers every Note with a Reply."""

    @ph.msg_handler(Note)
    def on_note(self, ctx, message):
        return [(message.sender_id, Reply(message.payload.value))]


class Sink(ph.Agent):
    """Handles nothing."""


class Listener(ph.Agent):
    """Handles Tip and Memo, which (wired here) nobody may send it."""

    @ph.msg_handler(Tip)
    def on_tip(self, ctx, message):
        return None

    @ph.msg_handler(Memo)
    def on_memo(self, ctx, message):
        return None


@dataclass(frozen=True)
class ActorView(ph.AgentView):
    heard: int


class ViewActor(Actor):
    """An Actor that publishes a view."""

    def view(self, neighbour_id=None):
        return ActorView(self.heard)


class Model(ph.PhantomEnv):
    """A parallel model over ``agents`` and ``edges``."""

    def __init__(self, agents, edges=(), resolver=None, num_steps=4):
        network = ph.Network(agents, resolver=resolver)
        network.add_connections_from(edges)
        super().__init__(num_steps=num_steps, network=network)


def clean_env():
    """Two actors, each talking to its own echo: nothing to report."""
    return Model(
        [Actor("A", ["EA"]), Actor("B", ["EB"]), Echo("EA"), Echo("EB")],
        [("A", "EA"), ("B", "EB")],
    )


def unhandled_payload_env():
    """Order is declared Actor -> Sink; the Sink connected to an Actor has no handler."""
    return Model([Actor("A", ["E"]), Echo("E"), Sink("S")], [("A", "E"), ("A", "S")])


def delivered_unhandled_env():
    """The actor sends Notes to a Sink, which has no handler: the first step fails."""
    return Model([Actor("A", ["S"]), Sink("S")], [("A", "S")])


def unsendable_handler_env():
    """The Listener handles Tip (Actors only may send it) but only a Sink is connected to
    it; and it handles Memo, whose only receivers are Sinks."""
    return Model(
        [Actor("A", ["E"]), Echo("E"), Listener("L"), Sink("S")],
        [("A", "E"), ("L", "S")],
    )


def isolated_strategic_env():
    """B has no edge while A talks to its echo."""
    return Model([Actor("A", ["E"]), Echo("E"), Actor("B")], [("A", "E")])


def unreached_agent_env():
    """The echo is connected to the actor, which never sends it anything."""
    return Model([Actor("A"), Echo("E")], [("A", "E")])


class LoopBouncer(ph.Agent):
    """Bounces every Note it gets to ``partner``: two of them bounce forever."""

    def __init__(self, agent_id, partner):
        super().__init__(agent_id)
        self.partner = partner

    @ph.msg_handler(Note)
    def on_note(self, ctx, message):
        return [(self.partner, Note(message.payload.value + 1))]


def loop_env(on_round_limit="raise"):
    """A's Note reaches X, which bounces it to Y and back forever."""
    resolver = ph.resolvers.BatchResolver(round_limit=10, on_round_limit=on_round_limit)
    return Model(
        [Actor("A", ["X"]), LoopBouncer("X", "Y"), LoopBouncer("Y", "X")],
        [("A", "X"), ("X", "Y")],
        resolver=resolver,
    )


def episode_error_env():
    """The actor's decode_action raises at step 1."""
    return Model([Actor("A", ["E"], fail_at=1), Echo("E")], [("A", "E")])


def unreadable_view_env():
    """A publishes a view but has no neighbour; B talks to its echo."""
    return Model([ViewActor("A"), Actor("B", ["E"]), Echo("E")], [("B", "E")])


class NeighbourActor(Actor):
    """Sends ``Note(action)`` to whichever neighbours it has this episode."""

    def decode_action(self, ctx, action):
        return [(i, Note(int(action))) for i in ctx.neighbour_ids]


class StochasticModel(ph.PhantomEnv):
    """An actor connected to echo ``E1`` for sure and to each of ``rare`` with a rate
    that can be above 0 but practically never is."""

    def __init__(self, rare=("E2",), sure=True):
        echoes = (["E1"] if sure else []) + list(rare)
        network = ph.StochasticNetwork([NeighbourActor("A"), *(Echo(i) for i in echoes)])
        if sure:
            network.add_connection("A", "E1")
        for echo_id in rare:
            network.add_connection("A", echo_id, UniformFloatSampler(0.0, 1e-12))
        super().__init__(num_steps=4, network=network)


class StagedModel(ph.FiniteStateMachineEnv):
    """A staged model over two actors talking to echoes, with the given stages."""

    def __init__(self, stages, initial_stage, num_steps=6):
        network = ph.Network(
            [Actor("A", ["EA"]), Actor("B", ["EB"]), Echo("EA"), Echo("EB")],
            connections=[("A", "EA"), ("B", "EB")],
        )
        super().__init__(num_steps, network, initial_stage, stages=stages)


def unreachable_stage_env():
    """Stage "orphan" leads to "play", but nothing leads to it."""
    return StagedModel(
        [
            ph.FSMStage("play", ["A", "B"], next_stages=["play"]),
            ph.FSMStage("orphan", ["A"], next_stages=["play"]),
        ],
        "play",
    )


def unrewarded_actor_env():
    """A acts in stage "a" but no stage rewards it."""
    return StagedModel(
        [
            ph.FSMStage("a", ["A"], rewarded_agents=[], next_stages=["b"]),
            ph.FSMStage("b", ["B"], rewarded_agents=["B"], next_stages=["a"]),
        ],
        "a",
    )


def clean_staged_env():
    """Each actor acts in one stage and is rewarded in the other (Stackelberg style)."""
    return StagedModel(
        [
            ph.FSMStage("a", ["A"], rewarded_agents=["B"], next_stages=["b"]),
            ph.FSMStage("b", ["B"], rewarded_agents=["A"], next_stages=["a"]),
        ],
        "a",
    )


#: One model per finding code.
MODELS = {
    "unhandled-payload": unhandled_payload_env,
    "message-bounce": loop_env,
    "unrewarded-actor": unrewarded_actor_env,
    "episode-error": episode_error_env,
    "unsendable-handler": unsendable_handler_env,
    "isolated-strategic-agent": isolated_strategic_env,
    "unreached-agent": unreached_agent_env,
    "unreachable-stage": unreachable_stage_env,
    "unreadable-view": unreadable_view_env,
}
