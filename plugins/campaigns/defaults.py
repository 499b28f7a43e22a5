"""The campaigns plugin's tunable defaults, each with the reason for its value."""

# -- what a campaign file may leave out ---------------------------------------------------

# Twilio sets a WhatsApp sender's text throughput to 10 messages/s by default.
SEND_RATE = 10
# Twilio's account-wide ceiling is 2,000 messages/s and one WhatsApp sender reaches 80 at
# most; a faster campaign is a typo.
MAX_SEND_RATE = 1000
# Customers are asleep or with family: an offer at 11 pm costs goodwill and gains nothing.
QUIET_HOURS = "21:00-09:00"
# The first dealer and its customers are in India (IST has no daylight saving).
TIMEZONE = "Asia/Kolkata"

# -- how a campaign is sent ------------------------------------------------------------------

# Sender jobs working on one campaign at once: two workers share it, so losing one worker
# keeps it going at full rate (the token bucket, not the job count, sets the rate).
LANES = 2
# Twilio calls one sender job keeps in flight: a call from India takes ~250 ms, so 16 in
# flight carry the 50 messages/s a WhatsApp sender allows; over loopback they take ~1 ms.
SEND_CONCURRENCY = 16
# A sender job hands over to its successor after this long: far inside RQ's job timeout, and
# other campaigns' jobs get a turn on the queue.
BATCH_SECONDS = 30
# The token bucket holds this many seconds of sending: a lull is never made up with a burst.
BURST_SECONDS = 0.2
# A running sender reads the campaign's status this often, so pause, resume and cancel take
# effect within a second.
CONTROL_CHECK_SECONDS = 0.25
# A sender proves it is alive every second; silent this long, its process is gone and the
# recipients it had claimed are sent again.
HEARTBEAT_SECONDS = 10
# The watch looks for dead senders and stopped campaigns this often.
WATCH_INTERVAL_SECONDS = 10
# A contact who is in a conversation with the bot right now (replies waiting to go out) gets
# the campaign this much later, not in the middle of the exchange.
BUSY_CONTACT_DELAY_SECONDS = 30
# A handed-over sender job is waited for this long beyond its start time before the watch
# restarts the campaign's senders (a queue busy with replies delays it).
HANDOVER_GRACE_SECONDS = 60
# Consecutive 429 answers are remembered this long; each one doubles the wait (engine backoff).
THROTTLE_MEMORY_SECONDS = 300

# -- metrics -------------------------------------------------------------------------------------

# A message later than this after a campaign is a new conversation, not an answer to it: it
# neither counts as a reply nor starts the campaign's reply flow.
REPLY_WINDOW_HOURS = 72
# `flowbot campaign status` redraws this often.
STATUS_REFRESH_SECONDS = 0.5
# `flowbot campaign list` and the admin API list this many campaigns unless asked for more.
LIST_LIMIT = 50
