"""The ops dashboard: a server-rendered page that reads the services' query endpoints."""

from app.dashboard.router import router

__all__ = ["router"]
