"""Every tunable default in one place, each with the reason for its value."""

# Where the embedded default keeps its SQLite file, Redis data and generated PDFs.
DATA_DIR = "./var"
FLOWS_DIR = "./flows"
TEMPLATES_DIR = "./templates"

# The seed's connection pool size (Prisma `connection_limit` 20).
DB_POOL_SIZE = 20
# Recycle pooled PostgreSQL connections idle this long, so a restarted server is noticed.
DB_POOL_STALE_SECONDS = 300
# Wait this long for a pooled connection before failing the request with 503.
DB_POOL_WAIT_SECONDS = 10
# SQLite: how long a writer waits for another process's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 15

LOG_LEVEL = "INFO"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

HOST = "127.0.0.1"
PORT = 8000
# `flowbot serve` web processes: one is plenty for a shop and keeps the demo a single process;
# on PostgreSQL set it to the number of CPU cores for throughput (each has its own DB pool).
WEB_PROCESSES = 1

# Queues in priority order: a worker always takes replies to customers first.
QUEUES = ("outbound", "orders", "invoices", "reminders", "campaigns", "default")
DEFAULT_QUEUE = "default"

# Waits between retries of a failing job (exponential backoff); the list length is the
# number of retries, after which the job is dead-lettered (`flowbot jobs failed`).
JOB_RETRY_INTERVALS_SECONDS = (5, 20, 60, 180, 600)
# RQ kills a job that runs longer than this and retries it.
JOB_TIMEOUT_SECONDS = 180
# Keep finished RQ jobs this long; the outbox row in the database is the lasting record.
JOB_RESULT_TTL_SECONDS = 300

# The outbox sweeper runs this often…
OUTBOX_SWEEP_INTERVAL_SECONDS = 30
# …and re-enqueues intents still waiting this long after they were due (their process died
# between commit and enqueue, or Redis lost them).
OUTBOX_SWEEP_GRACE_SECONDS = 60
# How many intents one sweep handles, so a backlog never makes one sweep run for minutes.
OUTBOX_SWEEP_BATCH = 500

# rq-scheduler looks for due periodic jobs this often.
SCHEDULER_POLL_SECONDS = 5

# Every Redis key flowbot writes starts with this, so a shared Redis stays readable.
REDIS_KEY_PREFIX = "flowbot:"

# Twilio's inbound webhooks are a few KB; anything this large is not Twilio (413).
WEBHOOK_MAX_BODY_BYTES = 64 * 1024

# Per-contact inbound limit: a person types far slower; a loop or a script does not.
INBOUND_RATE_LIMIT = 20
INBOUND_RATE_WINDOW_SECONDS = 60

# How long `flowbot serve` waits for its worker and scheduler to stop before killing them.
CHILD_STOP_SECONDS = 10

# -- conversations --------------------------------------------------------------------

# A conversation silent this long starts over from the triggers (WhatsApp's service window).
IDLE_EXPIRY_HOURS = 24
# More state entries than this in one turn is a route loop: the turn is abandoned.
MAX_STATE_ENTRIES_PER_TURN = 20
# Entering one state more often than this in one turn is a loop too.
MAX_VISITS_PER_STATE_PER_TURN = 2
# Twilio's limit for one WhatsApp message body; longer replies are split on line boundaries.
MAX_REPLY_CHARACTERS = 1600
# State timeouts (`timeout: {after: 2h}`) are fired by a sweep this often: `after` is minutes or
# hours, so a few seconds late is unnoticeable, and one indexed query per sweep costs nothing.
TIMEOUT_SWEEP_SECONDS = 5
# At most this many timeouts per sweep (a few ms each), so one sweep stays far below the job
# timeout after a backlog (e.g. the scheduler was down); the next sweep takes the rest.
TIMEOUT_SWEEP_MAX = 2000
# Turns that arrive together are committed in one transaction (group commit), at most this
# many: bounds how long one batch holds its conversations' locks and the first answer waits.
TURN_BATCH_MAX = 100
# Batches a web process writes at once. One: while it waits for the database the event loop
# reads the next requests, and the other web processes use the CPU; a second writer only
# halves the batches (twice the statements per turn) and measured 15-25 % fewer turns/s.
TURN_WRITERS = 1
# `flowbot serve` looks for edited flow and template files at most this often (a stat per file).
FLOW_RELOAD_CHECK_SECONDS = 1.0
# `flowbot validate` checks this many flow files or more in parallel processes.
VALIDATE_PARALLEL_FROM_FILES = 16

# -- WhatsApp over Twilio ----------------------------------------------------------------

# WhatsApp's customer-service window: free-form messages only this long after the last inbound.
WHATSAPP_WINDOW_HOURS = 24
# Backoff for sends Twilio could not take (down, 429, circuit open): 1 s, 2 s, 4 s … 5 min.
SEND_RETRY_BASE_SECONDS = 1.0
SEND_RETRY_CAP_SECONDS = 300.0
# A message still `sending` after this long belongs to a worker that died: send it again.
SENDING_STALE_SECONDS = 120
# The seed's circuit breaker: open after 5 consecutive failures, probe again after 10 s.
BREAKER_FAILURE_THRESHOLD = 5
BREAKER_RECOVERY_SECONDS = 10.0
# A half-open probe that never reports back frees its lock after this long.
BREAKER_PROBE_TIMEOUT_SECONDS = 15.0
# Failures older than this no longer count toward opening the circuit.
BREAKER_FAILURE_MEMORY_SECONDS = 300.0
# One Twilio REST call may take this long before it counts as failed.
TWILIO_HTTP_TIMEOUT_SECONDS = 10.0
# Twilio accepts at most this many media URLs per message.
MAX_MEDIA_PER_MESSAGE = 10
# Document URLs work this long: Twilio fetches within seconds, a customer may tap later.
MEDIA_URL_LIFETIME_DAYS = 7

# -- admin API ---------------------------------------------------------------------------

# Admin requests are small JSON documents (a campaign is a few KB); 1 MB leaves room for
# a long recipient list while refusing anything that could exhaust memory.
ADMIN_MAX_BODY_BYTES = 1024 * 1024
# Lists return this many rows unless `limit` says otherwise, and never more than the max,
# so one request cannot pull a whole table through the web process.
ADMIN_LIST_LIMIT = 50
ADMIN_LIST_MAX = 200
# Messages shown with a conversation: enough for staff to see what the customer asked.
ADMIN_RECENT_MESSAGES = 10
