"""What a durable turn costs in CPU by the size of its batch (group commit), without HTTP.

    .venv/bin/python benchmarks/turn_batches.py [--turns 2000] [--batches 1,8,32]

The turns of `benchmarks/webhook.py` (200 customers walking the demo dealer's order
conversation on PostgreSQL + Redis: `webhook.dealer_store`)
run in this process as the web process's batch writer runs them — `handle_many` on batches
of messages from different customers — with no HTTP and no other thread. For each batch
size it prints the wall time, the CPU of this thread and the CPU of the PostgreSQL server
(all its processes, read from /proc: keep the machine otherwise idle) per turn. Batch 1 is
the baseline: no group commit. From the smallest and largest sizes it fits the cost as a
fixed part per batch plus a part per turn: what cutting a batch's statements saves against
what cutting a turn's work saves. Far less noisy than turns/s under load: for A/B runs of
the batch writer's code.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from webhook import cpu_seconds, dealer_store, script  # noqa: E402

from engine.channels.message import InboundMessage  # noqa: E402
from engine.channels.whatsapp import parse_inbound  # noqa: E402

WARM_UP_BATCHES = 300  # every customer has a contact and a conversation, every statement is prepared


def messages() -> Iterator[InboundMessage]:
    """The webhooks of `webhook.script()`, parsed as the web process parses them."""
    return (parse_inbound(form) for form in script())


@contextmanager
def dealer_runtime(**settings: str) -> Iterator[Any]:
    """The web process's runtime in this process, on `webhook.dealer_store`'s database and
    Redis (with `settings` in its environment), logging to /dev/null as the benchmark's
    server does."""
    with dealer_store(**settings) as (env, _, _, _):
        os.environ.update(env)
        from engine.cli import startup
        from engine.runtime import open_runtime

        runtime = open_runtime(startup.start())
        logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115
        yield runtime


def run(handle_many, stream: Iterator[InboundMessage], batch: int, count: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(count):
        outcomes = handle_many([next(stream) for _ in range(batch)])
        failed = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if failed:
            raise SystemExit(f"a turn failed: {failed[0]!r}")


def measure(handle_many, stream: Iterator[InboundMessage], batch: int, turns: int) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    batches = max(1, turns // batch)
    wall, cpu, pg = time.perf_counter(), time.thread_time(), cpu_seconds().get("postgres")
    run(handle_many, stream, batch, batches)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    pg_after = cpu_seconds().get("postgres")
    done = batches * batch
    return {
        "wall": wall / done * 1000,
        "cpu": cpu / done * 1000,
        "pg": (pg_after - pg) / done * 1000 if pg is not None and pg_after is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=2000,
                        help="turns measured per batch size (1,000 = every customer through the script once)")
    parser.add_argument("--batches", default="1,8,32", help="batch sizes, comma-separated")
    args = parser.parse_args()
    sizes = sorted({int(size) for size in args.batches.split(",")})
    with dealer_runtime(PUBLIC_BASE_URL="http://127.0.0.1:1"):
        from engine.heap import freeze_startup_objects
        from engine.services import conversations

        freeze_startup_objects()
        handle_many, stream = conversations().handle_many, messages()  # one script, all sizes
        run(handle_many, stream, 8, WARM_UP_BATCHES)
        results = {size: measure(handle_many, stream, size, args.turns) for size in sizes}
    print(f"{'turns per batch':16}{'wall ms/turn':>14}{'CPU ms/turn':>13}{'PostgreSQL':>12}")
    for size, row in results.items():
        pg = f"{row['pg']:.3f}" if row["pg"] is not None else "n/a"
        print(f"{size:<16}{row['wall']:>14.3f}{row['cpu']:>13.3f}{pg:>12}")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for name, label in (("cpu", "this thread's CPU"), ("pg", "PostgreSQL's CPU")):
            a, b = results[small][name], results[large][name]
            if a is None or b is None:
                continue
            per_batch = (a - b) / (1 / small - 1 / large)
            print(f"{label}: ~{per_batch:.2f} ms per batch + ~{b - per_batch / large:.2f} ms per turn")
        print(f"batch {large} against batch {small} (no group commit): "
              f"{results[small]['cpu'] / results[large]['cpu']:.1f}x less CPU per turn in this thread")


if __name__ == "__main__":
    main()
