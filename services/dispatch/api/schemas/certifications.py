"""Certified technicians: certify, revoke, list."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from libs.events.bounds import WindowDay
from services.dispatch.api.schemas.base import Body, Name, Note


class CertifyIn(Body):
    maker: Name = Field(description="the maker whose training and certification this is")
    category: Name = Field(description="the product category certified (as on orders: product.category)")
    valid_until: WindowDay = Field(description="the last day it holds (inclusive, China time)")
    certificate_no: Name | None = None


class RevokeIn(Body):
    maker: Name
    reason: Note = Field(min_length=1)


class CertificationAccepted(BaseModel):
    """The technician's certification stream after the command: its version and the events appended."""

    stream_id: str
    version: int
    events: list[str]
    position: int


class CertificationPublic(BaseModel):
    maker: str
    outlet_id: str
    technician_id: str
    provider_id: str
    category: str
    valid_until: date
    certificate_no: str
    certified_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    status: str = Field(description="valid | expired | revoked, on today's China day")
    days_left: int = Field(description="days from today (China time) to valid_until; negative once expired")


class CertificationsPublic(BaseModel):
    as_of: datetime
    certifications: list[CertificationPublic]
