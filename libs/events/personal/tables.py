"""Tables of personal data beside the events: keys, erasure records, the access log.

The shape is frozen in migration 0003_personal_data (a test checks they agree)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, Uuid

from libs.events.schema import Position, UTCDateTime

metadata = MetaData()

# One AES-256 data key per (subject, version). `key` is base64url: the raw key, or when
# `wrapped` it is encrypted by the master key. Erasure sets key NULL and erased_at: the
# row stays, so a reader can tell "erased" (a typed result) from "never existed" (an error).
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", Text),
    Column("wrapped", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("erased_at", UTCDateTime),
)

# Who erased which subject, when and why. Never any of the subject's data.
subject_erasures = Table(
    "subject_erasures",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_id", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("keys_destroyed", Integer, nullable=False),
    Column("erased_at", UTCDateTime, nullable=False),
)
Index("ix_subject_erasures_subject", subject_erasures.c.subject_id)

# Every read of full personal data: who, which subject (and order), why (the endpoint), when.
personal_access = Table(
    "personal_access",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("principal", String(200), nullable=False),
    Column("subject_id", String(40), nullable=False),
    Column("order_id", String(200)),
    Column("purpose", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_personal_access_subject_at", personal_access.c.subject_id, personal_access.c.at)
Index("ix_personal_access_at", personal_access.c.at)
