"""The campaign in docs/campaigns.md and the demo campaigns in campaigns/ are valid against the
project's own flows, and the guide's example reaches the contacts it describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.flows.validation import flow_files
from engine.store.fields import utcnow
from engine.store.models import Contact, Organization
from plugins.campaigns.definition import load_file
from plugins.campaigns.segments import audience
from plugins.orders.models import Order
from tests.conftest import ROOT

GUIDE = (ROOT / "docs" / "campaigns.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```yaml\n(name: .*?)```", GUIDE, re.DOTALL)
DEMOS = sorted((ROOT / "campaigns").glob("*.yaml"))
FLOWS = [path.stem for path in flow_files(ROOT / "flows")]


def test_the_guide_has_a_complete_campaign_and_there_is_a_demo() -> None:
    assert len(EXAMPLES) == 1 and DEMOS


@pytest.mark.parametrize("path", DEMOS, ids=[p.name for p in DEMOS])
def test_a_demo_campaign_is_valid(path: Path) -> None:
    assert load_file(path, FLOWS).reply_flow in FLOWS


def test_the_guides_campaign_reaches_pune_contractors_who_ordered_lately(db, tmp_path: Path) -> None:
    path = tmp_path / "offer.yaml"
    path.write_text(EXAMPLES[0], encoding="utf-8")
    campaign = load_file(path, FLOWS)
    shop = Organization.create(name="Shree Ganesh", state_code="27", whatsapp_number="+14155238886")
    fits = Contact.create(organization=shop, phone="+919812340001", tags=["contractor"], city="Pune")
    Contact.create(organization=shop, phone="+919812340002", tags=["contractor"], city="Nashik")
    Contact.create(organization=shop, phone="+919812340003", tags=["retailer"], city="Pune")
    Order.create(organization=shop, contact=fits, status="confirmed", confirmed_at=utcnow())
    assert [row.id for row in audience(shop.id, campaign.audience, utcnow())] == [fits.id]
