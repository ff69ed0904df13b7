"""The intake service: orders reported by partners (REST, API key) and complaint platforms
(HMAC-signed webhooks), escalated dealer → regional office → HQ.

- domain/   pure: the order (state, evolve, commands, decide, resend detection), warranty
            (三包) rules, errors
- handlers  one use case per command: report, escalate, a platform's forwarded report
- reference intake's own durable tables: platform nonces, partner webhook secrets, outbox
- projection  the intake_orders read model (and platform references)
- queries   read-side SQL over it (platform refs, complaint-to-order matching)
- webhooks  partner webhook delivery from the outbox
- api/      HTTP only: partner routes (orders), platform routes, schemas
- app       the ServiceSpec for the composition root; cli: partner keys
"""
