"""The reminders plugin's tunable defaults, each with the reason for its value.

Analysts override the first four through the environment (see `settings`).
"""

# Customers are asleep or with family: a nudge at 11 pm costs goodwill and gains nothing.
QUIET_HOURS = "21:00-09:00"
# The first dealer and its customers are in India (IST has no daylight saving).
BUSINESS_TIMEZONE = "Asia/Kolkata"
# Days from an invoice's due date: two days' notice to arrange the money, the due date itself,
# then two gentle follow-ups within the usual week of credit a dealer tolerates.
PAYMENT_REMINDER_DAYS = "-2,0,3,7"
# Reminders given as a date only (the payment ladder) go when the shop is open.
REMINDER_TIME = "10:00"

# A repeat faster than this is a loop in a flow, not a reminder a person wants.
MIN_REPEAT_SECONDS = 60
# The sweeper runs as often as the outbox sweeper…
SWEEP_INTERVAL_SECONDS = 30
# …and checks the jobs of pending reminders due within this long, so a job lost with Redis is
# back well before its reminder is due, without looking at months of future reminders each time.
SWEEP_HORIZON_SECONDS = 600
# How many reminders one sweep checks, so a backlog never makes a sweep run for minutes.
SWEEP_BATCH = 1000
# `flowbot reminders list` and the admin API show this many unless asked for more.
LIST_LIMIT = 50
