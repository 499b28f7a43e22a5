"""What `flowbot campaign status ID` shows: a live progress bar, then the numbers."""

from __future__ import annotations

import time
from typing import Any

from peewee import Database
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from plugins.campaigns import defaults
from plugins.campaigns.metrics import campaign_metrics
from plugins.campaigns.models import Campaign

# Once a campaign is in one of these states its numbers only move with late callbacks and replies.
SETTLED = ("completed", "cancelled")
_COUNTS = ("sent", "delivered", "read", "failed", "replied")


def summary(campaign: Campaign) -> str:
    """The campaign's numbers as a few lines of text."""
    return describe(campaign_metrics(campaign))


def describe(metrics: dict[str, Any]) -> str:
    failed = ", ".join(f"{code}: {n}" for code, n in metrics["failed_by_code"].items())
    skipped = ", ".join(f"{reason} {n}" for reason, n in metrics["skipped"].items()) or "none"
    return "\n".join(
        [
            f"campaign {metrics['id']} · {metrics['name']} · {metrics['status']}",
            f"  recipients {metrics['recipients']}  queued {metrics['queued']}  sent {metrics['sent']}  "
            f"delivered {metrics['delivered']}  read {metrics['read']}  "
            f"failed {metrics['failed']}" + (f" ({failed})" if failed else ""),
            f"  skipped {skipped}  cancelled {metrics['cancelled']}  replied {metrics['replied']}  "
            f"opted out {metrics['opted_out']}",
        ]
    )


def follow(
    database: Database,
    campaign_id: int,
    refresh: float = defaults.STATUS_REFRESH_SECONDS,
    console: Console | None = None,
) -> dict[str, Any]:
    """Redraw the campaign's progress every `refresh` seconds until it is completed or
    cancelled (Ctrl-C stops earlier); prints and returns the last numbers."""
    console = console or Console()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("", total=None, status="", counts="")
        while True:
            with database.connection_context():
                metrics = campaign_metrics(Campaign.get_by_id(campaign_id))
            progress.update(
                task,
                description=f"{metrics['id']} {metrics['name']}",
                total=metrics["recipients"] or None,
                completed=metrics["done"],
                status=metrics["status"],
                counts=" · ".join(f"{name} {metrics[name]}" for name in _COUNTS),
            )
            if metrics["status"] in SETTLED:
                break
            time.sleep(refresh)
    console.print(describe(metrics))
    return metrics
