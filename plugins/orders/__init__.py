"""Orders as tables: pricing a cart with GST, creating, confirming and cancelling orders.

Other plugins react to a confirmed order through `events.on_confirmed`.
"""

from plugins.orders import actions, cart, models  # noqa: F401  (registers actions and tables)
