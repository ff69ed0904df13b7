"""Builders for intake tests: the published partner body and signed platform requests."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from services.intake.api.platform import signature

PUBLISHED: dict[str, Any] = {
    "partner_ref": "JD-2026-000123",
    "customer": {"name": "张伟", "phone": "13800138000", "address": "洪山区珞喻路1号"},
    "product": {"category": "air_conditioner", "brand": "格力", "model": "KFR-35GW",
                "serial": "GL2503A0001", "factory_date": "2025-03-01", "purchase_date": "2025-06-18"},
    "location": {"province": "湖北", "city": "武汉", "county": "洪山区", "provincial_capital": True},
    "working_conditions": "卧室, 每天使用约8小时",
    "fault": "不制冷",
}


def order_body(**changes: Any) -> dict[str, Any]:
    """The published body with top-level or dotted changes (`**{"product.brand": "美的"}`) and,
    unless one is given, a reference of its own (one partner reference is one order)."""
    body = copy.deepcopy(PUBLISHED)
    body["partner_ref"] = f"JD-{uuid.uuid4().hex[:12]}"
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = body
        for part in parents:
            node = node[part]
        node[leaf] = value
    return body


def platform_report(ref: str = "HB-2026-0001", kind: str = "repair", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform_ref": ref, "kind": kind, "reported_at": "2026-05-04T00:30:00+00:00",
        "reporter": {"name": "王芳", "phone": "13912345678"},
        "region": {"province": "湖北", "city": "宜昌", "county": "西陵区", "provincial_capital": False},
        "address": "西陵区东山大道100号",
        "product": {"category": "air_conditioner", "brand": "美的", "model": "KFR-26GW", "serial": "MD2401B0002",
                    "purchase_date": "2024-07-01"},
        "text": "空调外机漏水, 多次报修无人上门",
        "attachments": ["https://platform.example/files/a1.jpg"],
    }
    body.update(changes)
    return body


def signed(body: dict[str, Any] | None, now_ts: int, secret: str = "demo-platform-secret",
           nonce: str | None = None, ts: int | None = None,
           platform: str | None = None) -> tuple[bytes, dict[str, str]]:
    """Raw body and headers of a platform request signed as the platform does."""
    raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(now_ts if ts is None else ts)
    nonce = nonce or uuid.uuid4().hex
    headers = {"X-Timestamp": stamp, "X-Nonce": nonce, "X-Signature": signature(secret, stamp, nonce, raw),
               "Content-Type": "application/json"}
    if platform is not None:
        headers["X-Platform-Id"] = platform
    return raw, headers
