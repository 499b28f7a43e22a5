"""How fresh the cached catalog is: its revision is read once per batch of turns, so a message
that arrives after an import has committed is always matched against the new catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.actions import registry as action_registry
from engine.actions import turn_batch
from engine.channels.message import InboundMessage
from engine.conversations import Conversations
from engine.flows.flowset import FlowSet
from engine.flows.interpreter import Interpreter
from engine.plugins import load_plugins
from engine.store import migrations
from engine.store.models import Message
from plugins.catalog import actions
from plugins.catalog.cache import CatalogCache
from plugins.catalog.store import upsert_products
from tests.catalog.dealer import demo_products, open_shop
from tests.conftest import make_settings

MATCH_FLOW = """\
flow: match
version: 1
triggers: {default: true}
start: ask
states:
  ask:
    text: "Tell me."
    on:
      - do:
          - action: catalog.match_items
            with: {text: "{{ message.text }}"}
            save: found
        text: "{{ found.items | map(attribute='sku') | join(',') or 'nothing' }}"
"""


@pytest.fixture
def revision_reads(runtime, monkeypatch):  # type: ignore[no-untyped-def]
    """How many times the catalog revision was read from the database."""
    load_plugins()
    migrations.migrate(runtime.database)
    reads = []
    database = type(runtime.database)
    execute_sql = database.execute_sql

    def counting(self, sql, *args, **kwargs):  # type: ignore[no-untyped-def]
        if sql.startswith('SELECT "last" FROM "number_series"'):  # plugins.catalog.store.revision
            reads.append(sql)
        return execute_sql(self, sql, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    return reads


def test_a_batch_reads_the_revision_once_and_outside_a_batch_every_call_does(revision_reads) -> None:
    shop = open_shop()
    cache = CatalogCache()
    with turn_batch():
        for _ in range(5):
            cache.get(shop.id)
    assert len(revision_reads) == 1
    for _ in range(3):
        cache.get(shop.id)
    assert len(revision_reads) == 4


def test_a_message_after_an_import_committed_is_matched_against_the_new_catalog(
    revision_reads, runtime, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(actions, "_cache", None)  # this process's memo starts empty
    shop = open_shop()
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "match.yaml").write_text(MATCH_FLOW)
    (tmp_path / "templates" / "en").mkdir(parents=True)
    flowset = FlowSet.load(tmp_path / "flows", tmp_path / "templates", action_registry)
    conversations = Conversations(Interpreter(flowset), make_settings(tmp_path))
    phones = [f"+9198765432{n:02d}" for n in range(3)]

    def batch(text: str, first: int) -> set[str]:
        """One batch of the three customers' turns; the replies they got."""
        number = shop.whatsapp_number
        conversations.handle_many(
            [InboundMessage(sender=phone, recipient=number, text=text, provider_id=f"SM{first + n:032d}")
             for n, phone in enumerate(phones)]
        )
        latest = Message.select().where(Message.direction == "out").order_by(Message.id.desc())
        return {reply.body for reply in latest.limit(len(phones))}

    batch("hello", 0)
    reads = len(revision_reads)
    assert batch("ultratech 53 grade 10 bag", 10) == {"CEM-ULT-OPC53"}
    assert len(revision_reads) == reads + 1  # three turns, one read
    upsert_products(shop.id, demo_products({"CEM-ULT-OPC53": {"active": False}}))  # committed
    assert "CEM-ULT-OPC53" not in batch("ultratech 53 grade 10 bag", 20)
