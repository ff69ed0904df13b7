"""Which step a domain event produces: a pure function of the event and the order's context.

| event              | step                                                        |
|--------------------|-------------------------------------------------------------|
| order.reported     | reported                                                    |
| order.dispatched   | dispatched (the visit window, or the SLA due time)          |
| order.on_the_way   | on_the_way (the technician's arrival estimate)              |
| order.repaired     | repaired, and a feedback request FEEDBACK_DELAY after it    |
| order.settled      | settled, only when the customer pays (out of warranty)      |
| order.reviewed     | cancels a feedback request not yet sent                     |

A customer's own reschedule (order.rescheduled) produces nothing: the customer made it on the
status page and sees it there. A reassignment produces nothing either: the customer already
has a dispatched message, and dedup per (order, step, channel) would drop a second one (and a
second arrival estimate) anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.notify.domain.model import Cancel, OrderContext, Step, Trigger
from services.notify.domain.policy import CHINA

FEEDBACK_DELAY = timedelta(hours=2)  # the form comes after the technician left, not on the doorstep

Action = Trigger | Cancel
Rule = Callable[[Mapping[str, Any], datetime, OrderContext], list[Action]]


def actions_for(event_type: str, data: Mapping[str, Any], occurred_at: datetime,
                context: OrderContext) -> list[Action]:
    """The notifications an event asks for (none for the events customers do not hear about)."""
    rule = RULES.get(event_type)
    return rule(data, occurred_at, context) if rule else []


def _reported(_data: Mapping[str, Any], _at: datetime, context: OrderContext) -> list[Action]:
    return [Trigger(Step.REPORTED, {"ref": context.external_ref})]


def _dispatched(data: Mapping[str, Any], _at: datetime, context: OrderContext) -> list[Action]:
    start, end = data.get("window_start"), data.get("window_end")
    if start and end:  # the appointment window, once dispatch books one (issue 18 item 3)
        begins = _time(start)
        window = f"{local_text(begins)}–{_time(end).astimezone(CHINA):%H:%M}"
        return [Trigger(Step.DISPATCHED, {"ref": context.external_ref, "window": window},
                        useful_until=begins)]
    due = _time(data["sla_due_at"])
    variables = {"ref": context.external_ref, "window": f"{local_text(due)}前"}
    return [Trigger(Step.DISPATCHED, variables, useful_until=due)]


def _on_the_way(data: Mapping[str, Any], _at: datetime, context: OrderContext) -> list[Action]:
    eta = _time(data["eta"])  # useless once the technician should be at the door
    variables = {"ref": context.external_ref, "eta": local_text(eta)}
    return [Trigger(Step.ON_THE_WAY, variables, useful_until=eta)]


def _repaired(data: Mapping[str, Any], at: datetime, context: OrderContext) -> list[Action]:
    left = _time(data["departed_at"]) if data.get("departed_at") else at
    return [Trigger(Step.REPAIRED, {"ref": context.external_ref}),
            Trigger(Step.FEEDBACK_REQUEST, {"ref": context.external_ref},
                    not_before=left + FEEDBACK_DELAY)]


def _settled(data: Mapping[str, Any], _at: datetime, context: OrderContext) -> list[Action]:
    if data.get("payer") != "customer":  # the maker or a lump sum pays: nothing to tell
        return []
    amount = yuan(int(data["total_fen"]))
    return [Trigger(Step.SETTLED, {"ref": context.external_ref, "amount": amount})]


def _reviewed(_data: Mapping[str, Any], _at: datetime, _context: OrderContext) -> list[Action]:
    return [Cancel(Step.FEEDBACK_REQUEST)]


RULES: dict[str, Rule] = {
    "order.reported": _reported,
    "order.dispatched": _dispatched,
    "order.on_the_way": _on_the_way,
    "order.repaired": _repaired,
    "order.settled": _settled,
    "order.reviewed": _reviewed,
}


def yuan(fen: int) -> str:
    """Integer fen as the customer reads it: 12345 -> '123.45元'."""
    return f"{Decimal(fen) / 100:.2f}元"


def local_text(moment: datetime) -> str:
    """A time as the customer reads it: China time, month, day and minute."""
    return f"{moment.astimezone(CHINA):%m月%d日 %H:%M}"


def _time(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("naive datetime in an event")
    return moment
