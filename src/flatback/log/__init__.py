"""The training log: SQLAlchemy models, Alembic migrations, history."""
