"""The package's layering, read from the import graph (lazy imports included).

model -> engine -> PettingZoo surface -> training -> experiments -> command line: a module
may import its own layer and the layers below, never above. ``TYPE_CHECKING`` imports are
type-only and not counted. Nothing in the core imports a bundled model (``phantomzoo.envs``)
or a trainer; ``ph.train`` and the CLI may look a backend up by name through the
backend registry (``phantomzoo.backends``), never import a backend module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "phantomzoo"

LAYERS: list[tuple[str, set[str]]] = [
    ("base", {"errors", "types", "validate", "paramchecks", "views"}),
    (
        "model",
        {
            "agents",
            "context",
            "decoders",
            "encoders",
            "reward_functions",
            "message",
            "network",
            "stochastic_network",
            "network_calls",
            "resolvers",
            "samplers",
            "ranges",
            "supertype",
            "stages",
            "policy",
            "metrics",
            "registry",
        },
    ),  # fmt: skip
    ("engine", {"engine"}),
    (
        "surface",
        {
            "adapter",
            "env",
            "fsm",
            "turns",
            "parallel",
            "telemetry",
            "telemetry_defaults",
            "telemetry_options",
            "telemetry_records",
        },
    ),
    ("training", {"training", "single_agent", "single_agent_setup"}),  # TrainedPolicies
    (
        "experiments",  # ph.testing plays episodes; ph.plots draws recorded ones
        {"experiments", "testing", "plots", "episode_graph", "plot_drawing", "plot_timeline"},
    ),
    ("cli", {"cli", "utils", "__init__", "__main__"}),
]
RANK = {name: rank for rank, (_, names) in enumerate(LAYERS) for name in names}
#: Trainers and bundled models the core must never import.
FORBIDDEN = ("torch", "ray", "stable_baselines3", "supersuit", "phantomzoo.envs", "tensorboard")
#: Layers that may look a trainer backend up by name through the backend registry
#: (``phantomzoo.backends`` itself, never a backend module): ph.train and the CLI.
BACKEND_LOOKUP = {"training", "cli"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Absolute names (inside phantomzoo: without the prefix) imported by ``module``."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    package = module.split(".") if _is_package(path) else module.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                if node.module is None:  # from . import a, b: each may be a module
                    out.extend(
                        (".".join([*base, a.name]).strip("."), node.lineno) for a in node.names
                    )
                else:
                    out.append((target, node.lineno))
            elif node.module:
                name = node.module
                if name == "phantomzoo":
                    out.extend((a.name, node.lineno) for a in node.names)
                elif name.startswith("phantomzoo."):
                    out.append((name[len("phantomzoo.") :], node.lineno))
                else:
                    out.append(("!" + name, node.lineno))
    return out


def _layer_of(name: str) -> int | None:
    head = name.split(".")[0] or "__init__"
    return RANK.get(head)


EDGES = [
    (module, imported, line)
    for module, path in sorted(_modules().items())
    for imported, line in _imports(module, path)
]


def test_every_module_has_a_layer() -> None:
    unplaced = sorted({m for m in _modules() if _layer_of(m) is None})
    assert not unplaced, f"modules without a layer in tests/test_layers.py: {unplaced}"


def test_no_module_imports_a_layer_above_it() -> None:
    upward = []
    for module, imported, line in EDGES:
        if imported.startswith("!"):
            continue
        if imported.split(".")[0] in ("backends", "envs"):
            lookup = imported == "backends" and module.split(".")[0] in BACKEND_LOOKUP
            if not lookup:
                upward.append(f"{module}:{line} imports phantomzoo.{imported}")
            continue
        here, there = _layer_of(module), _layer_of(imported)
        if there is not None and here is not None and there > here:
            upward.append(
                f"{module} ({LAYERS[here][0]}):{line} imports {imported} ({LAYERS[there][0]})"
            )
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_the_core_imports_no_trainer_and_no_bundled_model(forbidden: str) -> None:
    bad = [
        f"{module}:{line}"
        for module, imported, line in EDGES
        if imported.lstrip("!") == forbidden
        or imported.lstrip("!").startswith(forbidden + ".")
        or ("phantomzoo." + imported).startswith(forbidden)
    ]
    assert not bad, f"{forbidden} is imported by {bad}"


def test_the_engine_and_the_model_do_not_need_pettingzoo() -> None:
    users = [
        f"{module}:{line}"
        for module, imported, line in EDGES
        if imported.startswith("!pettingzoo") and (_layer_of(module) or 0) <= RANK["engine"]
    ]
    assert not users, f"the model and the engine import PettingZoo: {users}"


def test_the_layering_check_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "network.py"
    module.write_text("from .cli import workflow\nfrom .training import api\n")
    found = _imports("network", module)
    assert ("cli", 1) in found
    assert _layer_of("cli") > _layer_of("network")  # type: ignore[operator]
