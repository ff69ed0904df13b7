"""Where an item counts: which month (a closed month is final, late items go to the next
open one) and which provider a complaint is charged to. Pure; the projection applies it."""

from __future__ import annotations

from collections.abc import Container, Mapping

from libs.events.chinatime import next_month


def counting_month(natural: str, closed: Container[str]) -> str:
    """The natural month if still open, else the first open month after it."""
    month = natural
    while month in closed:
        month = next_month(month)
    return month


def charged_to(
    provider: str | None, outlet: str | None, order_provider: str | None, order_outlet: str | None,
) -> tuple[str | None, str | None]:
    """A complaint that names no provider is charged to the provider the order is dispatched
    to; its outlet, when unnamed, is the order's only if the provider is the order's."""
    provider = provider or order_provider
    if outlet is None and order_provider is not None and provider == order_provider:
        outlet = order_outlet
    return provider, outlet


def counted_in(natural: str, position: int, closures: Mapping[str, int]) -> str:
    """The month a row applied at log `position` counts in, given each closed month's
    `through_position`: its natural month unless that month's figures were taken before it,
    then the first later month still open or whose figures were taken after it."""
    month = natural
    while month in closures and closures[month] < position:
        month = next_month(month)
    return month
