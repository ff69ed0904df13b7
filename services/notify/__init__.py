"""Customer notifications (issue 18): a status message at each step of an order, delivered
at least once through an outbox of its own.

- `domain/`: pure rules — which step an event produces (`steps`), the text (`templates`, per
  maker, Chinese first), quiet hours, opt-out, dedup and retry back-off (`policy`).
- `channels/`: the `Channel` port and its adapters — SMS over a provider-neutral HTTP API,
  e-mail over SMTP, and the log channel (the embedded default).
- `tables.py` / `outbox.py`: the `notifications` and `notify_opt_outs` tables (Alembic
  revision 0002) and the writes: enqueue (deduplicated per order, step and channel), claim,
  record an outcome.
- `jobs.py`: the dispatcher — `run_once(now)` and a long-running loop that wakes on enqueue
  and on the next due retry. `queries.py`: what ops read (notifications by state).

Partner webhooks stay in intake (`services/intake/webhooks.py`); this package imports no other
service.
"""
