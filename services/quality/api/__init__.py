"""Quality's HTTP edge: commands (supervision only) and queries on one router."""

from services.quality.api.commands import router

__all__ = ["router"]
