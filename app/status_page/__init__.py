"""The customer's status page: `GET /s/{token}`, no login (the signed link is the credential).

It shows one order only, the one the token names: progress, outlet, technician's name with the
phone masked, the appointment window or an arrival estimate once dispatched (the technician's
own estimate once on the way). While the order waits for its visit the customer may book or
move the window into one the outlet has room for, within the policy (dispatch's
`handlers.reschedule`: how often, how late; a later window pauses the SLA). After the
repair the feedback form (three items A–E and the overall rating, channel feedback_form,
recorded through quality's own use case: one per order, never by the provider). Every
opening is recorded. Server-rendered HTML with one external stylesheet and no script, so it
passes the app's CSP (no 'unsafe-inline') and works on any phone browser.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import parse_qs
from uuid import uuid4

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import insert, select

from libs.events import status_urls as links
from libs.events.db import reader
from libs.events.status_links import LinkClaims, LinkError, verify
from libs.web.context import correlation_id
from libs.web.deps import RuntimeDep
from libs.web.problems import NotFound, Unprocessable
from libs.web.runtime import Runtime
from services.dispatch import handlers as dispatch_handlers
from services.dispatch.domain.windows import Slot, WindowPolicy
from services.dispatch.reference import get_outlet
from services.notify.domain.steps import local_text, yuan
from services.notify.domain.templates import mask_phone
from services.notify.projection import order as read_order
from services.notify.tables import link_opens, link_revocations
from services.quality import domain as quality
from services.quality import handlers as quality_handlers

router = APIRouter(tags=["notify: customers"])
STATIC = FilePath(__file__).resolve().parent
Token = Annotated[str, Path(min_length=10, max_length=600)]
GRADES = ("A", "B", "C", "D", "E")
GRADE_TEXT = {"A": "很好", "B": "好", "C": "一般", "D": "差", "E": "很差"}
OVERALL_TEXT = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "很不满意"}
ITEMS = (("timeliness", "上门及时"), ("quality", "维修质量"), ("attitude", "服务态度"))
STEPS = (("reported", "已受理"), ("dispatched", "已派工"), ("arrived", "已上门"),
         ("repaired", "已完工"))
REACHED = {"reported": 0, "dispatched": 1, "arrived": 2, "repaired": 3, "settled": 3}
FEEDBACK_OPEN = frozenset({"repaired", "settled"})
OFFERED = 8  # windows the page offers at most (the next ones with room)


async def _claims(runtime: Runtime, token: str) -> LinkClaims:
    """The token's order, or a 404 that says no more than 'not valid' (nothing to probe)."""
    key = links.link_key(runtime.settings)
    if key is None:
        raise NotFound("status links are not configured here")
    try:
        order_id = verify(key, token, runtime.clock()).order_id
        async with reader(runtime.engine).connect() as conn:
            revoked = (await conn.execute(select(link_revocations.c.revoked_before).where(
                link_revocations.c.order_id == order_id))).scalar()
        return verify(key, token, runtime.clock(), revoked)
    except LinkError as exc:
        raise NotFound(f"this status link is not valid ({exc.reason})") from None


@router.get("/s/static/status.css", include_in_schema=False)
async def stylesheet() -> FileResponse:
    return FileResponse(STATIC / "status.css", media_type="text/css",
                        headers={"Cache-Control": "public, max-age=300"})


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
async def status_page(token: Token, runtime: RuntimeDep, request: Request) -> HTMLResponse:
    """The page; each opening is recorded (order, which link, when, the browser)."""
    claims = await _claims(runtime, token)
    async with runtime.engine.begin() as conn:
        await conn.execute(insert(link_opens).values(
            id=uuid4(), order_id=claims.order_id, opened_at=runtime.clock(),
            issued_at=claims.issued_at, user_agent=request.headers.get("user-agent", "")[:200]))
    async with reader(runtime.engine).connect() as conn:
        row = await read_order(conn, claims.order_id)
    if row is None:  # a genuine link whose order the read model has not reached yet
        return _page("服务进度", "<p class='note'>工单正在受理中，请稍后刷新。</p>")
    people = await _people(runtime, row)
    slots: list[Slot] = []
    if row["status"] == "dispatched":  # the order's own events: a move just made shows at once
        state, slots = await dispatch_handlers.customer_windows(runtime, claims.order_id)
        if state.window:
            row = {**row, "window_start": state.window[0], "window_end": state.window[1]}
    body = _body(token, row, people, request.query_params.get("done") == "1")
    if slots:
        body += _reschedule_form(token, slots, moved=request.query_params.get("moved") == "1",
                                 booked=bool(row.get("window_start")))
    elif request.query_params.get("moved") == "1":
        body += "<p class='note' id='moved'>已为您改约。</p>"
    return _page("服务进度", body)


@router.post("/s/{token}/reschedule", include_in_schema=False)
async def reschedule(token: Token, runtime: RuntimeDep, request: Request) -> RedirectResponse:
    """The customer books or moves the appointment window (field window_start, one the page
    offered); the redirect's `moved=1` confirms it."""
    claims = await _claims(runtime, token)
    start = _moment(_form(await request.body()), "window_start")
    await dispatch_handlers.reschedule(runtime, claims.order_id, start, "customer:status-link",
                                       correlation_id())
    return RedirectResponse(f"{links.PATH}{token}?moved=1", status_code=303)


@router.post("/s/{token}/feedback", include_in_schema=False)
async def feedback(token: Token, runtime: RuntimeDep, request: Request) -> RedirectResponse:
    """The customer's feedback form: recorded as quality's review on channel feedback_form.
    The redirect's `done=1` shows the thanks at once (the read model follows the event)."""
    claims = await _claims(runtime, token)
    form = _form(await request.body())
    command = quality.SubmitReview(
        quality.Actor("customer", f"customer:{claims.order_id}"), "feedback_form",
        _grade(form, "timeliness"), _grade(form, "quality"), _grade(form, "attitude"),
        _overall(form), _comment(form))
    await quality_handlers.review(runtime, claims.order_id, command, "customer:status-link",
                                  correlation_id())
    return RedirectResponse(f"{links.PATH}{token}?done=1", status_code=303)


def _form(raw: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(raw.decode(), max_num_fields=20, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise Unprocessable("the form is not UTF-8 form data") from None
    return {k: v[0] for k, v in parsed.items() if v}


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}",
                         errors=[{"field": field, "message": message, "type": "value_error"}])


def _moment(form: dict[str, str], field: str) -> datetime:
    try:
        value = datetime.fromisoformat(form.get(field, ""))
    except ValueError:
        raise _invalid(field, "choose one of the windows offered") from None
    if value.tzinfo is None:
        raise _invalid(field, "choose one of the windows offered")
    return value


def _grade(form: dict[str, str], field: str) -> str:
    value = form.get(field, "")
    if value not in GRADES:
        raise _invalid(field, "choose one of A, B, C, D, E")
    return value


def _overall(form: dict[str, str]) -> int:
    value = form.get("overall", "")
    if value not in ("1", "2", "3", "4", "5"):
        raise _invalid("overall", "choose a rating from 1 to 5")
    return int(value)


def _comment(form: dict[str, str]) -> str:
    comment = form.get("comment", "").strip()
    if len(comment) > 2000:
        raise _invalid("comment", "at most 2000 characters")
    return comment


async def _people(runtime: Runtime, row: dict[str, Any]) -> dict[str, str]:
    """The outlet's name and the technician's name and masked phone (dispatch's registry)."""
    if not row.get("outlet_id"):
        return {}
    found = await get_outlet(runtime.engine, row["outlet_id"])
    if found is None:
        return {"outlet": row["outlet_id"]}
    outlet = found[0]
    technician = outlet.technician(row["technician_id"] or "")
    people = {"outlet": outlet.name}
    if technician is not None:
        people["technician"] = technician.name
        if technician.phone:
            people["technician_phone"] = mask_phone(technician.phone)
    return people


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _when(moment: datetime | None) -> str:
    return local_text(moment) if moment else ""


def _body(token: str, row: dict[str, Any], people: dict[str, str], done: bool) -> str:
    reached = REACHED.get(row["status"], 0)
    steps = "".join(
        f"<li class='{'done' if i <= reached else 'todo'}'>{_e(label)}</li>"
        for i, (_status, label) in enumerate(STEPS))
    facts = [("工单号", row["external_ref"]), ("产品", row["product"]), ("故障", row["fault"]),
             ("报修时间", _when(row["reported_at"]))]
    if people.get("outlet"):
        facts.append(("服务网点", people["outlet"]))
    if people.get("technician"):
        tech = people["technician"]
        if people.get("technician_phone"):
            tech = f"{tech}（{people['technician_phone']}）"
        facts.append(("维修师傅", tech))
    if row.get("window_start") and row.get("window_end"):
        facts.append(("预约时段", f"{_when(row['window_start'])}–{_when(row['window_end'])[-5:]}"))
    if row["status"] == "dispatched" and row.get("eta"):
        facts.append(("师傅已出发", f"预计{_when(row['eta'])}到达"))
    elif row["status"] == "dispatched":
        estimate = row.get("window_start") or row.get("sla_due_at")
        if estimate:
            facts.append(("预计上门", f"{_when(estimate)}前" if not row.get("window_start")
                          else _when(estimate)))
    if row.get("arrived_at"):
        facts.append(("上门时间", _when(row["arrived_at"])))
    if row.get("repaired_at"):
        facts.append(("完工时间", _when(row["repaired_at"])))
    if row.get("customer_charge_fen") is not None:
        facts.append(("应付费用", yuan(int(row["customer_charge_fen"]))))
    table = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    parts = [f"<ol class='steps' aria-label='进度'>{steps}</ol>", f"<dl class='facts'>{table}</dl>"]
    if done or row["reviewed"]:
        parts.append("<p class='thanks' id='thanks'>感谢您的评价！</p>")
    elif row["status"] in FEEDBACK_OPEN:
        parts.append(_feedback_form(token))
    return "".join(parts)


def _reschedule_form(token: str, slots: list[Slot], *, moved: bool, booked: bool) -> str:
    """The next windows with room, as radio buttons (the value is the window's start)."""
    policy = WindowPolicy()
    options = "".join(
        f"<label><input type='radio' name='window_start' value='{_e(s.window.start.isoformat())}'"
        f" required>{_e(_when(s.window.start))}–{_e(_when(s.window.end)[-5:])}</label>"
        for s in slots[:OFFERED])
    hours = int(policy.min_notice / timedelta(hours=1))
    title = "改约上门时间" if booked else "预约上门时间"
    rule = (f"可在预约开始{hours}小时前改约，最多{policy.max_reschedules}次；"
            "改到更晚的时段不影响服务时效考核。")
    done = "<p class='thanks' id='moved'>已为您改约。</p>" if moved else ""
    return (f"{done}<form class='feedback reschedule' method='post' "
            f"action='{links.PATH}{_e(token)}/reschedule'><h2>{title}</h2>"
            f"<p class='rule'>{_e(rule)}</p><fieldset><legend>可选时段</legend>{options}</fieldset>"
            f"<button type='submit'>确认{'改约' if booked else '预约'}</button></form>")


def _feedback_form(token: str) -> str:
    items = []
    for field, label in ITEMS:
        options = "".join(
            f"<label><input type='radio' name='{field}' value='{g}' required>"
            f"{g} {_e(GRADE_TEXT[g])}</label>" for g in GRADES)
        items.append(f"<fieldset><legend>{_e(label)}</legend>{options}</fieldset>")
    overall = "".join(
        f"<label><input type='radio' name='overall' value='{n}' required>{_e(OVERALL_TEXT[n])}"
        f"</label>" for n in (5, 4, 3, 2, 1))
    items.append(f"<fieldset><legend>总体评价</legend>{overall}</fieldset>")
    items.append("<label class='comment'>意见或建议（可选）"
                 "<textarea name='comment' maxlength='2000' rows='3'></textarea></label>")
    return (f"<form class='feedback' method='post' action='{links.PATH}{_e(token)}/feedback'>"
            f"<h2>服务评价</h2>{''.join(items)}<button type='submit'>提交评价</button></form>")


def _page(title: str, body: str) -> HTMLResponse:
    document = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta name='robots' content='noindex'><link rel='icon' href='data:,'>"
        f"<title>{_e(title)}</title><link rel='stylesheet' href='{links.PATH}static/status.css'>"
        f"</head><body><main><h1>{_e(title)}</h1>{body}</main></body></html>")
    return HTMLResponse(document, headers={"Cache-Control": "no-store",
                                           "Referrer-Policy": "no-referrer"})
