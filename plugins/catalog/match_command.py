"""`flowbot match`: one customer message per input line in, one JSON result per line out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from plugins.catalog.cache import DEMO_CATALOG
from plugins.catalog.matcher import Matcher
from plugins.catalog.products import read_catalog_csv


def run(lines: Iterable[str], out: TextIO, catalog_path: str | None = None) -> int:
    """Match every non-empty line against the catalog (the demo one by default); exit status 0.

    A bad catalog raises `CatalogFileError` before any line is read.
    """
    matcher = Matcher(read_catalog_csv(catalog_path or DEMO_CATALOG))
    for line in lines:
        message = line.rstrip("\r\n")
        if not message.strip():
            continue
        out.write(json.dumps(matcher.match(message).as_dict(), ensure_ascii=False) + "\n")
    return 0
