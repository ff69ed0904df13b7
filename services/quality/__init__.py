"""The quality service (supervision, seed 004): reviews, complaints, monthly performance scores.

- domain/     pure: model (folds), commands, decide (four Deciders), errors, scoring (the
              seed's rules), policy (the catalog's one policy model, the seed's default),
              counting (which month, which provider), sampling (the weekly call-back draw)
- handlers    one use case per command: review, complaint, policy, close a month
- projection  the quality read model; queries: read-side SQL (scores computed from it)
- api/        HTTP only: commands, queries, schemas; app: the ServiceSpec

Decisions the team should know:
- A month is a calendar month in China time (Asia/Shanghai). A form counts in the month
  of the repair it judges (order.repaired departed_at); a complaint in its receipt month.
- One scored form per order: a supervisor's call-back, if any, supersedes the customer's
  feedback form (it is the verification the seed describes); `n` = the month's repairs (a
  repair without a form scores 0) unless the maker's policy says `n_basis: forms`. The score
  shows form coverage and the shares of forms verified and contradicted by call-backs.
- Complaints weigh their severity's weight in the policy (default 1: the count) for the band.
- Each week a keyed hash of (week, order id) draws the policy's share of every provider's
  customer forms for call-backs (domain/sampling.py; the key is QUALITY_SAMPLE_KEY).
- Complaints that name no provider count against the provider the order is dispatched to.
- Money is integer fen (`*_fen`; 1 yuan = 100 fen); averages are exact fractions, shown
  as decimals rounded half-even to 4 places with the exact value alongside (`avg_exact`).
- Each maker has a policy (`PUT /quality/policies/{maker}`); without one, the seed's
  numbers apply (scoring.default_policy). Open months use the current policy; closing a
  month (`POST /quality/months/{YYYY-MM}/close`) freezes its figures and policy in a
  quality.month_closed event on stream `quality-month:<maker>:<YYYY-MM>`. Forms,
  complaints and repairs that arrive later for a closed month count in the next open month
  (forms and complaints also under `adjustments`) and are listed as `late_items` on both
  months — never in a month already paid.
"""
