"""One side-by-side measurement of Phantom 2.2 (started by ``phantom_side.py`` with the
interpreter of a venv where Phantom is installed; it never imports phantomzoo).

    PHANTOM_PY side_phantom_worker.py {sc|ads} N MIN_SECONDS SEED [--count]
    PHANTOM_PY side_phantom_worker.py check

sc   Phantom's tutorial supply chain (``examples/environments/supply_chain/
     supply_chain.py``: its own shop, customer and factory agents, executed without its
     command-line block and its matplotlib import), scaled to N shops with 5 customers
     each and one shared factory, 100 steps per episode, driven by ``PhantomEnv.step``.
ads  Phantom's digital-ads example (``examples/environments/digital_ads_market/
     digital_ads_market.py``, imported unchanged): N advertisers split equally over
     travel / tech / sport, the budget ranges of its train branch, 10 impressions per
     episode (``num_steps=20``: a publisher stage and an advertiser stage each).
check prints Phantom's version and where its examples are, or exits 2 saying why not.

The examples are found next to the installed ``phantom`` package (an editable install of
Phantom's source checkout) or under ``$PHANTOM_SRC``. The timing loop is
:mod:`side_harness` (shared with the phantomzoo worker); actions are one seeded
``Generator.uniform`` batch per step for the agents that got an observation.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import types
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import side_harness as sh  # noqa: E402

_T0 = time.perf_counter()
try:
    import phantom as ph  # noqa: E402
except ImportError as exc:
    sh.fail(f"this interpreter ({sys.executable}) cannot import phantom: {exc}")
IMPORT_S = time.perf_counter() - _T0

KINDS = ("sc", "ads")
SUPPLY_CHAIN = Path("examples/environments/supply_chain/supply_chain.py")
DIGITAL_ADS = Path("examples/environments/digital_ads_market/digital_ads_market.py")
IMPRESSIONS = 10
CUSTOMERS_PER_SHOP = 5
#: The example's train-branch budget ranges, the same as the phantomzoo side's.
BUDGETS = {"travel": (5.0, 15.0), "tech": (7.0, 17.0), "sport": (10.0, 20.0)}


def examples_root() -> Path:
    """The Phantom checkout holding the two example files (exits 2 when there is none)."""
    candidates = [Path(ph.__file__).resolve().parents[1]]
    if os.environ.get("PHANTOM_SRC"):
        candidates.insert(0, Path(os.environ["PHANTOM_SRC"]))
    for root in candidates:
        if (root / SUPPLY_CHAIN).is_file() and (root / DIGITAL_ADS).is_file():
            return root
    sh.fail(
        f"Phantom's examples ({SUPPLY_CHAIN}, {DIGITAL_ADS}) are not under "
        f"{', '.join(map(str, candidates))}: install Phantom editable from its source "
        "checkout (pip install -e) or set PHANTOM_SRC to that checkout"
    )
    raise AssertionError("unreachable")


def load_supply_chain(root: Path) -> types.ModuleType:
    """The tutorial module without its command-line block and its plotting import."""
    path = root / SUPPLY_CHAIN
    text = path.read_text(encoding="utf-8").split('if sys.argv[1] == "train":')[0]
    text = text.replace("import matplotlib.pyplot as plt\n", "")
    module = types.ModuleType("phantom_supply_chain_example")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    exec(compile(text, str(path), "exec"), module.__dict__)  # noqa: S102 - Phantom's own example
    return module


def build_supply_chain(root: Path, n_shops: int) -> Any:
    """N tutorial shops, 5 customers per shop, one shared factory."""
    sc = load_supply_chain(root)
    factory_id = "WAREHOUSE"
    shops = [sc.ShopAgent(f"SHOP{s + 1}", factory_id=factory_id) for s in range(n_shops)]
    customers = [
        sc.CustomerAgent(f"CUST{s + 1}_{c + 1}", shop_id=f"SHOP{s + 1}")
        for s in range(n_shops)
        for c in range(CUSTOMERS_PER_SHOP)
    ]
    network = ph.Network([*shops, sc.FactoryAgent(factory_id), *customers])
    for shop in shops:
        network.add_connection(shop.id, factory_id)
    for customer in customers:
        network.add_connection(customer.shop_id, customer.id)
    return ph.PhantomEnv(num_steps=sc.NUM_EPISODE_STEPS, network=network)


def build_ads(root: Path, n_advertisers: int) -> Any:
    """The example market with N advertisers (N / 3 per theme)."""
    spec = importlib.util.spec_from_file_location("digital_ads_market", root / DIGITAL_ADS)
    dam = importlib.util.module_from_spec(spec)
    sys.modules["digital_ads_market"] = dam
    spec.loader.exec_module(dam)
    per_theme = n_advertisers // 3
    themes = dict.fromkeys(BUDGETS, per_theme)
    supertypes, index = {}, 1
    for low, high in BUDGETS.values():
        for _ in range(per_theme):
            sampler = ph.utils.samplers.UniformFloatSampler(
                low=low, high=high + 0.001, clip_low=low, clip_high=high
            )
            supertypes[f"ADV_{index}"] = dam.AdvertiserAgent.Supertype(budget=sampler)
            index += 1
    return dam.DigitalAdsEnv(
        num_steps=2 * IMPRESSIONS, num_agents_theme=themes, agent_supertypes=supertypes
    )


def action_draw(env: Any, seed: int) -> sh.ActionDraw:
    """Uniform actions over the (shared) action space of the strategic agents."""
    spaces = [env.agents[a].action_space for a in env.strategic_agent_ids]
    first = spaces[0]
    for space in spaces[1:]:
        if not (np.array_equal(space.low, first.low) and np.array_equal(space.high, first.high)):
            sh.fail("the strategic agents have different action spaces")
    return sh.ActionDraw(float(first.low.flat[0]), float(first.high.flat[0]), first.shape, seed)


def episode(env: Any, draw: sh.ActionDraw, seed: int) -> sh.EpisodeCount:
    """One whole episode through ``reset`` / ``step`` until ``__all__`` is done."""
    observations, _ = env.reset(seed=seed)
    count = sh.EpisodeCount()
    while True:
        actions = draw.for_agents(list(observations)) if observations else {}
        step = env.step(actions)
        count.env_steps += 1
        count.agent_steps += len(actions)
        count.acting_steps += bool(actions)
        if step.terminations["__all__"] or step.truncations["__all__"]:
            return count
        observations = step.observations


def warm_up(env: Any, draw: sh.ActionDraw, seed: int) -> None:
    """One reset and a few steps (not timed); seeds numpy's global generator, which
    Phantom's example agents draw from."""
    np.random.seed(seed)  # noqa: NPY002 - Phantom's examples use the global generator
    observations, _ = env.reset(seed=seed)
    for _ in range(sh.WARMUP_STEPS):
        step = env.step(draw.for_agents(list(observations)) if observations else {})
        observations = step.observations
        if step.terminations["__all__"] or step.truncations["__all__"]:
            observations, _ = env.reset(seed=seed)


def count_messages(env: Any, seed: int) -> dict[str, Any]:
    """Messages per step of one untimed episode, from the resolver's tracking."""
    resolver = env.network.resolver
    resolver.enable_tracking = True
    resolver.clear_tracked_messages()
    steps = episode(env, action_draw(env, seed + 10_000), seed + 10_000).env_steps
    by_payload: dict[str, int] = {}
    messages = list(resolver.tracked_messages)
    for message in messages:
        name = type(message.payload).__name__
        by_payload[name] = by_payload.get(name, 0) + 1
    resolver.enable_tracking = False
    resolver.clear_tracked_messages()
    return {
        "episode_steps": steps,
        "messages": len(messages),
        "messages_per_step": len(messages) / max(1, steps),
        "by_payload": by_payload,
    }


def check() -> None:
    """Versions and the examples' location, for the runner's up-front check."""
    import importlib.metadata as md

    root = examples_root()
    versions = {name: md.version(name) for name in ("Phantom", "ray", "numpy") if _has(name)}
    sh.emit(
        {
            "phantom": getattr(ph, "__version__", "?"),
            "versions": versions,
            "python": sys.version.split()[0],
            "examples": str(root),
            "import_s": IMPORT_S,
        }
    )


def _has(distribution: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(distribution)
    except md.PackageNotFoundError:
        return False
    return True


def main(argv: list[str]) -> None:
    if argv[:1] == ["check"]:
        check()
        return
    args = sh.parse_worker_args(argv, KINDS)
    kind, n, seed = args["kind"], args["n"], args["seed"]
    if kind == "ads" and n % 3:
        sh.fail(f"the ads market needs a multiple of 3 advertisers (three themes), got {n}")
    root = examples_root()
    t0 = time.perf_counter()
    env = build_supply_chain(root, n) if kind == "sc" else build_ads(root, n)
    build_s = time.perf_counter() - t0
    draw = action_draw(env, seed)
    result = sh.measure(
        lambda: warm_up(env, draw, seed), lambda s: episode(env, draw, s), args["min_seconds"], seed
    )
    result.update(
        system="phantom",
        api="PhantomEnv.step" if kind == "sc" else "FiniteStateMachineEnv.step",
        kind=kind,
        n=n,
        agents=len(env.agent_ids),
        strategic=len(env.strategic_agent_ids),
        build_s=build_s,
        import_s=IMPORT_S,
        python=sys.version.split()[0],
    )
    if args["count"]:
        result["count"] = count_messages(env, seed)
    sh.emit(result)


if __name__ == "__main__":
    main(sys.argv[1:])
