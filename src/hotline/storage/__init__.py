"""Storage: the only place with SQL. SQLite by default, PostgreSQL in production."""
