"""The intake API: partner routes (orders, escalations) and complaint-platform routes."""

from fastapi import APIRouter

from services.intake.api.orders import router as orders_router
from services.intake.api.platform import router as platform_router

router = APIRouter()
router.include_router(orders_router)
router.include_router(platform_router)

__all__ = ["router"]
