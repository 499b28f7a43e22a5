"""One campaign message out: free text or the template, and what became of it.

`Dispatcher.deliver` is what a sending thread runs; it touches no database, so the sender's
own thread records every outcome (see `claims.record`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from engine.channels.breaker import SharedCircuitBreaker
from engine.channels.message import Reply
from engine.channels.twilio_sender import (
    OutsideWindowError,
    PermanentSendError,
    RetryableSendError,
    SendResult,
)
from engine.channels.whatsapp import outbound_params
from engine.config import Settings
from plugins.campaigns.messages_api import MessagesApi
from plugins.campaigns.personalise import Outgoing


class Messages(Protocol):
    def send(self, params: Mapping[str, Any]) -> SendResult:
        """Create one message; raise a `SendError` when it was not accepted."""

    def close(self) -> None:
        """Release connections once the sending threads are done."""


class LocalMessages:
    """No Twilio configured (the demo): messages count as sent here, as for replies."""

    def send(self, params: Mapping[str, Any]) -> SendResult:
        return SendResult(sid=f"local-{uuid.uuid4().hex}", status="sent")

    def close(self) -> None:
        pass


def messages_for(settings: Settings, connection: redis.Redis) -> Messages:
    """Twilio when its credentials are configured, else the local stand-in."""
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_from:
        return MessagesApi(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_api_base,
            breaker=SharedCircuitBreaker(connection, "twilio"),  # the one replies use
        )
    return LocalMessages()


@dataclass(frozen=True)
class Delivered:
    outgoing: Outgoing
    sid: str
    as_template: bool


@dataclass(frozen=True)
class Refused:
    """Twilio refused it for good (invalid number, blocked, …): the recipient fails."""

    outgoing: Outgoing
    code: int | None
    reason: str


@dataclass(frozen=True)
class Deferred:
    """Not sent now (429, Twilio down): the recipient goes back in the queue."""

    outgoing: Outgoing
    retry_after: float | None
    reason: str


Outcome = Delivered | Refused | Deferred


class Dispatcher:
    def __init__(self, messages: Messages, from_number: str, status_callback: str | None) -> None:
        self.messages = messages
        self.from_number = from_number
        self.status_callback = status_callback

    @classmethod
    def for_settings(cls, settings: Settings, connection: redis.Redis) -> Dispatcher:
        callback = f"{settings.public_base_url}/whatsapp/status" if settings.public_base_url else None
        return cls(
            messages_for(settings, connection), settings.twilio_whatsapp_from or "+10000000000", callback
        )

    def deliver(self, outgoing: Outgoing) -> Outcome:
        try:
            if outgoing.text is not None:
                try:
                    return Delivered(outgoing, self._send(outgoing, as_template=False), False)
                except OutsideWindowError:
                    if outgoing.template is None:
                        raise  # our window was wrong and there is no template to fall back on
            return Delivered(outgoing, self._send(outgoing, as_template=True), True)
        except RetryableSendError as error:
            return Deferred(outgoing, error.retry_after, str(error))
        except PermanentSendError as error:
            return Refused(outgoing, error.code, str(error))

    def _send(self, outgoing: Outgoing, *, as_template: bool) -> str:
        if as_template:
            assert outgoing.template is not None
            params = outbound_params(
                Reply(text=""),
                outgoing.phone,
                self.from_number,
                self.status_callback,
                outgoing.template.content_sid,
                outgoing.template.variables,
            )
        else:
            params = outbound_params(
                Reply(text=outgoing.text or "", kind="campaign"),
                outgoing.phone,
                self.from_number,
                self.status_callback,
            )
        return self.messages.send(params).sid
