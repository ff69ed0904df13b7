"""The dispatch service: orders to outlets and technicians under the makers' SLA.

- domain/   pure: SLA arithmetic and business calendars (sla), the order's dispatch
            state and commands (order), decide/evolve (decide), routing suggestion (routing)
- registry  owned master data: the outlet registry and append-only SLA policies
- projection  the dispatch-queue read model (orders and complaints with their deadlines)
- queries   queue reads; SLA state and time left computed at read time from the clock
- orders    load → decide → append with the version read (shared by API and watcher)
- watcher   the SLA watcher job: each breach escalated exactly once
- api/      FastAPI routers (commands POST, queries GET); schemas: request/response models
"""
