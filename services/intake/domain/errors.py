"""Why a command was refused (turned into problem documents at the API edge only).

    DomainError
    ├── InvalidField      the command names something impossible (future date, wrong tier)  → 422
    ├── UnknownOrder      the order does not exist                                          → 404
    ├── AlreadyReported   the stream already holds a report                                 → 409
    ├── OrderClosed       settled orders are closed                                         → 409
    └── TopOfChain        HQ is the last tier                                               → 409
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal by the intake rules."""


class InvalidField(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class UnknownOrder(DomainError):
    pass


class AlreadyReported(DomainError):
    pass


class OrderClosed(DomainError):
    pass


class TopOfChain(DomainError):
    pass
