"""The one database every stage hands work through (SQLite by default, PostgreSQL works)."""
