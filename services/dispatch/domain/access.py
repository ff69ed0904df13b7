"""Who may move an order, and whether an outlet and technician can take it (pure rules)."""

from __future__ import annotations

from datetime import datetime

from libs.events.errors import Missing
from services.dispatch.domain.order import Assignment, Invalid, State
from services.dispatch.domain.routing import Outlet


def check_actor(role: str, party: str | None, state: State) -> None:
    """A dispatch desk moves its own maker's orders; a technician reports only on orders
    dispatched to its own provider. Another tenant's order is answered as unknown (404),
    never naming its owner."""
    other_maker = role == "dispatcher" and party != state.maker
    if other_maker or (role == "technician" and party != state.provider_id):
        raise Missing(f"order {state.order_id} not found")


def assignment(outlet_id: str, outlet: Outlet | None, technician_id: str, state: State) -> Assignment:
    """The assignment to an active outlet's technician skilled for the order's category."""
    if outlet is None or not outlet.active:
        raise Invalid("outlet_id", f"no active outlet {outlet_id!r}")
    tech = outlet.technician(technician_id)
    if tech is None:
        raise Invalid("technician_id", f"outlet {outlet_id} has no technician {technician_id!r}")
    if state.category and state.category not in tech.skills:
        raise Invalid("technician_id", f"technician {technician_id} is not skilled for {state.category!r}")
    return Assignment(outlet.id, outlet.provider_id, tech.id)


def not_in_future(name: str, at: datetime, now: datetime) -> None:
    """A reported time may be late (offline) but never ahead of the server clock."""
    if at > now:
        raise Invalid(name, f"{name} is in the future")
