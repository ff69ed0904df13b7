"""The intake API: partner routes (orders, escalations) and complaint-platform routes."""

from fastapi import APIRouter

from services.intake.api.history import router as history_router
from services.intake.api.orders import router as orders_router
from services.intake.api.platform import router as platform_router

# One router holding both route lists (their tags are on the routes): FastAPI matches an
# included router level by level, and every level costs each request tens of microseconds.
router = APIRouter(routes=[*orders_router.routes, *platform_router.routes, *history_router.routes])

__all__ = ["router"]
