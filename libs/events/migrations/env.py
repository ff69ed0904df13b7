"""Alembic environment: always run inside a connection handed over by libs.events.db.migrate."""

from alembic import context

# The migrations are written out (frozen history); nothing here needs the live models. To
# autogenerate a new revision, hand in app.durable.durable_metadata() as
# the "target_metadata" attribute.
connection = context.config.attributes["connection"]
target = context.config.attributes.get("target_metadata")
context.configure(connection=connection, target_metadata=target, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
