"""Alembic environment for flatback's training log: migrations run on the connection
handed over by ``flatback.history.migrate`` (no alembic.ini, no logging set-up)."""

from alembic import context

from flatback.log.history import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
