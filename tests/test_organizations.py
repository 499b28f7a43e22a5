from engine.conversations import contact_for, organization_for
from engine.store.models import Organization
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
