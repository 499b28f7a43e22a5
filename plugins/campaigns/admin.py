"""Campaigns in the admin API (`Authorization: Bearer $ADMIN_TOKEN`):

POST /admin/api/campaigns                      create a draft (body: a campaign definition)
GET  /admin/api/campaigns                      newest first
GET  /admin/api/campaigns/{id}                 one campaign with its metrics
POST /admin/api/campaigns/{id}/start           draft → running / scheduled
POST /admin/api/campaigns/{id}/pause           → paused (within a second)
POST /admin/api/campaigns/{id}/resume          paused → running / scheduled
POST /admin/api/campaigns/{id}/cancel          → cancelled
GET  /admin/api/campaigns/{id}/metrics         queued, sent, delivered, read, failed, replied…
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.flows.validation import flow_files
from engine.store.fields import utcnow
from engine.web.admin import AdminRequest, Conflict, NotFound, Unprocessable, admin_route, paging
from plugins.campaigns import defaults, service
from plugins.campaigns.definition import CampaignDefinitionError, from_data
from plugins.campaigns.lifecycle import CampaignStateError
from plugins.campaigns.metrics import campaign_metrics
from plugins.campaigns.models import STATUSES
from plugins.campaigns.schema import CAMPAIGN_SCHEMA

_TIME = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
CAMPAIGN_OUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "status", "rate", "definition"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "rate": {"type": "number", "description": "messages per second"},
        "reply_flow": {"type": ["string", "null"]},
        "start_at": _TIME,
        "recipients": {"type": ["integer", "null"], "description": "set once sending starts"},
        "created_at": _TIME,
        "started_at": _TIME,
        "completed_at": _TIME,
        "cancelled_at": _TIME,
        "definition": CAMPAIGN_SCHEMA,
    },
}
_COUNTS_BY = {"type": "object", "additionalProperties": _COUNT}
METRICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "recipients", "queued", "sent", "delivered", "read", "failed", "replied"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "recipients": _COUNT,
        "queued": {**_COUNT, "description": "not sent yet"},
        "sent": {**_COUNT, "description": "accepted by Twilio"},
        "delivered": {**_COUNT, "description": "delivered or read"},
        "read": _COUNT,
        "failed": _COUNT,
        "failed_by_code": {**_COUNTS_BY, "description": "Twilio error code → count; `none` without a code"},
        "skipped": {**_COUNTS_BY, "description": "opted_out, outside_window → count"},
        "cancelled": _COUNT,
        "replied": {**_COUNT, "description": "wrote back after their message"},
        "opted_out": {**_COUNT, "description": "sent STOP after their message"},
        "done": {**_COUNT, "description": "recipients no longer queued"},
    },
}
_WITH_METRICS = {
    **CAMPAIGN_OUT_SCHEMA,
    "properties": {**CAMPAIGN_OUT_SCHEMA["properties"], "metrics": METRICS_SCHEMA},
}


@admin_route(
    "/campaigns",
    "POST",
    tags=("campaigns",),
    status=201,
    request_schema=CAMPAIGN_SCHEMA,
    response_schema=CAMPAIGN_OUT_SCHEMA,
)
def create_campaign(request: AdminRequest) -> dict[str, Any]:
    """Save a campaign definition as a draft."""
    flows = [path.stem for path in flow_files(Path(request.settings.flows_dir))]
    try:
        definition = from_data(request.body, flows, source="body")
    except CampaignDefinitionError as error:
        fields = [{"field": p.field, "in": "body", "message": p.message} for p in error.problems]
        raise Unprocessable(f"The campaign is invalid: {error.problems[0].message}.", fields=fields) from None
    try:
        campaign = service.create_campaign(request.organization.id, definition, now=utcnow())
    except service.CampaignExists as error:
        raise Conflict(str(error), code="campaign_exists") from None
    return service.campaign_data(campaign)


@admin_route(
    "/campaigns",
    tags=("campaigns",),
    query={
        **paging(defaults.LIST_LIMIT),
    },
    response_schema={
        "type": "object",
        "required": ["campaigns"],
        "properties": {"campaigns": {"type": "array", "items": CAMPAIGN_OUT_SCHEMA}},
    },
)
def list_campaigns(request: AdminRequest) -> dict[str, Any]:
    """List campaigns, newest first."""
    found = service.list_campaigns(
        request.organization.id,
        limit=request.query.get("limit", defaults.LIST_LIMIT),
        offset=request.query.get("offset", 0),
    )
    return {"campaigns": [service.campaign_data(campaign) for campaign in found]}


@admin_route("/campaigns/{id:int}", tags=("campaigns",), response_schema=_WITH_METRICS)
def show_campaign(request: AdminRequest) -> dict[str, Any]:
    """One campaign, with its metrics."""
    campaign = _campaign(request)
    return {**service.campaign_data(campaign), "metrics": campaign_metrics(campaign)}


@admin_route("/campaigns/{id:int}/metrics", tags=("campaigns",), response_schema=METRICS_SCHEMA)
def campaign_metrics_route(request: AdminRequest) -> dict[str, Any]:
    """A campaign's numbers: queued, sent, delivered, read, failed by code, replied, opted out."""
    return campaign_metrics(_campaign(request))


def _campaign(request: AdminRequest) -> Any:
    try:
        return service.get_campaign(request.path["id"], request.organization.id)
    except service.CampaignNotFound as error:
        raise NotFound(str(error)) from None


def _move_route(action: str, summary: str) -> None:
    apply = {
        "start": service.start_campaign,
        "pause": service.pause_campaign,
        "resume": service.resume_campaign,
        "cancel": service.cancel_campaign,
    }[action]

    def move(request: AdminRequest) -> dict[str, Any]:
        try:
            campaign = apply(request.path["id"], request.organization.id, now=utcnow())
        except service.CampaignNotFound as error:
            raise NotFound(str(error)) from None
        except CampaignStateError as error:
            raise Conflict(str(error), code=f"cannot_{action}") from None
        return service.campaign_data(campaign)

    move.__name__ = f"{action}_campaign"
    admin_route(
        f"/campaigns/{{id:int}}/{action}",
        "POST",
        summary=summary,
        tags=("campaigns",),
        response_schema=CAMPAIGN_OUT_SCHEMA,
    )(move)


_move_route("start", "Start sending a draft campaign (from its start_at, if that is ahead)")
_move_route("pause", "Pause a scheduled or running campaign; senders stop within a second")
_move_route("resume", "Resume a paused campaign where it stopped")
_move_route("cancel", "Cancel a campaign: recipients not yet sent to never will be")
