"""Re-exported from bench (the bench drives the same workloads; bench imports no tests)."""

from bench.personal_data import *  # noqa: F403
