"""The JSON Schema of a campaign definition: a campaign YAML file, or the admin API's body.

Written out in full (no `$ref`) because the admin API embeds it in its OpenAPI document.
What a schema cannot say well (templates, times, flows) is checked in `definition`.
"""

from __future__ import annotations

from typing import Any

from plugins.campaigns import defaults

_NAMES = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "maxLength": 100}}

AUDIENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Which contacts get the campaign; every filter given must hold. Contacts who "
    "sent STOP never do (checked again just before each send).",
    "additionalProperties": False,
    "properties": {
        "tags": {**_NAMES, "description": "contacts with at least one of these tags (any case)"},
        "exclude_tags": {**_NAMES, "description": "leave out contacts with any of these tags"},
        "cities": {**_NAMES, "description": "contacts in one of these cities (any case)"},
        "last_order": {
            "description": "`never`, or when the contact last ordered (a confirmed order)",
            "oneOf": [
                {"const": "never"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "within_days": {"type": "integer", "minimum": 1, "description": "at most N days ago"},
                        "older_than_days": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "more than N days ago (and not since)",
                        },
                    },
                },
            ],
        },
        "unpaid_invoice": {
            "type": "boolean",
            "description": "true: has an invoice not paid yet; false: has none",
        },
    },
}

MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An approved template (content_sid + variables), free text, or both: text goes to "
    "customers who wrote in the last 24 hours, the template to everyone else.",
    "additionalProperties": False,
    "properties": {
        "content_sid": {
            "type": "string",
            "pattern": "^HX[0-9a-f]{32}$",
            "description": "the approved WhatsApp template's Twilio Content SID (HX + 32 hex digits)",
        },
        "variables": {
            "type": "object",
            "description": "the template's variables, each a Jinja text over `contact` and `campaign`",
            "propertyNames": {"pattern": "^[0-9A-Za-z_]{1,40}$"},
            "additionalProperties": {"type": ["string", "number"]},
        },
        "text": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1600,
            "description": "free text (Jinja); WhatsApp allows it only inside the 24-hour window",
        },
    },
}

CAMPAIGN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "message"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "\\S", "maxLength": 100, "description": "unique per seller"},
        "description": {"type": "string"},
        "audience": AUDIENCE_SCHEMA,
        "message": MESSAGE_SCHEMA,
        "reply_flow": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": "the flow a recipient's answer starts (within "
            f"{defaults.REPLY_WINDOW_HOURS} hours, when no conversation is going on)",
        },
        "start_at": {
            "type": "string",
            "description": "when sending starts: '2026-11-01 10:00' (in `timezone`) or ISO 8601 "
            "with an offset; absent or past: as soon as it is started",
        },
        "rate": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": defaults.MAX_SEND_RATE,
            "description": f"messages per second (default {defaults.SEND_RATE})",
        },
        "quiet_hours": {
            "type": "string",
            "description": f"no sending in this daily span, e.g. {defaults.QUIET_HOURS} (the default), "
            "or 'off'",
        },
        "timezone": {
            "type": "string",
            "description": f"the clock of start_at and quiet_hours (default {defaults.TIMEZONE})",
        },
    },
}
