"""Number series: one upsert per number, gapless under rollback, locked until the transaction ends."""

from __future__ import annotations

import psycopg2
import pytest

from engine.store.database import is_sqlite, write_transaction
from engine.store.models import Organization
from engine.store.sequences import last_value, next_value
from tests.services import second_session


class Rollback(Exception):
    pass


def shops() -> tuple[Organization, Organization]:
    return (Organization.create(name="Dealer", state_code="27", whatsapp_number="+14155238886"),
            Organization.create(name="Other", state_code="29", whatsapp_number="+14155230000"))


def test_a_new_series_starts_at_one_and_each_series_counts_on_its_own(db) -> None:
    shop, other = shops()
    with write_transaction():
        assert next_value(shop.id, "order") == 1
        assert next_value(shop.id, "invoice/2026-27") == 1
        assert next_value(shop.id, "order") == 2
        assert next_value(other.id, "order") == 1
    with write_transaction():
        assert next_value(shop.id, "order") == 3
    assert (last_value(shop.id, "order"), last_value(other.id, "order")) == (3, 1)


def test_a_rollback_gives_the_number_back(db) -> None:
    shop, _ = shops()
    with pytest.raises(Rollback), write_transaction():
        assert next_value(shop.id, "order") == 1  # the series' first row is rolled back too
        raise Rollback
    with write_transaction():
        assert next_value(shop.id, "order") == 1
        with pytest.raises(Rollback), write_transaction():  # a savepoint
            assert next_value(shop.id, "order") == 2
            raise Rollback
        assert next_value(shop.id, "order") == 2
    with pytest.raises(Rollback), write_transaction():
        assert next_value(shop.id, "order") == 3
        raise Rollback
    assert last_value(shop.id, "order") == 2


def test_a_number_is_taken_only_inside_a_transaction(db) -> None:
    shop, _ = shops()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        next_value(shop.id, "order")
    assert last_value(shop.id, "order") == 0


def test_the_series_row_stays_locked_until_the_transaction_ends(db, database_url) -> None:
    shop, other = shops()
    with write_transaction():  # committed rows, which the other connection can see
        next_value(shop.id, "order")
        next_value(other.id, "order")
    with write_transaction():
        assert next_value(shop.id, "order") == 2
        if is_sqlite():
            return  # one write lock for the whole database: nothing per row to show
        with second_session(database_url) as cursor:
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                cursor.execute("UPDATE number_series SET last = last WHERE organization_id = %s", (shop.id,))
            cursor.connection.rollback()
            cursor.execute("UPDATE number_series SET last = last WHERE organization_id = %s", (other.id,))
            assert cursor.rowcount == 1  # another series is not held
            cursor.connection.rollback()
