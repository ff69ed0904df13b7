"""The HTTP edge shared by every service: problems, auth, runtime wiring, metrics."""
