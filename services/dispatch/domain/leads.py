"""Service feeds sales (seed 003): a technician's noted sales opportunity becomes a lead,
classified and routed to a store or department by the maker's rule table, and worked to an end.

Seed 003: 服务人员可以直接在手机端登记, 销售机会反馈到企业相应的后台管理板块, 负责客户管理的
人员在系统中对销售机会进行分类, 再分派到相关的门店或部门. Here the classification is a rule
table per maker (keywords → category → store/department; the first matching row wins, none:
the default route), applied when the lead is opened and copied onto `lead.opened`, so a later
table never re-routes old leads and a rebuild gives the same rows.

A lead's life (stream `lead-{order_id}`, one per repaired order with an opportunity):
open → contacted (any number of attempts) → won | lost; won and lost are final.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from libs.events.catalog import LeadContacted, LeadLost, LeadOpened, LeadRule, LeadRulesSet, LeadWon, Payload
from libs.events.decider import Fact, Rules
from services.dispatch.domain.order import Invalid, Refused

LeadStatus = Literal["none", "open", "contacted", "won", "lost"]
RouteKind = Literal["store", "department"]


def lead_stream(order_id: str) -> str:
    return f"lead-{order_id}"


def rules_stream(maker: str) -> str:
    return f"lead-rules-{maker}"


def default_table(maker: str) -> LeadRulesSet:
    """The table a maker that has set none works with, after seed 003's examples (洗衣机座架,
    空调挂架, 清洗剂 sold after a repair; the customer-management staff route the rest)."""
    return LeadRulesSet(maker=maker, default_route="customer-management", default_kind="department", rules=[
        LeadRule(category="accessory", route_to="accessories-counter", route_kind="store",
                 keywords=["支架", "座架", "挂架", "水龙头", "数据线", "清洗剂", "耗材", "stand", "bracket"]),
        LeadRule(category="replacement", route_to="store-sales", route_kind="store",
                 keywords=["以旧换新", "换新", "新机", "想买", "购买", "升级", "replace", "new unit"]),
        LeadRule(category="maintenance", route_to="service-contracts", route_kind="department",
                 keywords=["清洗", "保养", "延保", "cleaning", "extended warranty"]),
    ])


@dataclass(frozen=True)
class Routing:
    category: str
    route_to: str
    route_kind: RouteKind


def classify(text: str, table: LeadRulesSet) -> Routing:
    """The first row with a keyword in the text (case-insensitive) decides; none: the default route."""
    folded = text.casefold()
    for rule in table.rules:
        if any(k.casefold() in folded for k in rule.keywords if k.strip()):
            return Routing(rule.category, rule.route_to, rule.route_kind)
    return Routing("other", table.default_route, table.default_kind)


def check_table(table: LeadRulesSet) -> None:
    """A table's rows name distinct categories, none called 'other' (the default route's)."""
    seen: set[str] = set()
    for i, rule in enumerate(table.rules):
        if rule.category == "other" or rule.category in seen:
            raise Invalid(f"rules[{i}].category", f"category {rule.category!r} is 'other' or repeated")
        if not any(k.strip() for k in rule.keywords):
            raise Invalid(f"rules[{i}].keywords", "a row needs at least one non-blank keyword")
        seen.add(rule.category)


def conversion(leads: int, won: int) -> float | None:
    """Won per lead (seed 003's figure: service lifts sales 5-10 %); None with no leads."""
    return None if leads == 0 else round(won / leads, 4)


# ---- the lead --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lead:
    version: int = 0
    status: LeadStatus = "none"
    opened: LeadOpened | None = None


@dataclass(frozen=True)
class Open:
    lead: LeadOpened


@dataclass(frozen=True)
class Contact:
    contacted: LeadContacted


@dataclass(frozen=True)
class Win:
    won: LeadWon


@dataclass(frozen=True)
class Lose:
    lost: LeadLost


LeadCommand = Open | Contact | Win | Lose


def evolve(state: Lead, data: Payload, fact: Fact) -> Lead:
    state = replace(state, version=fact.version)
    match data:
        case LeadOpened():
            return replace(state, status="open", opened=data)
        case LeadContacted():
            return replace(state, status="contacted")
        case LeadWon():
            return replace(state, status="won")
        case LeadLost():
            return replace(state, status="lost")
    return state


def _working(state: Lead, what: str) -> None:
    if state.status == "none":
        raise Refused(f"there is no lead; it cannot be {what}")
    if state.status in ("won", "lost"):
        raise Refused(f"the lead is already {state.status}; it cannot be {what}")


def decide(state: Lead, command: LeadCommand) -> Sequence[Payload]:
    match command:
        case Open(lead=lead):
            return [] if state.status != "none" else [lead]  # opened once, whoever routes it first
        case Contact(contacted=contacted):
            _working(state, "contacted")
            return [contacted]
        case Win(won=won):
            _working(state, "won")
            return [won]
        case Lose(lost=lost):
            _working(state, "lost")
            return [lost]


def _context(state: Lead) -> dict[str, object]:
    return {"lead_status": state.status}


DECIDER: Rules[Lead, LeadCommand] = Rules(lambda _stream: Lead(), evolve, decide, _context)


@dataclass(frozen=True)
class RuleTable:
    version: int = 0
    table: LeadRulesSet | None = None


def evolve_table(state: RuleTable, data: Payload, fact: Fact) -> RuleTable:
    return RuleTable(fact.version, data if isinstance(data, LeadRulesSet) else state.table)


def decide_table(state: RuleTable, command: LeadRulesSet) -> Sequence[Payload]:
    check_table(command)
    return [] if state.table == command else [command]


TABLE_DECIDER: Rules[RuleTable, LeadRulesSet] = Rules(lambda _stream: RuleTable(), evolve_table, decide_table)
