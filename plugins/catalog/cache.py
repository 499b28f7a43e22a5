"""Each organization's catalog, cached in Redis for an hour (as the seed did) and per process.

The version is the catalog's revision in the database, which every import or sync that changes
a product bumps in its own transaction, so no cache can outlive a change — not even one made
while Redis was down or restarted from a snapshot. The revision is read once per batch of
turns (one indexed query for all of them, `engine.actions.once_per_batch`) and on every call
outside one: a message that arrives after an import has committed is in a later batch, so it
is always matched against the new catalog. A process keeps the `Catalog` (and its matcher,
which takes a while to build) while the revision is unchanged, and otherwise takes the
products from Redis before loading the tables.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import redis

from engine import redis_keys
from engine.actions import once_per_batch
from plugins.catalog.matcher import Matcher
from plugins.catalog.products import Product, read_catalog_csv
from plugins.catalog.store import load_products, revision

# Seconds the catalog stays in Redis (the seed's one hour); an import or sync drops it at once.
CATALOG_CACHE_SECONDS = 3600
DEMO_CATALOG = Path(__file__).with_name("demo_catalog.csv")


@dataclass
class Catalog:
    """The products of one organization, by SKU, with the matcher built on first use."""

    products: Sequence[Product]
    version: int = 0
    by_sku: dict[str, Product] = field(init=False)

    def __post_init__(self) -> None:
        self.by_sku = {product.sku: product for product in self.products}

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.products)


class CatalogCache:
    """Catalogs by organization id; without Redis, the process memo alone (tests, scripts)."""

    def __init__(self, connection: redis.Redis | None = None, ttl: int = CATALOG_CACHE_SECONDS) -> None:
        self.redis = connection
        self.ttl = ttl
        self._memo: dict[int, Catalog] = {}

    def get(self, organization_id: int) -> Catalog:
        version = once_per_batch(("catalog.revision", organization_id), lambda: revision(organization_id))
        memo = self._memo.get(organization_id)
        if memo is not None and memo.version == version:
            return memo
        catalog = self._from_redis(organization_id, version) or self._load(organization_id, version)
        self._memo[organization_id] = catalog
        return catalog

    def invalidate(self, organization_id: int) -> None:
        """Drop the cached copies now (they would be ignored anyway once the revision moved)."""
        self._memo.pop(organization_id, None)
        if self.redis is not None:
            self.redis.delete(redis_keys.catalog_products(organization_id))

    def _from_redis(self, organization_id: int, version: int) -> Catalog | None:
        blob = self.redis.get(redis_keys.catalog_products(organization_id)) if self.redis else None
        if blob is None:
            return None
        data = json.loads(blob)
        if data["version"] != version:
            return None
        return Catalog([_product(item) for item in data["products"]], version)

    def _load(self, organization_id: int, version: int) -> Catalog:
        catalog = Catalog(load_products(organization_id), version)
        if self.redis is not None:
            blob = json.dumps({"version": version, "products": [_plain(p) for p in catalog.products]},
                              ensure_ascii=False)
            self.redis.set(redis_keys.catalog_products(organization_id), blob, ex=self.ttl)
        return catalog


_demo: Catalog | None = None


def demo_catalog() -> Catalog:
    """The dealer's demo catalog shipped with the plugin: what database-free flow tests quote from."""
    global _demo
    if _demo is None:
        _demo = Catalog(read_catalog_csv(DEMO_CATALOG))
    return _demo


def _plain(product: Product) -> dict:
    return {**dataclasses.asdict(product), "price": str(product.price), "gst_rate": str(product.gst_rate),
            "aliases": list(product.aliases)}


def _product(data: dict) -> Product:
    return Product(**{**data, "price": Decimal(data["price"]), "gst_rate": Decimal(data["gst_rate"]),
                      "aliases": tuple(data["aliases"])})
