"""Order matcher: accuracy on the dev, held-out and blind messages, speed on a 10,000-product catalog.

    .venv/bin/python benchmarks/matcher.py

Accuracy is item-level (an item counts when sku, qty and unit are all right) plus whether each
message's ambiguity was detected with the right candidates. Speed is per message, next to a
naive baseline: one rapidfuzz `extractOne` of the whole message over all product names.
Targets: precision and recall ≥ 95 %, p99 < 2 ms.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from rapidfuzz import fuzz, process, utils

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plugins.catalog.match_command import DEMO_CATALOG  # noqa: E402
from plugins.catalog.matcher import Matcher  # noqa: E402
from plugins.catalog.products import Product, read_catalog_csv  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
SETS = {
    "dev": DATA / "queries_dev.jsonl",
    "held-out": DATA / "queries_heldout.jsonl",
    # written from the catalog and the data README alone, before the matcher was read
    "blind": DATA / "queries_blind.jsonl",
}
GENERATED_PRODUCTS = 10_000
ROUNDS = 5


def evaluate(matcher: Matcher, path: Path) -> dict[str, float]:
    right = wrong = missed = ambiguity_right = messages = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        result = matcher.match(case["text"]).as_dict()
        got = {(item["sku"], item["qty"], item["unit"]) for item in result["items"]}
        expected = {(item["sku"], item["qty"], item["unit"]) for item in case["expect"]}
        right += len(got & expected)
        wrong += len(got - expected)
        missed += len(expected - got)
        asked = [sorted(entry["candidates"]) for entry in result["ambiguous"]]
        ambiguity_right += asked == ([sorted(case["ambiguous"])] if case["ambiguous"] else [])
        messages += 1
    return {
        "precision": right / max(1, right + wrong),
        "recall": right / max(1, right + missed),
        "ambiguity": ambiguity_right / max(1, messages),
        "messages": messages,
    }


def generated_catalog(real: list[Product], size: int, seed: int = 7) -> list[Product]:
    """The real catalog plus look-alikes under invented brands, sharing the generic aliases."""
    rng = random.Random(seed)
    syllables = "ka ra mo ni ta su ve lo pra shi dhan gir tek vik ron sa mi jay nav dev".split()
    brands = sorted({"".join(rng.sample(syllables, 3)) for _ in range(600)})
    products = list(real)
    while len(products) < size:
        template = rng.choice(real)
        brand = rng.choice(brands)
        own = template.brand.lower().replace(" ", "")[:4]  # drop the real brand's spellings
        kept = [alias for alias in template.aliases
                if own not in alias.lower().replace(" ", "").replace(".", "")]
        aliases = (*kept, brand, f"{brand} {template.category}")
        products.append(replace(
            template, sku=f"{template.sku}-G{len(products)}", brand=brand.title(),
            name=template.name.replace(template.brand, brand.title()), aliases=aliases,
        ))
    return products


def latencies(function, messages: list[str]) -> list[float]:
    timings = []
    for _ in range(ROUNDS):
        for message in messages:
            start = time.perf_counter()
            function(message)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    real = read_catalog_csv(DEMO_CATALOG)
    matcher = Matcher(real)
    print(f"accuracy on the demo catalog ({len(real)} products)")
    for name, path in SETS.items():
        scores = evaluate(matcher, path)
        print(f"  {name:9} {scores['messages']:3.0f} messages  "
              f"precision {scores['precision']:6.1%}  recall {scores['recall']:6.1%}  "
              f"ambiguity {scores['ambiguity']:6.1%}")

    products = generated_catalog(real, GENERATED_PRODUCTS)
    start = time.perf_counter()
    big = Matcher(products)
    built = time.perf_counter() - start
    messages = [json.loads(line)["text"] for path in SETS.values()
                for line in path.read_text(encoding="utf-8").splitlines()]
    names = [product.name for product in products]
    big.match(messages[0])  # warm the word cache the way a running server has it warm

    def naive(message: str) -> object:
        return process.extractOne(message, names, scorer=fuzz.WRatio,
                                  processor=utils.default_process)

    print(f"speed on a generated catalog of {len(products)} products "
          f"(index built in {built:.2f} s), {len(messages)} messages × {ROUNDS}")
    for label, function in (("matcher", big.match), ("baseline extractOne", naive)):
        timings = latencies(function, messages)
        print(f"  {label:20} p50 {percentile(timings, 0.5):6.2f} ms  "
              f"p99 {percentile(timings, 0.99):6.2f} ms  mean {statistics.mean(timings):6.2f} ms")


if __name__ == "__main__":
    main()
