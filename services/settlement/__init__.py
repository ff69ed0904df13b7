"""The settlement service: domain (pure), api (FastAPI router), projection (read models), app (wiring)."""
