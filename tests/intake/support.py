"""Re-exported from bench (the bench drives the same workloads; bench imports no tests)."""

from bench.intake_bodies import *  # noqa: F403
