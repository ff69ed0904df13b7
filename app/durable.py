"""Every durable table, in one MetaData: what the migrations must build, and what the
autogenerate test compares them with.

Durable means "not rebuilt by replay": the event store and the reference data services keep
beside it (API keys, webhook secrets and deliveries, platform nonces, outlets, SLA policies,
fee standards). Projections' read models are not here: a rebuild drops and recreates them.
It lives in the composition root because only the root may know every service's modules.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from libs.events import schema
from libs.events.personal import tables as personal
from libs.events.receipt_store import receipts
from libs.web import auth
from services.dispatch import reference as dispatch
from services.intake import reference as intake
from services.notify import tables as notify
from services.settlement import reference as settlement


def durable_metadata() -> MetaData:
    """A copy of every durable table, collected from the modules that define them."""
    target = MetaData()
    sources = (
        schema.metadata, auth.metadata, intake.metadata, dispatch.metadata, settlement.owned,
        notify.metadata, personal.metadata,
    )
    assert receipts.metadata is schema.metadata  # the receipts table sits beside the events
    for source in sources:
        for table in source.sorted_tables:
            table.to_metadata(target)
    return target
