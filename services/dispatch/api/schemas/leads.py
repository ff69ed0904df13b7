"""Sales leads from service (seed 003): the routing table, working a lead, lists and conversion."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from libs.events.bounds import Fen
from services.dispatch.api.schemas.base import Body, Name, Note

RouteKind = Literal["store", "department"]


class LeadRuleIn(Body):
    category: Name
    keywords: list[Name] = Field(min_length=1, max_length=50, description="any one in the opportunity's text matches")
    route_to: Name = Field(description="the store or department that works these leads")
    route_kind: RouteKind = "department"


class LeadRulesIn(Body):
    rules: list[LeadRuleIn] = Field(max_length=100, description="first matching row wins")
    default_route: Name = Field(description="where an opportunity no row matches goes (category 'other')")
    default_kind: RouteKind = "department"


class LeadRulesPublic(LeadRulesIn):
    maker: str
    version: int = Field(description="the table's stream version; 0 = the built-in default")
    position: int | None = Field(None, description="the global position a PUT committed (read-your-writes)")


class ContactIn(Body):
    note: Note = ""


class WonIn(Body):
    amount_fen: Fen | None = Field(None, description="the sale's value in fen, when known")
    note: Note = ""


class LostIn(Body):
    reason: Note = Field(min_length=1)


class LeadAccepted(BaseModel):
    stream_id: str
    version: int
    events: list[str]
    position: int


class LeadPublic(BaseModel):
    order_id: str
    maker: str
    outlet_id: str | None
    provider_id: str | None
    technician_id: str | None
    category: str
    route_to: str
    route_kind: str
    text: str
    noted_at: datetime
    opened_at: datetime
    status: str = Field(description="open | contacted | won | lost")
    contacts: int
    first_contacted_at: datetime | None
    closed_at: datetime | None
    amount_fen: int | None
    lost_reason: str | None


class LeadsPublic(BaseModel):
    leads: list[LeadPublic]


class Conversion(BaseModel):
    maker: str
    provider_id: str
    leads: int
    open: int
    contacted: int
    won: int
    lost: int
    won_fen: int
    conversion: float | None = Field(description="won / leads (None: no leads)")


class OutletConversion(Conversion):
    outlet_id: str


class TechnicianConversion(Conversion):
    outlet_id: str
    technician_id: str


class ConversionPublic(BaseModel):
    month: str | None
    outlets: list[OutletConversion]
    technicians: list[TechnicianConversion]
