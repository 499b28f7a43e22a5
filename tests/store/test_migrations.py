from peewee import CharField

from engine.store import migrations
from engine.store.models import BaseModel


def test_migrate_is_idempotent(db) -> None:
    assert migrations.migrate(db) == []
    assert migrations.pending(db) == []
    assert "engine.0001_initial" in migrations.applied_ids(db)
    tables = set(db.get_tables())
    assert {"organizations", "contacts", "conversations", "messages", "outbox", "schema_migrations"} <= tables


def test_a_plugin_migration_is_pending_then_applied_once(db, monkeypatch) -> None:
    class Widget(BaseModel):
        name = CharField()

        class Meta:
            table_name = "test_widgets"

    monkeypatch.setattr(migrations, "_registry", list(migrations._registry))

    @migrations.migration("testplugin.0001_widgets")
    def create_widgets(database) -> None:
        """widgets"""
        database.create_tables([Widget])

    assert [m.id for m in migrations.pending(db)] == ["testplugin.0001_widgets"]
    assert migrations.migrate(db) == ["testplugin.0001_widgets"]
    assert migrations.migrate(db) == []
    assert "test_widgets" in db.get_tables()


def test_a_failing_migration_is_not_recorded(db, monkeypatch) -> None:
    monkeypatch.setattr(migrations, "_registry", list(migrations._registry))

    @migrations.migration("testplugin.0002_broken")
    def broken(database) -> None:
        raise RuntimeError("bad migration")

    try:
        migrations.migrate(db)
    except RuntimeError:
        pass
    assert "testplugin.0002_broken" not in migrations.applied_ids(db)


def test_timeout_columns_are_added_to_a_database_from_before_them(db) -> None:
    from playhouse.migrate import SchemaMigrator, migrate


    migrator = SchemaMigrator.from_database(db)
    index = next(i.name for i in db.get_indexes("conversations") if i.columns == ["timeout_at"])
    migrate(migrator.drop_index("conversations", index))
    migrate(*(migrator.drop_column("conversations", column) for column in ("timeout_at", "timeout_seq")))
    applied = migrations.SchemaMigration.id == "engine.0003_conversation_timeouts"
    migrations.SchemaMigration.delete().where(applied).execute()
    assert "timeout_at" not in {c.name for c in db.get_columns("conversations")}
    assert migrations.migrate(db) == ["engine.0003_conversation_timeouts"]
    assert {"timeout_at", "timeout_seq"} <= {c.name for c in db.get_columns("conversations")}
    assert any(i.columns == ["timeout_at"] for i in db.get_indexes("conversations"))
