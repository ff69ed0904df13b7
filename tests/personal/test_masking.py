"""Masking edge cases and the decision table of who sees full values."""

from __future__ import annotations

import pytest

from libs.events.personal.masking import (
    OrderFacts,
    address_to_district,
    mask,
    mask_address,
    mask_name,
    mask_phone,
    may_see_full,
)


@pytest.mark.parametrize(("phone", "masked"), [
    ("13800138000", "138****8000"),
    ("+86 138-0013-8000", "138****8000"),
    ("008613800138000", "138****8000"),
    ("027-87654321", "027****4321"),
    ("12345", "****"),
    ("", ""),
    ("已删除", "已删除"),
])
def test_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("name", "masked"), [
    ("张伟", "张*"), ("王女士", "王*"), ("欧阳娜娜", "欧阳*"), ("司马光", "司马*"),
    ("欧阳", "欧*"),  # two characters: a surname 欧 and a given name 阳, as far as we can tell
    ("李", "*"), (" 赵六 ", "赵*"), ("Alice Smith", "A*"), ("", ""), ("已删除", "已删除"),
])
def test_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("address", "district"), [
    ("湖北省武汉市洪山区珞喻路1号", "湖北省武汉市洪山区"),
    ("武汉市洪山区", "武汉市洪山区"),
    ("江夏区文化大道 1 号", "江夏区"),
    ("湖北省 武汉市 江夏区 文化大道1号", "湖北省武汉市江夏区"),
    ("北京市朝阳区建国路88号", "北京市朝阳区"),
    ("北京市北京市朝阳区建国路88号", "北京市朝阳区"),
    ("北京市市辖区东城区东长安街1号", "北京市市辖区东城区"),
    ("上海市浦东新区世纪大道100号", "上海市浦东新区"),
    ("重庆市万州区白岩路", "重庆市万州区"),
    ("内蒙古自治区呼和浩特市新城区中山路", "内蒙古自治区呼和浩特市新城区"),
    ("广西壮族自治区南宁市青秀区民族大道", "广西壮族自治区南宁市青秀区"),
    ("贵州省黔东南苗族侗族自治州凯里市北京东路", "贵州省黔东南苗族侗族自治州凯里市"),
    ("四川省阿坝藏族羌族自治州汶川县威州镇", "四川省阿坝藏族羌族自治州汶川县"),
    ("湖北省仙桃市沙嘴街道", "湖北省仙桃市"),  # a county-level city under the province
    ("山东省济南市市中区经十路", "山东省济南市市中区"),
    ("河北省石家庄市正定县常山路", "河北省石家庄市正定县"),
    ("内蒙古自治区锡林郭勒盟锡林浩特市", "内蒙古自治区锡林郭勒盟锡林浩特市"),
    ("香港特别行政区九龙城区", "香港特别行政区九龙城区"),
    ("珞喻路1号", ""),
    ("光谷大道77号金融港B栋", ""),
    ("华中科技大学东校区", ""),  # no city before it: too long to be a district name
    ("", ""),
])
def test_address_cut_to_district(address: str, district: str) -> None:
    assert address_to_district(address) == district


def test_masked_address_never_shows_the_street() -> None:
    assert mask_address("湖北省武汉市洪山区珞喻路1号") == "湖北省武汉市洪山区****"
    assert mask_address("珞喻路1号") == "****"
    assert mask_address("已删除") == "已删除"


def test_mask_fields() -> None:
    fields = {"name": "张伟", "phone": "13800138000", "address": "武汉市洪山区珞喻路1号",
              "contact": None, "other": "x"}
    assert mask(fields) == {"name": "张*", "phone": "138****8000", "address": "武汉市洪山区****",
                            "contact": None, "other": "****"}


FACTS = OrderFacts(maker="gree", partner_id="jd-retail", technician_id="tech-wh-01")


@pytest.mark.parametrize(("role", "party", "principal_id", "full"), [
    ("technician", "prov-wuhan", "tech-wh-01", True),   # the assigned technician
    ("technician", "prov-wuhan", "tech-wh-02", False),  # a colleague at the same provider
    ("technician", "prov-wuhan", None, False),
    ("partner", "jd-retail", "jd-retail", True),        # the partner that reported it
    ("partner", "suning", "suning", False),
    ("partner", None, "x", False),
    ("privacy", "gree", "dpo-gree", True),              # the maker's privacy officer
    ("privacy", "midea", "dpo-midea", False),           # another maker's
    ("operator", "ops", "ops", False),
    ("dispatcher", "gree", "dispatch-desk", False),
    ("supervisor", "gree", "supervision-01", False),
    ("finance", "gree", "finance-01", False),
    ("provider", "prov-wuhan", "prov-wuhan-staff", False),
    ("platform", "gov-platform", "gov-platform", False),
    ("unknown", "gree", "x", False),
])
def test_decision_table(role: str, party: str | None, principal_id: str | None, full: bool) -> None:
    assert may_see_full(role, party, FACTS, principal_id=principal_id) is full


def test_an_unassigned_order_is_full_for_no_technician() -> None:
    facts = OrderFacts(maker="gree", partner_id=None, technician_id=None)
    assert not may_see_full("technician", "prov-wuhan", facts, principal_id="tech-wh-01")
    assert not may_see_full("partner", "jd-retail", facts, principal_id="jd-retail")
    assert may_see_full("privacy", "gree", facts, principal_id="dpo")
