"""`decide(state, command) -> [payload]` and `evolve(state, payload, fact) -> state` for dispatch."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from libs.events import catalog
from libs.events.backdating import within_window
from libs.events.catalog import Payload
from libs.events.decider import Fact, Rules
from libs.events.escalation import escalation
from services.dispatch.domain import windows
from services.dispatch.domain.order import (
    ON_SITE,
    Arrive,
    Command,
    Complaint,
    Dispatch,
    EscalateBreaches,
    Invalid,
    OnTheWay,
    PauseSla,
    Reassign,
    Refused,
    Repair,
    Reschedule,
    RespondComplaint,
    ResumeForParts,
    ResumeSla,
    State,
)
from services.dispatch.domain.parts_wait import link_check, resume_for_parts

MAX_ETA = timedelta(hours=24)  # an arrival estimate further out is not "on the way"


def decide(state: State, command: Command) -> list[Payload]:
    """The events a command produces, or Refused/Invalid."""
    if state.status == "new":
        raise Refused(f"order {state.order_id} has not been reported")
    match command:
        case Dispatch():
            return _dispatch(state, command)
        case Reassign():
            return _reassign(state, command)
        case PauseSla():
            return _pause(state, command)
        case ResumeSla():
            return _resume(state, command)
        case Reschedule():
            return _reschedule(state, command)
        case OnTheWay():
            return _on_the_way(state, command)
        case Arrive():
            return _arrive(state, command)
        case Repair():
            return _repair(state, command)
        case RespondComplaint():
            return _respond(state, command)
        case EscalateBreaches():
            return _escalate(state, command)
        case ResumeForParts():
            return resume_for_parts(state, command.parts_order_id)
    raise TypeError(f"unknown command {command!r}")


def _when(state: State, at: datetime, now: datetime, name: str) -> None:
    """An update may be late (offline, paper) but not from the future, nor before the order's last
    step, nor older than the late-entry window (libs/events/backdating.py)."""
    if at > now:
        raise Invalid(name, f"{name} {at.isoformat()} is in the future")
    if state.last_step_at is not None and at < state.last_step_at:
        raise Invalid(name, f"{name} {at.isoformat()} is before the order's last step ({state.last_step_at.isoformat()})")
    within_window(name, at, now)


def _dispatch(state: State, cmd: Dispatch) -> list[Payload]:
    if state.status != "reported":
        hint = " (use reassign)" if state.status == "dispatched" else ""
        raise Refused(f"order {state.order_id} is {state.status}; only a reported order can be dispatched{hint}")
    if cmd.now is not None:  # a dispatch entered late keeps its own time
        _when(state, cmd.at, cmd.now, "occurred_at")
    due = state.on_site_clock(cmd.policy).due_at(cmd.policy.calendar)
    data = catalog.OrderDispatched(
        outlet_id=cmd.to.outlet_id, provider_id=cmd.to.provider_id, technician_id=cmd.to.technician_id,
        sla_due_at=due, sla_kind="on_site", sla_hours=round(cmd.policy.on_site_seconds(state.provincial_capital) / 3600),
        calendar=cmd.policy.calendar_name,
        window_start=cmd.window[0] if cmd.window else None, window_end=cmd.window[1] if cmd.window else None,
    )
    return [data]


def _reassign(state: State, cmd: Reassign) -> list[Payload]:
    if state.status != "dispatched":
        raise Refused(f"order {state.order_id} is {state.status}; only a dispatched order not yet visited can be reassigned")
    if (cmd.to.outlet_id, cmd.to.technician_id) == (state.outlet_id, state.technician_id):
        raise Invalid("technician_id", "the order is already with this outlet and technician")
    if not cmd.reason.strip():
        raise Invalid("reason", "say why the order moves")
    due = state.on_site_clock(cmd.policy).due_at(cmd.policy.calendar)
    data = catalog.OrderReassigned(
        from_outlet_id=state.outlet_id or "", outlet_id=cmd.to.outlet_id, provider_id=cmd.to.provider_id,
        technician_id=cmd.to.technician_id, reason=cmd.reason, sla_due_at=due,
    )
    return [data]


def _pause(state: State, cmd: PauseSla) -> list[Payload]:
    if not state.open:
        raise Refused(f"order {state.order_id} is {state.status}; the on-site SLA can only pause before arrival")
    if state.paused_since is not None:
        raise Refused(f"the SLA of order {state.order_id} is already paused since {state.paused_since.isoformat()}")
    _when(state, cmd.at, cmd.now, "occurred_at")
    link_check(state, cmd.reason, cmd.parts_order)
    parts_order_id = cmd.parts_order.parts_order_id if cmd.parts_order else None
    return [catalog.OrderSlaPaused(reason=cmd.reason, note=cmd.note, parts_order_id=parts_order_id)]


def _resume(state: State, cmd: ResumeSla) -> list[Payload]:
    if state.paused_since is None:
        raise Refused(f"the SLA of order {state.order_id} is not paused")
    _when(state, cmd.at, cmd.now, "occurred_at")
    return [catalog.OrderSlaResumed(note=cmd.note)]


def _reschedule(state: State, cmd: Reschedule) -> list[Payload]:
    """Book or move the appointment within the policy; a later window credits the SLA the
    customer's delay as a pause (none while the SLA already stands paused)."""
    if state.status != "dispatched":
        raise Refused(f"order {state.order_id} is {state.status}; only a dispatched order not yet visited can be rescheduled")
    current = windows.Window(*state.window) if state.window else None
    if current is None:
        new = windows.book(cmd.new, cmd.slots)
    elif cmd.new == current:
        raise windows.WindowError("this is the window already booked")
    else:
        new = windows.reschedule(current, cmd.new, cmd.slots, cmd.at, state.reschedules)
    pause = windows.sla_pause(current, new) if current and state.paused_since is None else None
    clock = state.on_site_clock(cmd.policy)
    if pause:
        clock = clock.pause(pause[0]).resume(pause[1], cmd.policy.calendar)
    return [catalog.OrderRescheduled(
        window_start=new.start, window_end=new.end,
        previous_start=current.start if current else None, previous_end=current.end if current else None,
        pause_reason="customer_rescheduled" if pause else None,
        sla_paused_from=pause[0] if pause else None, sla_paused_until=pause[1] if pause else None,
        sla_due_at=clock.due_at(cmd.policy.calendar),
    )]


def _on_the_way(state: State, cmd: OnTheWay) -> list[Payload]:
    if state.status != "dispatched":
        raise Refused(f"order {state.order_id} is {state.status}; a technician sets out for a dispatched order")
    if cmd.eta < cmd.at:
        raise Invalid("eta", "the arrival estimate is in the past")
    if cmd.eta > cmd.at + MAX_ETA:
        raise Invalid("eta", f"an arrival estimate is at most {MAX_ETA} ahead")
    return [catalog.OrderOnTheWay(technician_id=state.technician_id or "", eta=cmd.eta)]


def _arrive(state: State, cmd: Arrive) -> list[Payload]:
    if state.status != "dispatched":
        raise Refused(f"order {state.order_id} is {state.status}; a technician can only arrive at a dispatched order")
    _when(state, cmd.at, cmd.now, "arrived_at")
    changes: list[Payload] = []
    if state.paused_since is not None:  # the visit itself ends a wait for the customer or for parts
        changes.append(catalog.OrderSlaResumed(note="technician arrived", cause="arrived"))
    changes.append(catalog.OrderArrived(arrived_at=cmd.at, staff_count=cmd.staff_count))
    return changes


def _repair(state: State, cmd: Repair) -> list[Payload]:
    if state.status != "arrived":
        raise Refused(f"order {state.order_id} is {state.status}; a repair is recorded after arrival")
    _when(state, cmd.departed_at, cmd.now, "departed_at")
    data = catalog.OrderRepaired(
        diagnosis=cmd.diagnosis, solution=cmd.solution, other_services=cmd.other_services, parts=list(cmd.parts),
        labour_hours=cmd.labour_hours, departed_at=cmd.departed_at, test_result=cmd.test_result,
        cause_analysis=cmd.cause_analysis, sales_opportunity=cmd.sales_opportunity,
    )
    return [data]


def _respond(state: State, cmd: RespondComplaint) -> list[Payload]:
    found = next((c for c in state.complaints if c.id == cmd.complaint_id), None)
    if found is None:
        raise Refused(f"order {state.order_id} has no complaint {cmd.complaint_id}")
    if found.responded_at is not None:
        raise Refused(f"complaint {cmd.complaint_id} was answered at {found.responded_at.isoformat()}")
    if not cmd.response.strip():
        raise Invalid("response", "the response is empty")
    data = catalog.ComplaintResponded(complaint_id=cmd.complaint_id, response=cmd.response)
    return [data]


def breaches(state: State, cmd: EscalateBreaches) -> list[tuple[str, datetime]]:
    """(breach key, deadline) of every SLA of the order out of time at `cmd.now` and not yet escalated."""
    found: list[tuple[str, datetime]] = []
    policy = cmd.policy
    clock = state.on_site_clock(policy)
    if ON_SITE not in state.escalated and clock.breached(cmd.now, policy.calendar):
        found.append((ON_SITE, clock.due_at(policy.calendar)))
    for complaint in state.complaints:
        key = f"complaint:{complaint.id}"
        due = state.complaint_due(complaint, policy)
        answered = complaint.responded_at
        late = (answered or cmd.now) > due
        if key not in state.escalated and late:
            found.append((key, due))
    return found


def _escalate(state: State, cmd: EscalateBreaches) -> list[Payload]:
    """One tier up per breach, along the one chain; at HQ there is nowhere higher to go."""
    changes: list[Payload] = []
    tier = state.tier
    for key, due in breaches(state, cmd):
        what = "on-site visit" if key == ON_SITE else "complaint response"
        step = escalation(tier, f"SLA breach: {what} was due {due.isoformat()}", "sla_breach", key)
        if step is None:
            break
        changes.append(step)
        tier = step.to_tier
    return changes


def evolve(state: State, data: Payload, fact: Fact) -> State:
    """Fold one event of the order (events of other services only move the version)."""
    state = replace(state, version=fact.version)
    at = fact.occurred_at
    match data:
        case catalog.OrderReported():
            loc = data.location
            return replace(
                state, status="reported", maker=data.maker, category=data.product.category,
                provincial_capital=loc.provincial_capital, region=(loc.province, loc.city, loc.county), tier=data.tier,
                reported_at=at, reported_recorded_at=fact.recorded_at, last_step_at=at,
            )
        case catalog.OrderDispatched():
            window = (data.window_start, data.window_end) if data.window_start and data.window_end else None
            return replace(state, status="dispatched", outlet_id=data.outlet_id, provider_id=data.provider_id,
                           technician_id=data.technician_id, last_step_at=at, window=window)
        case catalog.OrderReassigned():
            return replace(state, status="dispatched", outlet_id=data.outlet_id, provider_id=data.provider_id,
                           technician_id=data.technician_id, last_step_at=at, eta=None)
        case catalog.OrderRescheduled():
            moved = state.reschedules + (1 if data.previous_start else 0)
            since, until = data.sla_paused_from, data.sla_paused_until
            pauses = (*state.pauses, (since, until)) if since and until else state.pauses
            return replace(state, window=(data.window_start, data.window_end), reschedules=moved, pauses=pauses)
        case catalog.OrderOnTheWay():
            return replace(state, eta=data.eta)
        case catalog.OrderSlaPaused():
            return replace(state, paused_since=at, waiting_for=data.parts_order_id, last_step_at=at)
        case catalog.OrderSlaResumed():
            since = state.paused_since or at
            return replace(state, paused_since=None, waiting_for=None, pauses=(*state.pauses, (since, at)),
                           last_step_at=max(state.last_step_at or at, at))  # a receipt may predate a later step
        case catalog.OrderArrived():
            return replace(state, status="arrived", arrived_at=data.arrived_at, last_step_at=at)
        case catalog.OrderRepaired():
            return replace(state, status="repaired", last_step_at=at)
        case catalog.OrderEscalated():
            escalated = state.escalated | {data.breach} if data.trigger == "sla_breach" and data.breach else state.escalated
            return replace(state, tier=data.to_tier, escalated=escalated)
        case catalog.ComplaintReceived():
            return replace(state, complaints=(*state.complaints, Complaint(data.complaint_id, data.received_at)))
        case catalog.ComplaintResponded():
            complaints = tuple(
                replace(c, responded_at=at) if c.id == data.complaint_id else c for c in state.complaints
            )
            return replace(state, complaints=complaints)
    return state


DECIDER: Rules[State, Command] = Rules(State, evolve, decide, lambda state: {"status_now": state.status})
