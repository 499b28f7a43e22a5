"""Zoho CRM: the catalog's prices and stock from Zoho Products, confirmed orders to Sales Orders.

`client` speaks Zoho CRM's REST API (tokens from `tokens`, every call through `transport`'s
retries and shared circuit breaker); `catalog_sync` applies Zoho Products to the catalog and
`scheduled_sync` runs it periodically; `sales_orders` pushes each confirmed order once. Without
ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN nothing here calls Zoho.
"""

from plugins.zoho import cli, models, sales_orders, scheduled_sync  # noqa: F401  (registers jobs, tables, commands)
