"""The dispatch API: commands (POST) and queries (GET), assembled into one router."""

from fastapi import APIRouter

from services.dispatch.api import certifications, commands, complaints, leads, outlets, queries

router = APIRouter()
router.include_router(outlets.router)
router.include_router(queries.router)
router.include_router(commands.router)
router.include_router(certifications.router)
router.include_router(leads.router)
router.include_router(complaints.router)

__all__ = ["router"]
