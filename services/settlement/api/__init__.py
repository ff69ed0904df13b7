"""Settlement's HTTP edge: commands, reports and fee standards on one router."""

from fastapi import APIRouter

from services.settlement.api.commands import router as commands
from services.settlement.api.history import router as history
from services.settlement.api.queries import router as reports
from services.settlement.api.standards import router as standards
from services.settlement.api.whatif import router as whatif

router = APIRouter()
router.include_router(commands)
router.include_router(reports)
router.include_router(standards)
router.include_router(history)
router.include_router(whatif)

__all__ = ["router"]
