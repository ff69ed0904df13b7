"""The dispatch service: orders to outlets and technicians under the makers' SLA.

- domain/   pure: SLA arithmetic and business calendars (sla), the order's dispatch
            state and commands (order), decide/evolve (decide), routing suggestion (routing),
            who may act and which outlet/technician may take an order (access),
            certified technicians per maker and category (certification),
            sales leads from repairs: classification, routing, a lead's life (leads), a
            parts_on_order pause tied to its parts order and its end on receipt (parts_wait)
- reference owned master data: the outlet registry and append-only SLA policies
- projection  the dispatch-queue read model (orders and complaints with their deadlines, the
            parts orders they wait for)
- certifications  certify/revoke use cases, the dispatch check, the dispatch_certifications read model
- leads     the dispatch_leads read model, the lead router job, working a lead, conversion
- queries   queue reads; SLA state and time left computed at read time from the clock
- handlers  load → check who acts → decide → append via libs.events.command (API and watcher)
- jobs      the SLA watcher: each breach escalated exactly once; the parts watcher: each
            wait for a received parts order resumed once
- api/      HTTP only: commands, outlets, queries; schemas/ the request/response models
"""
