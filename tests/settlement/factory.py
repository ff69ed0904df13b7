"""Re-exported from bench (the bench drives the same workloads; bench imports no tests)."""

from bench.settlement_events import *  # noqa: F403
