"""Request and response bodies of the intake API (the published partner and platform contracts).

Strict on purpose: unknown fields, numbers where text belongs, "yes" for a boolean and
dates that are not YYYY-MM-DD are refused, so nothing the contract does not allow is
ever accepted and stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from libs.events import catalog
from libs.events.bounds import WindowDay, WindowMoment
from libs.web.text import FreeText, PlainText, free_text, plain_text

PHONE = r"^(?:\+?86)?1[3-9][0-9]{9}$|^0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}$"
REF = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$"  # ids and references we look up by


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strict=True, strip_whitespace=True, min_length=min_length, max_length=max_length)


# names and one-line fields refuse every control, bidi-override and zero-width character;
# free text (a fault, a reason) may hold newlines and tabs (libs/web/text.py); checked after
# stripping, so blank text is refused by min_length first
Text20 = Annotated[str, _text(20), AfterValidator(plain_text)]
Text30 = Annotated[str, _text(30), AfterValidator(plain_text)]
Text50 = Annotated[str, _text(50), AfterValidator(plain_text)]
Text100 = Annotated[str, _text(100), AfterValidator(plain_text)]
Text300 = Annotated[str, _text(300), AfterValidator(plain_text)]
Text500 = Annotated[str, _text(500), AfterValidator(free_text)]
Text2000 = Annotated[str, _text(2000), AfterValidator(free_text)]


Day = WindowDay
Moment = WindowMoment
Phone = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, pattern=PHONE, max_length=20)]
Category = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Url = Annotated[str, StringConstraints(strict=True, pattern=r"^https?://[^\s\x00-\x1f\x7f]{1,490}$", max_length=500)]
Ref = Annotated[str, StringConstraints(strict=True, pattern=REF, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(Body):
    name: Text100
    phone: Phone
    address: Text300
    contact: Text100 | None = None


class ProductIn(Body):
    category: Category
    brand: Text50
    model: Text100
    serial: Text100
    factory_date: Day | None = None
    purchase_date: Day | None = None
    quantity: StrictInt = Field(1, ge=1, le=100)


class LocationIn(Body):
    province: Text20
    city: Text30
    county: Text30
    provincial_capital: StrictBool


class OrderCreate(Body):
    """The published partner contract: the standard service form (表7-27) plus the partner's reference."""

    partner_ref: Text100
    customer: CustomerIn
    product: ProductIn
    location: LocationIn
    working_conditions: Annotated[FreeText, StringConstraints(strict=True, max_length=500)] = ""
    fault: Text2000
    reported_at: Moment | None = Field(None, description="a phoned-in or paper order: when the customer reported it "
                                       "(at most 30 days back, 5 minutes ahead); default now")


class OrderAccepted(BaseModel):
    order_id: str
    stream_version: int
    position: int
    status_url: str
    maker: str
    tier: catalog.Tier
    warranty: catalog.Warranty
    customer_link: str | None = None  # the customer's status page (notify), to pass on by SMS


class TimelineEntry(BaseModel):
    version: int
    position: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str
    data: dict[str, Any]


class OrderPublic(BaseModel):
    order_id: str
    status: str
    closed: bool
    tier: catalog.Tier
    channel: str
    external_ref: str
    maker: str
    warranty: catalog.Warranty
    complaints: int
    version: int
    reported_at: datetime
    customer_link: str | None = None  # the customer's status page (notify)
    customer: catalog.Customer
    product: catalog.Product
    location: catalog.Location
    fault: str
    timeline: list[TimelineEntry]


class OrderSummary(BaseModel):
    order_id: str
    partner_ref: str
    status: str
    tier: str
    city: str
    maker: str
    in_warranty: bool
    complaints: int
    reported_at: datetime
    updated_at: datetime
    version: int


class OrdersPublic(BaseModel):
    items: list[OrderSummary]
    next_cursor: str | None


class EscalationCreate(Body):
    reason: Text500
    to_tier: catalog.Tier | None = None


class EscalationAccepted(BaseModel):
    order_id: str
    from_tier: catalog.Tier
    to_tier: catalog.Tier
    stream_version: int
    position: int


class Reporter(Body):
    name: Text100
    phone: Phone


class PlatformProduct(Body):
    category: Category
    brand: Text50
    model: Text100
    serial: Annotated[PlainText, StringConstraints(strict=True, max_length=100)] = ""
    factory_date: Day | None = None
    purchase_date: Day | None = None


class PlatformReport(Body):
    """A report forwarded by a government-style complaint platform, in the platform's shape."""

    platform_ref: Annotated[str, StringConstraints(strict=True, pattern=REF, max_length=100)]
    kind: Literal["repair", "complaint"]
    reported_at: Moment
    reporter: Reporter
    region: LocationIn
    address: Text300
    product: PlatformProduct
    text: Text2000
    attachments: list[Url] = Field(default_factory=list, max_length=10)
    severity: catalog.Severity = "normal"
    order_id: Ref | None = None
    related_ref: Ref | None = None


class PlatformAccepted(BaseModel):
    platform_ref: str
    order_id: str
    opened: bool
    events: list[str]
    stream_version: int
    position: int
    status_url: str


class PlatformOrder(BaseModel):
    order_id: str
    kind: str
    status: str
    closed: bool
    tier: catalog.Tier
    maker: str
    customer_link: str | None = None  # the customer's status page (notify)
    complaints: int
    timeline: list[TimelineEntry]


class PlatformTrail(BaseModel):
    platform_ref: str
    orders: list[PlatformOrder]
