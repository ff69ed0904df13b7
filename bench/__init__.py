"""`make bench`: every module bench/bench_*.py contributes a section; figures are compared
with baselines measured in the same run, never with constants."""
