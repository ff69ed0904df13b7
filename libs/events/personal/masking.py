"""Masked renderings of personal fields and the one decision of who sees full values.

Pure functions: the web layer calls `may_see_full` once per response and renders either
the opened values or `mask(...)` of them; the erased marker passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from libs.events.personal.subjects import normalise_phone

ERASED = "已删除"  # what every erased field reads as (vault.open), passed through unmasked
PRIVACY_ROLE = "privacy"

_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐",
    "端木", "独孤", "南宫", "西门", "申屠", "公羊", "澹台", "太史", "闻人", "万俟", "呼延", "赫连", "拓跋", "百里", "钟离",
    "第五",
})
_MUNICIPALITY = re.compile(r"^(北京|上海|天津|重庆)(市)?")
_PROVINCE = re.compile(r"^[^省市区县路街道号\d\s]{1,12}?(省|自治区|特别行政区)")
# A level's name is short and holds none of the words of streets and numbers.
_NAME = r"[^省区县旗路街道号弄巷村组栋\d\s,，]"
_CITY = re.compile(rf"^{_NAME}{{1,12}}?(自治州|地区|盟|市)")
_DISTRICT = re.compile(rf"^(市辖区)?({_NAME}{{1,12}}?(区|县|旗)|{_NAME}{{1,8}}?市)")
# With no province or city before it, only a short name counts as a district: a longer
# one is more likely a place in the street part ("华中科技大学东校区"), which must not show.
_BARE_DISTRICT = re.compile(rf"^{_NAME}{{1,5}}?(区|县|旗)")


def mask_phone(phone: str) -> str:
    """`138****8000`: first three and last four digits of the normalised number."""
    if phone == ERASED:
        return phone
    digits = normalise_phone(phone)
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****" if digits else ""


def mask_name(name: str) -> str:
    """Surname and one `*`: 王女士 -> 王*, 欧阳娜娜 -> 欧阳*, Alice Smith -> A*."""
    name = name.strip()
    if name == ERASED or not name:
        return name
    if len(name) > 2 and name[:2] in _COMPOUND_SURNAMES:
        return name[:2] + "*"
    return name[0] + "*" if len(name) > 1 else "*"


def address_to_district(address: str) -> str:
    """The address cut after its county level (区/县/旗 or a county-level 市).

    Reads province (省/自治区/特别行政区, or a municipality 北京/上海/天津/重庆),
    then city (市/自治州/地区/盟), then district; keeps what it could read, in order,
    up to the district. Nothing readable -> "" (no part of the street may leak)."""
    rest = re.sub(r"\s+", "", address)
    kept = ""
    if m := _MUNICIPALITY.match(rest) or _PROVINCE.match(rest):
        kept, rest = m.group(0), rest[m.end():]
        municipality = _MUNICIPALITY.match(kept) is not None
    else:
        municipality = False
    if not municipality and (m := _CITY.match(rest)):
        kept, rest = kept + m.group(0), rest[m.end():]
    elif municipality and rest.startswith(kept):  # "北京市北京市朝阳区"
        rest = rest[len(kept):]
    if m := (_DISTRICT if kept else _BARE_DISTRICT).match(rest):
        kept += m.group(0)
    return kept


def mask_address(address: str) -> str:
    if address == ERASED:
        return address
    cut = address_to_district(address)
    return cut + "****" if cut else "****"


def mask(fields: Mapping[str, str | None]) -> dict[str, str | None]:
    """The masked rendering of opened customer fields (unknown fields are hidden)."""
    out: dict[str, str | None] = {}
    for name, value in fields.items():
        if value is None:
            out[name] = None
        elif name in ("phone", "contact"):
            out[name] = mask_phone(value)
        elif name == "address":
            out[name] = mask_address(value)
        elif name == "name":
            out[name] = mask_name(value)
        else:
            out[name] = value if value == ERASED else "****"
    return out


@dataclass(frozen=True)
class OrderFacts:
    """What the decision needs to know about the order (from its read model)."""

    maker: str
    partner_id: str | None
    technician_id: str | None


def may_see_full(principal_role: str, principal_party: str | None, order_facts: OrderFacts,
                 *, principal_id: str | None = None) -> bool:
    """Full values for the technician assigned to the order (by principal id: a
    technician's party is their provider), the partner that reported it, and the privacy
    officer of the order's maker; masked for everyone else, operators included."""
    facts = order_facts
    if principal_role == "technician":
        return principal_id is not None and principal_id == facts.technician_id
    if principal_role == "partner":
        return principal_party is not None and principal_party == facts.partner_id
    if principal_role == PRIVACY_ROLE:
        return principal_party is not None and principal_party == facts.maker
    return False
