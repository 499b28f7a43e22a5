"""Reminders: a table of messages to send contacts at a moment, each with a delayed job.

`service` schedules and cancels them (for flows through `actions`: `reminders.schedule`,
`reminders.cancel`), `firing` is the send-reminder job, `payment` plans a ladder of payment
reminders for each unpaid invoice, `sweeper` keeps every pending reminder's job alive
whatever happens to Redis, `listing` and `cli` show them (`flowbot reminders list`).
"""

from plugins.reminders import actions, cli, firing, models, payment, sweeper  # noqa: F401  (registers)
