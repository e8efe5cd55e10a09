"""Registrations of the bundled models (loaded through the ``phantomzoo.models`` entry point).

Each model's bench helpers (``policies``, ``baselines``, ``plots``, ``throughput``) live
in its package's ``bench`` module, found by the registry's ``<package>.bench`` convention.
"""

from __future__ import annotations

from phantomzoo.registry import register

register(
    "supply_chain_v0",
    "phantomzoo.envs.supply_chain:SupplyChainEnv",
    description="Tutorial supply chain: factory, customers and learning shops (1-1000 shops)",
)
register(
    "supply_chain_paper_v0",
    "phantomzoo.envs.supply_chain_paper:PaperSupplyChainEnv",
    description="Paper supply chain: cost-of-carry types, restock/sale stages, prices in views",
)
register(
    "digital_ads_v0",
    "phantomzoo.envs.digital_ads:DigitalAdsEnv",
    description="Digital-ads market: publisher, ad exchange auctions, advertiser families (6-1200)",
)
register(
    "type_toy_v0",
    "phantomzoo.envs.type_toy:TypeToyEnv",
    description="Type toy: each agent's best action is its own sampled type",
)
register(
    "mask_toy_v0",
    "phantomzoo.envs.mask_toy:MaskToyEnv",
    description="Mask toy: shops order into a warehouse; orders past free space are masked",
)
