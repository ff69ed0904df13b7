"""Request and response bodies of the parts API. Identifiers that become part of a stream id
(maker, part number, outlet) are restricted to a safe alphabet."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.events.catalog import ShippedLine, StockLine
from libs.web.text import FreeText, PlainText

Ident = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Serial = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Lines = Annotated[list[StockLine], Field(min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartCreate(_Body):
    """Enter (or amend) a part in a maker's catalogue, optionally with its first cost version."""

    maker: Ident
    part_no: Ident
    name: Annotated[PlainText, Field(min_length=1, max_length=200)]
    fits_models: list[Annotated[PlainText, Field(min_length=1, max_length=100)]] = Field([], max_length=500)
    returnable: bool = False
    return_within_days: int | None = Field(default=None, ge=1, le=365)
    cost_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    effective_from: date | None = None

    @model_validator(mode="after")
    def _cost_and_day(self) -> PartCreate:
        if (self.cost_fen is None) != (self.effective_from is None):
            raise ValueError("give cost_fen and effective_from together, or neither")
        if self.return_within_days is not None and not self.returnable:
            raise ValueError("return_within_days applies to returnable parts only")
        return self


class CostCreate(_Body):
    cost_fen: int = Field(ge=0, le=100_000_000)
    effective_from: date


class StockReceipt(_Body):
    maker: Ident
    lines: Lines
    technician_id: Ident | None = Field(default=None, description="into this technician's van; none: the shelf")
    note: Annotated[FreeText, Field(max_length=500)] = ""


class StockCount(_Body):
    maker: Ident
    part_no: Ident
    counted: int = Field(ge=0, le=1_000_000)
    technician_id: Ident | None = None
    reason: Annotated[FreeText, Field(min_length=1, max_length=500)]


class StockSendBack(_Body):
    maker: Ident
    lines: Lines
    technician_id: Ident | None = None
    reason: Annotated[FreeText, Field(min_length=1, max_length=500)]


class PartsOrderCreate(_Body):
    maker: Ident
    outlet_id: Ident
    supplier: Ident = Field(description="the dealer or the maker's regional warehouse")
    lines: Lines
    for_order_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class Shipment(_Body):
    lines: list[ShippedLine] = Field(min_length=1, max_length=200)


class PartsReceipt(_Body):
    lines: list[StockLine] | None = Field(default=None, min_length=1, max_length=200,
                                          description="what arrived; none: everything shipped")


class ReturnCreate(_Body):
    order_id: Annotated[str, Field(min_length=1, max_length=200)]
    part_no: Ident
    faulty_serial: Serial
    waybill: Annotated[PlainText, Field(max_length=200)] = ""


class ReturnReceipt(_Body):
    note: Annotated[FreeText, Field(max_length=500)] = ""


class CommandPublic(BaseModel):
    stream_id: str
    version: int
    position: int
    appended: list[str]
    id: str | None = None  # the parts order or return the command made
