"""ph.testing.lint: every finding code has a model that triggers it, the findings name
what is involved, the bundled models lint clean, and bad arguments are refused."""

from __future__ import annotations

import warnings

import pytest
from lint_models import (
    MODELS,
    Actor,
    Model,
    StochasticModel,
    clean_env,
    clean_staged_env,
    delivered_unhandled_env,
    isolated_strategic_env,
    loop_env,
)

import phantomzoo as ph
from phantomzoo.errors import ConfigError
from phantomzoo.experiments.lint_findings import CODES, Finding, sort_findings, summary


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _one(findings: list[Finding], code: str, payload: str | None = None) -> Finding:
    matching = [
        f for f in findings if f.code == code and (payload is None or payload in f.payloads)
    ]
    assert len(matching) == 1, "\n".join(map(str, findings))
    return matching[0]


# ------------------------------------------------------------------ every code
def test_every_code_has_a_test_model() -> None:
    assert set(MODELS) == set(CODES)


@pytest.mark.parametrize("code", list(CODES))
def test_each_model_triggers_its_code(code: str) -> None:
    findings = ph.testing.lint(MODELS[code])
    assert code in _codes(findings), "\n".join(map(str, findings))
    found = next(f for f in findings if f.code == code)
    assert found.severity == CODES[code][0]
    assert str(found).startswith(f"{found.severity} [{code}] ")


@pytest.mark.parametrize("build", [clean_env, clean_staged_env])
def test_a_well_wired_model_lints_clean(build) -> None:
    assert ph.testing.lint(build) == []


def test_a_declared_receiver_without_handler_is_an_error() -> None:
    found = _one(ph.testing.lint(MODELS["unhandled-payload"]), "unhandled-payload", "Order")
    assert (found.severity, found.agents, found.classes) == ("error", ("S",), ("Sink",))
    assert "@ph.msg_handler(Order)" in found.message


def test_a_message_delivered_to_an_agent_without_handler_is_named() -> None:
    findings = ph.testing.lint(delivered_unhandled_env)
    found = _one(findings, "unhandled-payload", "Note")
    assert found.agents == ("A", "S")
    assert "'A' sent a Note to 'S' (Sink)" in found.message
    assert "episode seed 0, step 1" in found.message
    assert "episode-error" not in _codes(findings)  # the failure is explained, not repeated


def test_handlers_nobody_may_send_to_say_why() -> None:
    findings = ph.testing.lint(MODELS["unsendable-handler"])
    tip = _one(findings, "unsendable-handler", "Tip")
    assert "none of their neighbours (Sink) may send it (sender_type Actor)" in tip.message
    memo = _one(findings, "unsendable-handler", "Memo")
    assert "not among its declared receivers (Sink)" in memo.message
    assert memo.agents == ("L",) and memo.classes == ("Listener",)


def test_isolated_strategic_agents_are_listed() -> None:
    found = _one(ph.testing.lint(isolated_strategic_env), "isolated-strategic-agent")
    assert found.agents == ("B",)


def test_agents_no_message_reaches_need_episodes() -> None:
    found = _one(ph.testing.lint(MODELS["unreached-agent"]), "unreached-agent")
    assert set(found.agents) == {"A", "E"} and "Note" in found.payloads
    assert "unreached-agent" not in _codes(ph.testing.lint(MODELS["unreached-agent"], episodes=0))


def test_an_agent_with_random_edges_is_unreached_only_if_its_class_is() -> None:
    """E2's only edge is drawn with a rate of about 1e-12: it misses every message by
    chance, like any agent of a stochastic network may in a few episodes."""
    assert ph.testing.lint(StochasticModel) == []  # E1, also an Echo, was reached
    found = _one(ph.testing.lint(lambda: StochasticModel(sure=False)), "unreached-agent")
    assert set(found.agents) == {"A", "E2"}  # A gets no Reply either


def test_stage_findings_name_the_stages() -> None:
    unreachable = _one(ph.testing.lint(MODELS["unreachable-stage"]), "unreachable-stage")
    assert unreachable.stages == ("orphan",)
    unrewarded = _one(ph.testing.lint(MODELS["unrewarded-actor"]), "unrewarded-actor")
    assert (unrewarded.stages, unrewarded.agents) == (("a",), ("A",))


def test_views_without_neighbours_are_unreadable() -> None:
    found = _one(ph.testing.lint(MODELS["unreadable-view"]), "unreadable-view")
    assert (found.agents, found.classes) == (("A",), ("ViewActor",))


@pytest.mark.parametrize("on_round_limit", ["raise", "drop"])
def test_bouncing_messages_are_found_whether_the_resolver_raises_or_drops(
    on_round_limit: str,
) -> None:
    findings = ph.testing.lint(lambda: loop_env(on_round_limit))
    found = _one(findings, "message-bounce")
    assert {"X", "Y"} <= set(found.agents) and found.payloads == ("Note",)
    assert "round limit (10 rounds)" in found.message
    assert "episode-error" not in _codes(findings)


def test_an_episode_that_raises_is_reported_with_its_seed() -> None:
    found = _one(ph.testing.lint(MODELS["episode-error"], seed=5), "episode-error")
    assert "ValueError" in found.message and "A cannot act" in found.message
    assert "episode seed 5, step 1" in found.message and "seed=5" in found.message


def test_an_episode_that_fails_in_reset_says_so() -> None:
    class Fragile(Actor):
        def reset(self):
            raise RuntimeError("no stock file")

    found = _one(ph.testing.lint(lambda: Model([Fragile("A")])), "episode-error")
    assert "RuntimeError (episode seed 0, during reset): no stock file" in found.message


# ------------------------------------------------------------------ the bundled models
BUNDLED = [
    ("supply_chain_v0", {}),
    ("supply_chain_v0", {"num_shops": 12}),
    ("supply_chain_paper_v0", {}),
    ("digital_ads_v0", {}),
    ("digital_ads_v0", {"stochastic_edges": True}),
    ("type_toy_v0", {}),
    ("mask_toy_v0", {}),
]


@pytest.mark.parametrize(("name", "config"), BUNDLED)
def test_the_bundled_models_lint_clean(name: str, config: dict) -> None:
    assert ph.testing.lint(lambda: ph.make(name, **config)) == []


def test_every_registered_model_is_covered() -> None:
    assert {name for name, _ in BUNDLED} == set(ph.registered_envs())


def test_a_staged_models_parallel_view_lints_like_the_model() -> None:
    from phantomzoo.envs import supply_chain_paper_v0

    assert ph.testing.lint(supply_chain_paper_v0.parallel_env) == []
    assert ph.testing.lint(MODELS["unrewarded-actor"]) == ph.testing.lint(
        lambda: ph.StagedParallelEnv(MODELS["unrewarded-actor"]())
    )


# ------------------------------------------------------------------ the API
def test_findings_are_sorted_errors_first_and_reproducible() -> None:
    findings = ph.testing.lint(MODELS["unsendable-handler"])
    severities = [f.severity for f in findings]
    assert severities == sorted(severities)  # "error" < "warning"
    assert ph.testing.lint(MODELS["unsendable-handler"]) == findings
    assert _codes(sort_findings(reversed(findings))) == _codes(findings)


def test_ignore_leaves_codes_out() -> None:
    build = MODELS["unreached-agent"]
    assert ph.testing.lint(build, ignore=["unreached-agent"]) == []


def test_str_shows_every_field() -> None:
    finding = Finding(
        "unreachable-stage", "warning", "fix it", ("a1",), ("Cls",), ("Pay",), ("s1",)
    )
    text = str(finding)
    for part in ("warning", "[unreachable-stage]", "fix it", "a1", "Cls", "Pay", "s1"):
        assert part in text
    many = Finding("unreached-agent", "warning", "m", tuple(f"x{i}" for i in range(25)))
    assert "x19" in str(many) and "x20" not in str(many) and "(and 5 more)" in str(many)
    assert summary([finding, many]) == "0 errors, 2 warnings" and summary([]) == "clean"


def test_lint_leaves_the_message_log_as_it_found_it() -> None:
    env = clean_env()
    assert ph.testing.lint(lambda: env) == []
    assert env.network.message_log is None


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"env_fn": 3}, "lint needs a function that builds a fresh env"),
        ({"env_fn": lambda: 3}, "not a phantomzoo environment"),
        ({"episodes": -1}, "episodes must be an int >= 0"),
        ({"episodes": 1.5}, "episodes must be an int"),
        ({"seed": -2}, "seed must be an int >= 0"),
        ({"max_steps": 0}, "max_steps must be an int >= 1"),
        ({"ignore": "unreached-agent"}, r"write ignore=\['unreached-agent'\]"),
        ({"ignore": ["no-such-code"]}, r"unknown finding code\(s\) \['no-such-code'\]"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, match: str) -> None:
    env_fn = kwargs.pop("env_fn", clean_env)
    with pytest.raises(ConfigError, match=match):
        ph.testing.lint(env_fn, **kwargs)


# ------------------------------------------------------------------ check_env
def test_check_env_reports_findings_as_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ph.testing.check_env(isolated_strategic_env, num_cycles=5)
    linted = [str(w.message) for w in caught if issubclass(w.category, ph.testing.LintWarning)]
    assert any("[isolated-strategic-agent]" in text for text in linted), linted
    assert any("[unreached-agent]" in text for text in linted), linted
    with warnings.catch_warnings():
        warnings.simplefilter("error", ph.testing.LintWarning)
        ph.testing.check_env(clean_env, num_cycles=5)
