"""The settlement service: a repaired order priced under the maker's fee standard in force
on the repair day, approved by finance, corrected by reversal + new settlement.

- domain/     pure: State and evolve (model), commands, decide, errors, pricing (lines in
              fen), standards (versioned fee standards, lump sums), anomalies (flags),
              returns (a returnable part's cost against its faulty part's return: wait or reduce)
- handlers    one use case per command: load → check the maker → find the standard → decide → append
- reference   the fee-standards table settlement owns (never rebuilt from events)
- projection  the settlement read model (orders, repairs, settlements, the provider ledger)
- returns_projection  the faulty-part returns the parts service recorded, with their receipt
- queries     read-side SQL: proposals, order detail, ledgers, statements, totals, anomalies
- api/        HTTP only: commands, queries (reports), standards, schemas
- app         the ServiceSpec for the composition root
"""
