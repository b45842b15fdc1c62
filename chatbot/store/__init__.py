"""Storage: the SQLAlchemy models and engine with their Alembic migrations, the outbox table's writer,
the per-user dialog state and locks (Redis, or in-process), and the rate counters. Everything above it
keeps its data here; nothing here decides an inspection rule."""
