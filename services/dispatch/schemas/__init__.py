"""Request and response schemas of the dispatch API (one family per resource)."""

from services.dispatch.schemas.commands import (
    Accepted,
    ArriveIn,
    DispatchIn,
    PauseIn,
    ReassignIn,
    RepairIn,
    RespondIn,
    ResumeIn,
)
from services.dispatch.schemas.outlets import (
    AreaIn,
    CalendarIn,
    OutletCreate,
    OutletPublic,
    OutletUpdate,
    PolicyIn,
    PolicyPublic,
    TechnicianIn,
)
from services.dispatch.schemas.views import (
    ComplaintItem,
    ComplaintSla,
    OrderDispatchPublic,
    OutletLoad,
    OverduePublic,
    Pause,
    QueueItem,
    QueuePublic,
    RoutePublic,
    SlaStateName,
    SuggestionPublic,
    TechnicianLoad,
)

__all__ = [
    "Accepted", "AreaIn", "ArriveIn", "CalendarIn", "ComplaintItem", "ComplaintSla", "DispatchIn", "OrderDispatchPublic",
    "OutletCreate", "OutletLoad", "OutletPublic", "OutletUpdate", "OverduePublic", "Pause", "PauseIn", "PolicyIn",
    "PolicyPublic", "QueueItem", "QueuePublic", "ReassignIn", "RepairIn", "RespondIn", "ResumeIn", "RoutePublic",
    "SlaStateName", "SuggestionPublic", "TechnicianIn", "TechnicianLoad",
]
