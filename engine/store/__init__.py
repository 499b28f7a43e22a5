"""Storage: the database is the source of truth (SQLite embedded, PostgreSQL in production)."""
