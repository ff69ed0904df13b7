"""Why a command was refused (turned into problem documents by libs.web.problems only).

    DomainError (libs.events.errors)
    ├── InvalidField      the command names something impossible (future date, wrong tier)  → 422
    ├── UnknownOrder      the order does not exist (or is not the caller's)                  → 404
    ├── AlreadyReported   the stream already holds a report                                 → 409
    ├── OrderClosed       settled orders are closed                                         → 409
    └── TopOfChain        HQ is the last tier                                               → 409
"""

from __future__ import annotations

from libs.events.errors import DomainError, InvalidInput, Missing, Refused

__all__ = ["AlreadyReported", "DomainError", "InvalidField", "OrderClosed", "TopOfChain", "UnknownOrder"]


class InvalidField(InvalidInput):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"invalid field(s): {field}", field,
                         errors=[{"field": field, "message": message, "type": "value_error"}])
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class UnknownOrder(Missing):
    pass


class AlreadyReported(Refused):
    pass


class DuplicateReference(Refused):
    """A partner reported the same reference again without the Idempotency-Key of the first
    report: answered 409 naming the existing order (a retry must reuse the key)."""

    def __init__(self, ref: str, order_id: str) -> None:
        super().__init__(f"partner_ref {ref!r} is already order {order_id}; retry with the first request's "
                         "Idempotency-Key, or use a new reference", "partner_ref", order_id=order_id)


class OrderClosed(Refused):
    pass


class TopOfChain(Refused):
    pass
