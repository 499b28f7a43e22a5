"""Reminders: a table of messages to send contacts at a moment, each with a delayed job.

`service` schedules and cancels them (for flows through `actions`: `reminders.schedule`,
`reminders.cancel`), `firing` is the send-reminder job, `payment` plans a ladder of payment
reminders for each unpaid invoice, `sweeper` keeps every pending reminder's job alive
whatever happens to Redis, `listing` shows them to `cli` (`flowbot reminders list`) and to
`admin` (`GET /admin/api/reminders`).
"""

from plugins.reminders import actions, admin, cli, firing, models, payment, sweeper  # noqa: F401  (registers)
