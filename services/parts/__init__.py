"""The parts service: a maker's parts catalogue (cost versioned by effective date), stock per
outlet and technician van, parts orders outlet → dealer/warehouse at cost, and the return of
faulty parts to the maker (旧件返还). Seeds 000 (at cost, no margin), 001 (padded and
substandard parts), 002 (original parts only, parts stock behind every promise).

- domain/     pure: catalogue (part entries, cost in force), orders (parts orders, the
              at-cost rule), stock (levels, vans, needs), returns (faulty-part returns),
              anomalies (flags), errors; one Decider per stream kind
- handlers    one use case per command: load → check the caller's scope → decide → append
- projection  the parts read model: catalogue, costs, stock moves (incl. order.repaired), orders, returns
- queries     read-side SQL: stock, needs, waiting parts, costs, serial search, anomalies
- api/        HTTP only: commands, queries, schemas
- app         the ServiceSpec for the composition root
"""
