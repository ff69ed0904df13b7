"""Alembic environment: always run inside a connection handed over by libs.events.db.migrate."""

from alembic import context

from libs.events.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
