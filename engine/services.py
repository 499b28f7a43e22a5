"""The per-process conversation services, built once from the current runtime's settings:
the flow set (hot-reloaded), the interpreter and the conversation handler."""

from __future__ import annotations

import threading
import time

from engine import defaults
from engine.actions import registry as action_registry
from engine.conversations import Conversations
from engine.flows.interpreter import Interpreter
from engine.flows.reloader import FlowSetReloader
from engine.plugins import load_plugins
from engine.rate_limit import InboundRateLimit
from engine.runtime import current

RELOAD_CHECK_SECONDS = defaults.FLOW_RELOAD_CHECK_SECONDS

_lock = threading.Lock()
_reloader: FlowSetReloader | None = None
_conversations: Conversations | None = None
_last_check = 0.0


def flow_reloader() -> FlowSetReloader:
    global _reloader
    with _lock:
        if _reloader is None:
            load_plugins()
            settings = current().settings
            _reloader = FlowSetReloader(settings.flows_dir, settings.templates_dir, action_registry)
        return _reloader


def conversations() -> Conversations:
    """The conversation handler; also picks up edited flows (only when they validate)."""
    global _conversations, _last_check
    reloader = flow_reloader()
    now = time.monotonic()
    if now - _last_check >= RELOAD_CHECK_SECONDS:
        _last_check = now
        reloader.check()
    with _lock:
        if _conversations is None:
            runtime = current()
            limit = InboundRateLimit(
                runtime.redis,
                runtime.settings.inbound_rate_limit,
                runtime.settings.inbound_rate_window_seconds,
            )
            _conversations = Conversations(Interpreter(reloader), runtime.settings, rate_limit=limit)
        return _conversations


def reset() -> None:
    """Forget the services (tests, or after the runtime changed)."""
    global _reloader, _conversations, _last_check
    with _lock:
        _reloader = _conversations = None
        _last_check = 0.0
