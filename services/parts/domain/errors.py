"""Why the parts service refuses a command (libs.web.problems renders them: 409, 404, or 422
naming the field).

    DomainError
    ├── InvalidInput 422   PriceAboveCost (a shipment line priced above the catalogue cost),
    │                      UnknownPart, BadLine (a quantity or part the stream does not allow)
    ├── Missing      404   NotFound (absent, or another maker's / provider's object)
    └── Refused      409   PartsRefused (the stream's state does not allow the command)
"""

from __future__ import annotations

from libs.events.errors import InvalidInput, Missing, Refused


class PartsRefused(Refused):
    """A command the stream's history does not allow (409)."""


class NotFound(Missing):
    """Absent for this caller: another tenant's object is answered the same way (404)."""


class PriceAboveCost(InvalidInput):
    """Seed 000: the dealer supplies parts at cost, never with a margin."""


class UnknownPart(InvalidInput):
    """A part the maker's catalogue does not have."""


class BadLine(InvalidInput):
    """A line whose part or quantity the stream does not allow."""
