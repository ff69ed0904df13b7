"""Every durable table, in one MetaData: what the migrations must build, and what the
autogenerate test compares them with.

Durable means "not rebuilt by replay": the event store and the reference data services keep
beside it (API keys, webhook secrets and deliveries, platform nonces, outlets, SLA policies,
fee standards). Projections' read models are not here: a rebuild drops and recreates them.
The one place that knows where those tables live; when a module moves, fix the import here.
"""

from __future__ import annotations

from sqlalchemy import MetaData


def durable_metadata() -> MetaData:
    """A copy of every durable table, collected from the modules that define them."""
    # Imported here, not at module level: libs must not need services to import.
    from libs.events import schema
    from libs.web import auth
    from services.dispatch import registry
    from services.intake import tables
    from services.settlement import standards_table

    target = MetaData()
    for source in (schema.metadata, auth.metadata, tables.metadata, registry.metadata, standards_table.owned):
        for table in source.sorted_tables:
            table.to_metadata(target)
    return target
