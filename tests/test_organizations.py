from pathlib import Path

from engine.actions import registry as action_registry
from engine.channels.message import InboundMessage
from engine.conversations import Conversations, contact_for, organization_for
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.store.models import Message, Organization
from tests.conftest import make_settings


def test_an_unknown_business_number_creates_its_organization_from_settings(db, tmp_path) -> None:
    settings = make_settings(
        tmp_path, ORG_NAME="Sharma Traders", ORG_STATE_CODE="09", ORG_GSTIN="09ABCDE1234F1Z5"
    )
    org = organization_for("+14155238886", settings)
    assert (org.name, org.state_code, org.gstin) == ("Sharma Traders", "09", "09ABCDE1234F1Z5")
    assert organization_for("+14155238886", settings).id == org.id
    assert Organization.select().count() == 1


def test_contacts_are_created_once_and_named_from_the_profile(db, tmp_path) -> None:
    org = organization_for("+14155238886", make_settings(tmp_path))
    first = contact_for(org, "+919812345678")
    again = contact_for(org, "+919812345678", "Ramesh")
    assert first.id == again.id
    assert again.name == "Ramesh"


GREETING_FLOW = """\
flow: greet
version: 1
triggers: {default: true}
start: hello
states:
  hello:
    text: "Welcome to {{ organization.name }} ({{ organization.whatsapp_number }})."
    end: true
"""


def test_templates_name_the_seller_the_customer_wrote_to(runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    Organization.create(name="Gupta Hardware", state_code="09", whatsapp_number="+14155550100")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "greet.yaml").write_text(GREETING_FLOW)
    (tmp_path / "templates" / "en").mkdir(parents=True)
    flowset = FlowSet.load(tmp_path / "flows", tmp_path / "templates", action_registry)
    conversations = Conversations(Interpreter(flowset), make_settings(tmp_path, ORG_NAME="Sharma Traders"))
    for n, number in enumerate(["+14155550100", "+14155238886"]):
        outcome = conversations.handle(
            InboundMessage(sender="+919812345678", recipient=number, text="hi", provider_id=f"SM{n:032d}")
        )
        assert outcome.status == "processed"
    replies = [m.body for m in Message.select().where(Message.direction == "out").order_by(Message.id)]
    assert replies == [
        "Welcome to Gupta Hardware (+14155550100).",
        "Welcome to Sharma Traders (+14155238886).",
    ]
