"""Business plugins shipped with flowbot (catalog, orders, invoices, …)."""
