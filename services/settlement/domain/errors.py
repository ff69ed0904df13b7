"""Why settlement refuses a command (libs.web.problems renders them: 409, or 422 naming the field)."""

from __future__ import annotations

from libs.events.errors import InvalidInput, Refused


class SettlementRefused(Refused):
    """A command the order's history does not allow (409)."""


class NotRepaired(SettlementRefused):
    """Only a repaired order can be settled."""


class AlreadySettled(SettlementRefused):
    """An order is settled once; change it with a correction."""


class NotSettled(SettlementRefused):
    """There is no settlement to correct or reverse."""


class NoStandard(InvalidInput):
    """No fee standard of the maker was in force for the provider on the repair day (422)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, "standard")
