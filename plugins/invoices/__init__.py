"""GST tax invoices: `gst` computes the taxes, `words` writes amounts as Indian invoices do,
`document` holds what an invoice shows and `pdf` renders it (Latin, ₹ and Devanagari).

`service` issues the invoice of a confirmed order (numbered per financial year by `numbering`)
and marks it paid; `jobs` issues and sends it on WhatsApp in the background; `events` lets other
plugins react. Flows get `invoices.mark_paid`; the CLI gets `flowbot invoice show|pay`.
"""

from plugins.invoices import actions, cli, jobs, models  # noqa: F401  (registers actions, commands, jobs, tables)
