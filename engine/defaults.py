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
