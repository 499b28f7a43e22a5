"""The dealer's product catalog: tables, CSV import, and understanding orders typed against it.

`products` reads the catalog CSV, `matcher` turns a customer's message ("ultratech 53 grade 100
bag bhej do") into catalog lines, ambiguous fragments to ask about, and unknown fragments;
`actions` offers that to flows as `catalog.match_items` and `catalog.pick`.
"""

from plugins.catalog import actions, cli, models  # noqa: F401  (registers actions, commands, tables)
