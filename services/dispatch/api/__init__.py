"""The dispatch API: commands (POST) and queries (GET), assembled into one router."""

from fastapi import APIRouter

from services.dispatch.api import commands, complaints, outlets, queries

router = APIRouter()
router.include_router(outlets.router)
router.include_router(queries.router)
router.include_router(commands.router)
router.include_router(complaints.router)

__all__ = ["router"]
