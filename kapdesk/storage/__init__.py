"""Persistence: SQLAlchemy models, Alembic migrations, the writer thread, queries, exports."""
