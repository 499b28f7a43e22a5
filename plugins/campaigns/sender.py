"""The `campaigns.send` job (seed: send-campaign-message, batched): one sender of a campaign.

A running campaign has `LANES` chains of sender jobs on the `campaigns` queue. Each job sends
for up to `BATCH_SECONDS`, then hands over to its successor (the outbox intent's dedup key is
`campaign-<id>-<run>-<lane>-<seq>`, so a job RQ runs twice still has one successor):

    loop:  every CONTROL_CHECK_SECONDS: still running, same run, not in quiet hours?
           take tokens (the campaign's bucket, shared by every worker) for the free
           sending slots → claim that many recipients → send them on a small thread pool
           → record each answer as it comes
    until: paused / cancelled / resumed as a new run   → stop (no successor)
           quiet hours                                 → successor at their end
           a long backoff after 429s                   → successor when it ends
           BATCH_SECONDS spent                         → successor now
           nothing left to claim                       → complete the campaign if nobody
                                                         is sending any more

At-least-once, no gap: a recipient is claimed (`sending`) before its Twilio call and marked
`sent` with the SID right after. If the worker dies (SIGKILL, power), its claims stay
`sending` until its heartbeat expires (`HEARTBEAT_SECONDS`); then they are released to
`queued` and sent again by the next sender. A claim whose call never reached Twilio is sent
once; one whose call Twilio had accepted in the instant before the worker died is sent a
second time — Twilio has no idempotency key to prevent it. That is at most the calls in
flight at the moment of death (`SEND_CONCURRENCY` per killed worker); every other recipient
gets the campaign exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from engine.jobs import outbox
from engine.jobs.registry import JobContext, job
from plugins.campaigns import claims, defaults, keys, lifecycle
from plugins.campaigns.definition import CampaignDefinition, from_data
from plugins.campaigns.dispatch import Deferred, Dispatcher, Outcome
from plugins.campaigns.heartbeat import Heartbeat, alive_senders
from plugins.campaigns.models import Campaign
from plugins.campaigns.pacing import Pacing
from plugins.campaigns.personalise import Outgoing, Personaliser

log = logging.getLogger("flowbot.campaigns")

SEND_JOB = "campaigns.send"
# A wait longer than this (a long backoff, a very slow rate) frees the worker: the job hands
# over to a successor scheduled for the end of the wait.
LONG_WAIT_SECONDS = 5.0

Enqueue = Callable[..., Any]


def lane_key(campaign_id: int, run: int, lane: int, seq: int) -> str:
    return f"campaign-{campaign_id}-{run}-{lane}-{seq}"


def start_senders(enqueue: Enqueue, campaign_id: int, run: int) -> None:
    """The first job of every lane of run `run` (inside the caller's unit of work)."""
    for lane in range(defaults.LANES):
        payload = {"campaign_id": campaign_id, "run": run, "lane": lane, "seq": 1}
        enqueue(SEND_JOB, payload, dedup_key=lane_key(campaign_id, run, lane, 1))


@dataclass(frozen=True)
class Verdict:
    """Why a sender job stopped, and when its successor runs (None: no successor)."""

    why: str
    next_at: dt.datetime | None = None


@job(SEND_JOB, queue="campaigns", atomic=False)
def send(ctx: JobContext, campaign_id: int, run: int, lane: int, seq: int) -> str:
    """Send one batch of a campaign's messages; returns why it stopped."""
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None or campaign.run != run or campaign.status != "running":
        return "stopped"
    ctx.redis.delete(keys.handover(campaign_id, lane))
    with Heartbeat(ctx.redis, campaign_id) as heartbeat:
        claims.release_orphans(campaign_id, alive_senders(ctx.redis, campaign_id))
        verdict = Sender(ctx, campaign, heartbeat.token).run()
        if verdict.why == "finished":
            _complete(campaign_id, ctx.now())
        elif verdict.next_at is not None:
            _hand_over(ctx, campaign_id, run, lane, seq + 1, verdict.next_at)
    return verdict.why


def _hand_over(ctx: JobContext, campaign_id: int, run: int, lane: int, seq: int, at: dt.datetime) -> None:
    now = ctx.now()
    delay = max(0.0, (at - now).total_seconds())
    ctx.redis.set(
        keys.handover(campaign_id, lane), b"1", px=int((delay + defaults.HANDOVER_GRACE_SECONDS) * 1000)
    )
    with outbox.unit_of_work():
        outbox.add(
            SEND_JOB,
            {"campaign_id": campaign_id, "run": run, "lane": lane, "seq": seq},
            dedup_key=lane_key(campaign_id, run, lane, seq),
            run_at=at if delay >= 1 else None,
        )


def _complete(campaign_id: int, now: dt.datetime) -> None:
    with outbox.unit_of_work():
        campaign = Campaign.get_by_id(campaign_id)
        left = claims.remaining(campaign_id, now)
        if lifecycle.may(campaign, "complete") and not (left.ready or left.sending or left.waiting_until):
            try:
                lifecycle.move(campaign, "complete", "completed", now, completed_at=now)
            except lifecycle.CampaignStateError:
                return  # paused or cancelled this very moment, or another lane completed it
            log.info("campaign completed", extra={"campaign": campaign_id})


class Sender:
    """The loop of one sender job (module docstring)."""

    def __init__(self, ctx: JobContext, campaign: Campaign, token: str) -> None:
        self.ctx = ctx
        self.campaign_id = campaign.id
        self.organization_id = campaign.organization_id
        self.run_number = campaign.run
        self.token = token
        self.definition: CampaignDefinition = from_data(campaign.definition)
        self.personaliser = Personaliser(campaign.id, campaign.name, self.definition.message)
        self.pacing = Pacing(ctx.redis, campaign.id, campaign.rate)
        self.dispatcher = Dispatcher.for_settings(ctx.settings, ctx.redis)
        self.in_flight: dict[Future[Outcome], Outgoing] = {}
        self._throttled = False

    def run(self) -> Verdict:
        deadline = time.monotonic() + defaults.BATCH_SECONDS
        next_check = 0.0
        verdict: Verdict | None = None
        with ThreadPoolExecutor(defaults.SEND_CONCURRENCY, thread_name_prefix="campaign-send") as pool:
            try:
                while True:
                    self._record_done()
                    if verdict is None and time.monotonic() >= next_check:
                        verdict = self._control()
                        next_check = time.monotonic() + defaults.CONTROL_CHECK_SECONDS
                    if verdict is None and time.monotonic() >= deadline:
                        verdict = Verdict("batch", self.ctx.now())
                    if verdict is not None:
                        if not self.in_flight:
                            return verdict
                        self._wait(defaults.CONTROL_CHECK_SECONDS)
                        continue
                    verdict = self._send_more(pool)
            finally:
                self._drain()
                self.dispatcher.messages.close()

    def _send_more(self, pool: ThreadPoolExecutor) -> Verdict | None:
        free = defaults.SEND_CONCURRENCY - len(self.in_flight)
        if free <= 0:
            self._wait(defaults.CONTROL_CHECK_SECONDS)
            return None
        granted, pause = self.pacing.take(free)
        if granted == 0:
            if pause > LONG_WAIT_SECONDS and not self.in_flight:
                return Verdict("waiting", self.ctx.now() + dt.timedelta(seconds=pause))
            self._wait(min(pause, defaults.CONTROL_CHECK_SECONDS))
            return None
        claimed = claims.claim(self.campaign_id, self.personaliser, granted, self.token, self.ctx.now())
        self.pacing.give_back(granted - len(claimed))
        for outgoing in claimed:
            self.in_flight[pool.submit(self.dispatcher.deliver, outgoing)] = outgoing
        if claimed:
            return None
        if self.in_flight:
            self._wait(defaults.CONTROL_CHECK_SECONDS)  # a 429 among them puts recipients back
            return None
        return self._nothing_to_claim()

    def _nothing_to_claim(self) -> Verdict | None:
        left = claims.remaining(self.campaign_id, self.ctx.now())
        if left.ready:
            self._wait(defaults.CONTROL_CHECK_SECONDS)  # another sender is claiming them right now
            return None
        if left.sending:
            return Verdict("others_sending")  # whoever sends the last one completes the campaign
        if left.waiting_until is not None:
            return Verdict("contacts_busy", left.waiting_until)
        return Verdict("finished")

    def _control(self) -> Verdict | None:
        """Stop for a pause, a cancel, a newer run, or quiet hours."""
        row = (
            Campaign.select(Campaign.status, Campaign.run)
            .where(Campaign.id == self.campaign_id)
            .tuples()
            .first()
        )
        if row is None or row[0] != "running" or row[1] != self.run_number:
            return Verdict("stopped")
        quiet = self.definition.quiet_hours
        now = self.ctx.now()
        if quiet is not None and quiet.contains(now):
            return Verdict("quiet_hours", quiet.defer(now))
        return None

    def _wait(self, seconds: float) -> None:
        if self.in_flight:
            wait(self.in_flight, timeout=seconds, return_when=FIRST_COMPLETED)
        elif seconds > 0:
            time.sleep(seconds)

    def _record_done(self) -> None:
        done = [future for future in self.in_flight if future.done()]
        if not done:
            return
        outcomes = [self._outcome(future) for future in done]
        for future in done:
            del self.in_flight[future]
        recorded = claims.record(outcomes, self.token, self.organization_id, self.campaign_id, self.ctx.now())
        if self._throttled and recorded.sent:
            # Twilio took some: the next 429 is a new, short wait, not the next doubling.
            self.pacing.recovered()
            self._throttled = False
        deferred = [o for o in outcomes if isinstance(o, Deferred)]
        if deferred:
            hint = max((o.retry_after or 0 for o in deferred), default=0)
            waited = self.pacing.throttled(hint or None)
            self._throttled = True
            log.warning(
                "Twilio is limiting or down; campaign sending waits",
                extra={"campaign": self.campaign_id, "seconds": waited, "why": deferred[0].reason},
            )

    def _outcome(self, future: Future[Outcome]) -> Outcome:
        try:
            return future.result()
        except Exception as error:  # noqa: BLE001 - a bug in one send must not lose the others
            outgoing = self.in_flight[future]
            log.exception("campaign send crashed", extra={"recipient": outgoing.recipient_id})
            return Deferred(outgoing, None, f"{type(error).__name__}: {error}")

    def _drain(self) -> None:
        """Record what is still in flight (its calls end within Twilio's HTTP timeout)."""
        if self.in_flight:
            wait(self.in_flight)
            self._record_done()
