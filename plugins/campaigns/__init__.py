"""Campaigns: one message to a segment of customers, at a controlled rate, with metrics.

`definition` reads a campaign (YAML file or admin API JSON) and `segments` turns its audience
into SQL; `service` creates, starts, pauses, resumes and cancels campaigns (`lifecycle` holds
the states); `materialise` is the begin job that writes the recipients once; `sender` is the
batched send job — `pacing` (Redis token bucket and backoff), `claims` (at-least-once
bookkeeping), `personalise` and `dispatch` (one message to Twilio via `messages_api`);
`watch` restarts campaigns whose workers died; `metrics`, `replies` (the reply flow),
`cli` (`flowbot campaign …`) and `admin` (`/admin/api/campaigns…`) show and steer them.
"""

from plugins.campaigns import admin, cli, materialise, models, replies, sender, watch  # noqa: F401  (registers)
