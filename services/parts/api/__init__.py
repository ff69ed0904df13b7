"""The parts service's HTTP edge: commands and reads on one router."""

from fastapi import APIRouter

from services.parts.api.commands import router as commands
from services.parts.api.queries import router as reads

router = APIRouter()
router.include_router(commands)
router.include_router(reads)

__all__ = ["router"]
