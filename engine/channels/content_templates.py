"""Approved WhatsApp Content templates, mapped per message kind.

WhatsApp allows free-form messages only within 24 hours of the customer's last message.
Outside that window (and when Twilio answers 63016) a message must be an approved Content
template: `content_sid` plus `content_variables`. Analysts map each message kind (the
template name in the flow, e.g. `order_confirmed`) in `templates/whatsapp_content.yaml`:

    order_confirmed:
      content_sid: HX0123456789abcdef0123456789abcdef
      variables:                 # Jinja, over the message's variables and `text`
        "1": "{{ order.number }}"
        "2": "{{ order.total }}"

The same map gives interactive kinds their quick-reply / list-picker content. A kind that
must go out as a template but has none fails visibly (message status `failed`, logged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.flows import sandbox

FILE_NAME = "whatsapp_content.yaml"


class ContentMapError(ValueError):
    """The content map file is wrong; the message names the file and the kind."""


@dataclass(frozen=True)
class ContentTemplate:
    kind: str
    content_sid: str
    variables: Mapping[str, Any] = field(default_factory=dict)

    def render(self, context: Mapping[str, Any]) -> dict[str, str]:
        return {name: str(sandbox.compile_value(value)(context)) for name, value in self.variables.items()}


class ContentTemplates:
    def __init__(self, templates: Mapping[str, ContentTemplate]) -> None:
        self._templates = dict(templates)

    @classmethod
    def load(cls, templates_dir: Path) -> ContentTemplates:
        path = Path(templates_dir) / FILE_NAME
        if not path.is_file():
            return cls({})
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ContentMapError(f"{path}: expected a mapping of message kind → template")
        templates = {}
        for kind, entry in data.items():
            sid = entry.get("content_sid") if isinstance(entry, dict) else None
            if not isinstance(sid, str) or not sid.startswith("HX"):
                raise ContentMapError(f"{path}: {kind}: content_sid must be a Twilio Content SID (HX…)")
            templates[str(kind)] = ContentTemplate(str(kind), sid, dict(entry.get("variables") or {}))
        return cls(templates)

    def get(self, kind: str) -> ContentTemplate | None:
        return self._templates.get(kind)
