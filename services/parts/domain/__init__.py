"""The parts service's pure rules: one Decider per stream kind (catalogue part, stock of an
outlet, parts order, faulty-part return), the at-cost and return rules, stock levels and
needs, and anomaly flags. No I/O."""

from services.parts.domain import anomalies, catalogue, orders, returns, stock
from services.parts.domain.errors import BadLine, NotFound, PartsRefused, PriceAboveCost, UnknownPart

__all__ = [
    "BadLine",
    "NotFound",
    "PartsRefused",
    "PriceAboveCost",
    "UnknownPart",
    "anomalies",
    "catalogue",
    "orders",
    "returns",
    "stock",
]
