"""Why quality refuses a command; each carries its HTTP status (libs.web.problems renders it)."""

from __future__ import annotations

from libs.events.errors import DomainError


class QualityError(DomainError):
    """A command the order's history does not allow; libs.web.problems turns it into a problem."""


class OrderUnknown(QualityError):
    """No order.reported on that stream."""

    status = 404


class NotRepaired(QualityError):
    """Reviews judge a repair: none has been recorded yet."""


class AlreadyReviewed(QualityError):
    """One form per order per channel; a form is never changed."""


class OwnWork(QualityError):
    """The party that did the work may not judge it."""

    status = 403


class OtherMaker(QualityError):
    """A maker's supervision acts on its own orders and months only."""

    status = 403


class InvalidComplaint(QualityError):
    """The complaint does not say whom or when it concerns."""

    status = 422


class InvalidReview(QualityError):
    """A late-entered form's time cannot be right (before the repair it judges)."""

    status = 422


class MonthNotOver(QualityError):
    """A month can only be closed once it has ended in China time."""


class MonthAlreadyClosed(QualityError):
    """Closing is final: the figures were frozen and paid on."""


class PreviousMonthOpen(QualityError):
    """A month's delta compares with the previous month's avg, which must be final first."""
