"""The periodic catalog sync: every ZOHO_SYNC_MINUTES, one process syncs the seller's catalog.

The scheduler runs `zoho.sync` every minute; a Redis claim that lives ZOHO_SYNC_MINUTES lets
one run per period through, whichever worker takes it. A sync Zoho could not serve gives the
claim back, so the next minute tries again — failing fast without a request while the circuit
is open. Meanwhile the bot quotes from the last synced catalog in the database (and its cache).
"""

from __future__ import annotations

import logging

from engine.conversations import business_number, organization_for
from engine.jobs.registry import periodic
from engine.runtime import current
from plugins.zoho import keys
from plugins.zoho.catalog_sync import SyncReport, sync_catalog
from plugins.zoho.client import ZohoClient
from plugins.zoho.config import zoho_config
from plugins.zoho.errors import ZohoError, ZohoUnavailable

log = logging.getLogger("flowbot.zoho")

# The scheduler looks every minute; ZOHO_SYNC_MINUTES decides which minute actually syncs.
SYNC_CHECK_SECONDS = 60
# How many SKUs a log line names per list (the counts are always complete).
LOGGED_NAMES = 20
_told_not_configured = False


@periodic("zoho.sync", every_seconds=SYNC_CHECK_SECONDS)
def scheduled_sync() -> str:
    """Sync the seller's catalog from Zoho when this period's sync has not run yet.

    Returns what happened: "synced", "not due", "unavailable", "failed" or "not configured".
    """
    global _told_not_configured
    runtime = current()
    config = zoho_config(runtime.settings)
    if config is None:
        if not _told_not_configured:
            log.info("zoho not configured (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN): no sync")
            _told_not_configured = True
        return "not configured"
    organization = organization_for(business_number(runtime.settings), runtime.settings)
    claim = keys.sync_claim(organization.id)
    if not runtime.redis.set(claim, b"1", nx=True, ex=config.sync_minutes * 60):
        return "not due"
    try:
        report = sync_catalog(ZohoClient(config, runtime.redis), runtime.redis, organization.id)
    except ZohoUnavailable as error:
        runtime.redis.delete(claim)
        log.warning("zoho sync failed; the bot quotes the last synced catalog", extra={"error": str(error)})
        return "unavailable"
    except ZohoError as error:  # credentials or a refused request: retrying each minute cannot help
        log.error("zoho sync failed", extra={"error": str(error)})
        return "failed"
    log.info("zoho sync: " + report.summary(), extra=log_fields(report))
    return "synced"


def log_fields(report: SyncReport) -> dict[str, object]:
    return {
        "fetched": report.fetched,
        "updated": [change.sku for change in report.changes][:LOGGED_NAMES],
        "updated_count": len(report.changes),
        "only_in_zoho": report.only_in_zoho[:LOGGED_NAMES],
        "only_in_zoho_count": len(report.only_in_zoho),
        "only_in_catalog": report.only_in_catalog[:LOGGED_NAMES],
        "only_in_catalog_count": len(report.only_in_catalog),
        "duplicate_codes": report.duplicate_codes[:LOGGED_NAMES],
        "catalog_revision": report.revision,
    }
