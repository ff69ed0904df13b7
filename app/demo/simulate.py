"""The demo simulation: months of after-sales work driven through the real HTTP API.

Every order is played as a chain of timed steps (report, dispatch with or without an
appointment window, the customer's reschedule on the status page, on the way, arrive, repair,
settle, review, complaints, escalations) on one event heap; the manual clock jumps to
each step's time before the request, so the events carry simulated times and the SLA
rules see realistic deadlines. The random generator is seeded: the same seed and end
day give the same orders, people and outcomes.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.demo import world
from libs.events.chinatime import CHINA, month_of
from libs.events.clock import ManualClock
from libs.events.status_urls import status_url
from libs.web.runtime import Runtime
from services.dispatch.handlers import load_order, offered_slots, policy_for
from services.dispatch.jobs import resume_received_once, watch_once
from services.dispatch.leads import route_once

Step = Callable[[], Awaitable[None]]
Progress = Callable[[float, str], None]



# The first orders of every run take the rare paths once each, so even a short demo shows every step;
# after them chance decides (platform reports, escalations, pauses, late visits, complaints).
# what technicians note (seed 003): accessories, replacements, maintenance, and one no rule knows
LEAD_TEXTS = ("客户有意购买空调支架", "洗衣机需要座架", "老冰箱想以旧换新", "客户询问清洗保养和延保", "问起热水器")
SHOWCASE = ("platform", "escalate", "pause", "late", "complaint", "platform complaint", "reschedule", "window missed")
WINDOW = timedelta(hours=2)  # dispatch's appointment window (services/dispatch/domain/windows.py)
SETTLE_REJECT_EVERY = 12


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Stats:
    """What the run did, and every request the API refused (a demo should have none)."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    missing: dict[str, str] = field(default_factory=dict)
    orders: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    escalated_by_watcher: int = 0
    status_link: str = ""  # one customer's status page (notify), printed at the end


@dataclass
class Order:
    id: str
    city: world.City
    county: str
    maker: world.Maker
    category: str
    fault: tuple[str, str, str]
    partner_key: str
    outlet: world.Outlet | None = None
    technician: str = ""
    fate: str = ""  # a rare path this order is made to take (see SHOWCASE)
    return_due: bool = False  # a returnable part was fitted and its faulty unit is not back yet


class Demo:
    """One simulation run against an in-process app (see app/demo/__main__.py)."""

    def __init__(self, client: httpx.AsyncClient, clock: ManualClock, rng: random.Random, runtime: Runtime) -> None:
        self.client, self.clock, self.rng, self.runtime = client, clock, rng, runtime
        # leads draw from their own stream, so the rest of the demo stays what it was for a seed
        self.lead_rng = random.Random(str(rng.getstate()[1][:8]))
        self.sync = runtime.sync
        self.stats = Stats()
        self._heap: list[tuple[datetime, int, Step]] = []
        self._seq = itertools.count()
        self._serial = itertools.count(1)
        self._repaired: list[Order] = []
        self._settled = 0  # settlements posted (every SETTLE_REJECT_EVERY-th decides a line)
        self._returns_lost: set[str] = set()  # makers whose first faulty part was never sent back
        self._routes: list[tuple[str, re.Pattern[str]]] = []

    # ----- plumbing -----
    def at(self, when: datetime, step: Step) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), step))

    async def call(self, label: str, method: str, path: str, key: str, **kwargs: Any) -> dict[str, Any] | None:
        """One request; a refusal is counted (and its first text kept), a missing route noted once."""
        if not self._routed(method, path):
            self.stats.missing.setdefault(label, f"{method} {path}")
            return None
        self.stats.calls[label] += 1
        kwargs.setdefault("headers", bearer(key))
        started = time.perf_counter()
        response = await self.client.request(method, path, **kwargs)
        self.stats.seconds[label] = self.stats.seconds.get(label, 0.0) + time.perf_counter() - started
        if response.status_code >= 400:
            self.stats.refused[label] += 1
            if len(self.stats.examples) < 8:
                self.stats.examples.append(f"{label} {method} {path} -> {response.status_code} {response.text[:300]}")
            return None
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    def _routed(self, method: str, path: str) -> bool:
        """Whether the app serves this route (a service not landed yet is skipped, and reported)."""
        bare = path.split("?")[0]
        return any(m == method and rx.fullmatch(bare) for m, rx in self._routes)

    async def load_routes(self) -> None:
        spec = (await self.client.get("/openapi.json")).json()
        for template, ops in spec.get("paths", {}).items():
            rx = re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)))
            self._routes += [(m.upper(), rx) for m in ops]

    async def run(self, start: datetime, end: datetime, orders_per_day: float, progress: Progress) -> Stats:
        """Play every step due before `end`; the clock ends at `end` (open orders stay open)."""
        self.clock.set(start)
        await self.load_routes()
        await self.setup(start)
        await self.certify(start, end)
        day = start
        while day < end:
            for _ in range(self._poisson(orders_per_day)):
                self.at(day + timedelta(minutes=self.rng.uniform(0, 60 * 24)), self.report)
            if day > start and month_of(day) != month_of(day - timedelta(days=1)):
                self.at(day + timedelta(hours=1), self._close_month(month_of(day - timedelta(days=1))))
            self.at(_next_local(day, 17), self.settle_batch)
            day += timedelta(days=1)
        total = (end - start).total_seconds()
        while self._heap and self._heap[0][0] < end:
            when, _, step = heapq.heappop(self._heap)
            self.clock.set(when)
            await step()
            progress((when - start).total_seconds() / total, f"{when:%Y-%m-%d} · {len(self.stats.orders)} orders")
        self.clock.set(end)
        await self.sync()
        progress(1.0, f"{end:%Y-%m-%d} · {len(self.stats.orders)} orders")
        return self.stats

    def _poisson(self, mean: float) -> int:
        count, threshold, product = 0, pow(2.718281828459045, -mean), self.rng.random()
        while product > threshold:
            count += 1
            product *= self.rng.random()
        return count

    # ----- set-up: outlets, fee standards, partners -----
    async def setup(self, start: datetime) -> None:
        for outlet in world.OUTLETS:
            city = outlet.city.name
            areas = [{"city": city, "county": c} for c in outlet.counties] or [{"city": city, "county": ""}]
            skills = sorted({c for m in world.MAKERS for c in m.models})
            await self.call("outlet", "POST", "/dispatch/outlets", world.staff("gree", "dispatcher"), json={
                "id": outlet.id, "name": outlet.name, "provider_id": outlet.provider_id,
                "areas": areas, "capacity_per_day": outlet.capacity_per_day, "contact": "027-87654321",
                "technicians": [{"id": t, "name": f"{self.rng.choice(world.SURNAMES)}师傅", "skills": skills}
                                for t in outlet.technicians],
            })
        for maker in world.MAKERS:
            labour = {c: 6000 if c == "air_conditioner" else 5000 for c in maker.models}
            await self.call("fee standard", "POST", "/settlement/standards", world.staff(maker.id, "finance"), json={
                "maker": maker.id, "provider_id": "*", "kind": "per_order",
                "effective_from": (start - timedelta(days=30)).date().isoformat(),
                "travel": {"bands": [{"up_to_km": 10, "fee_fen": 3000}, {"up_to_km": 30, "fee_fen": 5000},
                                     {"up_to_km": None, "fee_fen": 8000}]},
                "labour_fen_per_hour": labour, "labour_norm_hours": {"*": "3"},
                "parts_price_list": {p[0]: p[2] for parts in world.PARTS.values() for p in parts},
            })
        await self.stock_parts(start)

    async def certify(self, start: datetime, end: datetime) -> None:
        """gree certifies every technician for its categories (seeds 001, 002); the dates are spread
        so that at the end some hold for long, some run out within weeks and a few have lapsed."""
        for outlet in world.OUTLETS:
            for i, technician in enumerate(outlet.technicians):
                for j, category in enumerate(sorted(world.MAKERS[0].models)):
                    days = (len(outlet.id) + 7 * i + 11 * j) % 50 - 5  # from the end: 5 days before to 44 after
                    until = max(start, end + timedelta(days=days)).astimezone(CHINA).date()
                    await self.call("certification", "POST",
                                    f"/dispatch/outlets/{outlet.id}/technicians/{technician}/certifications",
                                    world.staff("gree", "supervisor"), json={
                                        "maker": "gree", "category": category, "valid_until": until.isoformat(),
                                        "certificate_no": f"GREE-{outlet.id}-{technician}-{j}"})

    async def stock_parts(self, start: datetime) -> None:
        """Each maker's parts catalogue (at the price list's cost) and a first delivery to every outlet."""
        day = (start - timedelta(days=30)).date().isoformat()
        for maker in world.MAKERS:
            for category, models in maker.models.items():
                for number, name, cost in world.PARTS[category]:
                    returnable = world.returnable(cost)
                    await self.call("part", "POST", "/parts/catalogue", world.staff(maker.id, "dispatcher"), json={
                        "maker": maker.id, "part_no": number, "name": name, "fits_models": list(models),
                        "returnable": returnable, "return_within_days": 15 if returnable else None,
                        "cost_fen": cost, "effective_from": day})
            for outlet in world.OUTLETS:
                lines = [{"part_no": p[0], "quantity": 3} for c in maker.models for p in world.PARTS[c]]
                await self.call("stock", "POST", f"/parts/stock/{outlet.id}/receipts",
                                world.technician_key(outlet.provider_id),
                                json={"maker": maker.id, "lines": lines, "note": "首批配件 (demo)"})

    # ----- one order's life -----
    async def report(self) -> None:
        rng = self.rng
        maker = rng.choice(world.MAKERS)
        category = rng.choice(sorted(maker.models))
        city = rng.choice(world.CITIES)
        county = rng.choice(city.counties)
        partner_key, partner_id, _ = rng.choice(world.PARTNERS)
        serial = f"{maker.id[:2].upper()}{rng.randint(2201, 2512)}{next(self._serial):06d}"
        purchase = self.clock().date() - timedelta(days=rng.randint(20, 6 * 365))
        fault = rng.choice(world.FAULTS[category])
        name = rng.choice(world.SURNAMES) + rng.choice(world.GIVEN) + ("" if rng.random() < 0.5 else rng.choice(world.GIVEN))
        phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        address = f"{county}{rng.choice(world.STREETS)}{rng.randint(1, 300)}号"
        location = {"province": city.province, "city": city.name, "county": county, "provincial_capital": city.capital}
        product = {"category": category, "brand": maker.brand, "model": rng.choice(maker.models[category]),
                   "serial": serial, "factory_date": (purchase - timedelta(days=rng.randint(20, 200))).isoformat(),
                   "purchase_date": purchase.isoformat()}
        body = {
            "partner_ref": f"{partner_id.upper()}-{next(self._serial):07d}",
            "customer": {"name": name, "phone": phone, "address": address}, "product": product, "location": location,
            "working_conditions": rng.choice(world.WORKING_CONDITIONS), "fault": fault[0],
        }
        fate = SHOWCASE[len(self.stats.orders)] if len(self.stats.orders) < len(SHOWCASE) else ""
        # forwarded by the provincial complaint platform (signed webhook); the showcase's escalation
        # is a partner's (a partner escalates only the orders it reported)
        via_platform = (rng.random() < 0.12 and fate != "escalate") or fate == "platform"
        if via_platform:
            # the customer reported to the platform a while before it forwarded the report: the
            # promise runs from the customer's time (issue 15)
            reported_at = self.clock() - timedelta(minutes=rng.randint(5, 90))
            created = await self.platform("platform report", {
                "platform_ref": f"GOV-{next(self._serial):08d}", "kind": "repair", "reported_at": reported_at.isoformat(),
                "reporter": {"name": name, "phone": phone}, "region": location, "address": address, "product": product,
                "text": fault[0],
            })
        else:
            created = await self.call("report", "POST", "/orders", partner_key, json=body,
                                      headers={"Idempotency-Key": body["partner_ref"]} | bearer(partner_key))
        if created is None:
            return
        order = Order(created["order_id"], city, county, maker, category, fault, partner_key, fate=fate)
        self.stats.orders.append(order.id)
        escalates = rng.random() < 0.08 and not via_platform
        if escalates or fate == "escalate":  # the dealer cannot handle it: to the regional office
            self.after(rng.uniform(0.2, 1.5), lambda: self.escalate(order, "经销商无法处理, 转区域办事处"))
        self.after(rng.uniform(0.1, 1.5), lambda: self.dispatch(order))

    def after(self, hours: float, step: Step) -> None:
        self.at(self.clock() + timedelta(hours=hours), step)

    async def escalate(self, order: Order, reason: str) -> None:
        await self.call("escalate", "POST", f"/orders/{order.id}/escalations", order.partner_key, json={"reason": reason})

    async def dispatch(self, order: Order) -> None:
        outlet = self.rng.choice(world.outlets_for(order.city, order.county)[:2])
        order.outlet, order.technician = outlet, self.rng.choice(outlet.technicians)
        desk = world.staff(order.maker.id, "dispatcher")
        body = {"outlet_id": outlet.id, "technician_id": order.technician}
        booked = None  # a third of the visits are booked into a window with the customer
        moves = order.fate == "reschedule" or self.rng.random() < 0.05  # ... and some customers move it later
        if moves or order.fate == "window missed" or self.rng.random() < 0.3:
            # a window to be moved starts far enough ahead for the policy's notice (2 h)
            booked = await self._free_window(order, outlet.id, self.clock() + timedelta(hours=3) if moves else None)
            if booked is not None:
                body["window_start"] = booked.isoformat()
        done = await self.call("dispatch", "POST", f"/dispatch/orders/{order.id}/dispatch", desk, json=body)
        if done is None:
            return
        if booked is not None:
            if moves:
                self.after(self.rng.uniform(0.1, 0.5), lambda: self.reschedule(order, booked))
            else:
                self._visit(order, booked, missed=order.fate == "window missed" or self.rng.random() < 0.05)
            return
        sla = 4.0 if order.city.capital else 12.0
        # Waiting for parts: the SLA clock pauses, the order stays in the queue for days.
        if self.rng.random() < 0.06 or order.fate == "pause":
            self.after(sla * 0.3, lambda: self.wait_for_parts(order))
            return
        # Some visits miss the SLA: the dispatch service's SLA watcher escalates them.
        late = self.rng.random() < 0.1 or order.fate in ("late", "platform complaint")
        arrive = sla * self.rng.uniform(1.15, 2.0) if late else sla * self.rng.uniform(0.2, 0.9)
        if late:
            self.after(sla * 1.1, self.watch)
            if self.rng.random() < 0.3 or order.fate == "platform complaint":
                self.after(sla * 1.12, lambda: self.platform_complaint(order))
        self._arrive_at(order, self.clock() + timedelta(hours=arrive))

    async def _free_window(self, order: Order, outlet_id: str, after: datetime | None = None) -> datetime | None:
        """The start of the outlet's first window with room (after `after`), as dispatch offers it."""
        await self.sync()  # the bookings so far are in dispatch's queue
        policy = await policy_for(self.runtime.engine, await load_order(self.runtime.store, order.id))
        slots = await offered_slots(self.runtime.engine, outlet_id, self.clock(), policy)
        free = [s.window.start for s in slots if s.free > 0 and (after is None or s.window.start > after)]
        return free[self.rng.randrange(min(len(free), 3))] if free else None

    async def reschedule(self, order: Order, booked: datetime) -> None:
        """The customer moves the window to a later one on the status page (the signed link)."""
        later = await self._free_window(order, order.outlet.id if order.outlet else "", booked + WINDOW)
        first = (await self.runtime.store.read_stream(order.id))[0].occurred_at
        link = status_url(self.runtime.settings, order.id, first)
        if later is None or link is None:
            self._visit(order, booked, missed=False)
            return
        self.stats.calls["customer reschedule"] += 1
        answer = await self.client.post(link[link.index("/s/"):] + "/reschedule", data={"window_start": later.isoformat()})
        if answer.status_code != 303:
            self.stats.refused["customer reschedule"] += 1
            self.stats.examples.append(f"customer reschedule -> {answer.status_code} {answer.text[:300]}")
            return
        self._visit(order, later, missed=False)

    def _visit(self, order: Order, window_start: datetime, *, missed: bool) -> None:
        """The visit in its window, or (now and then) after it: late in the SLA figures."""
        offset = self.rng.uniform(2.3, 3.5) if missed else self.rng.uniform(0.1, 1.7)
        self._arrive_at(order, window_start + timedelta(hours=offset))

    def _arrive_at(self, order: Order, when: datetime) -> None:
        """Most technicians say they are on the way (the customer is told the estimate) before arriving."""
        setting_out = when - timedelta(hours=self.rng.uniform(0.3, 0.8))
        if self.rng.random() < 0.7 and setting_out > self.clock():
            self.at(setting_out, lambda: self.on_the_way(order, when))
        self.at(when, lambda: self.arrive(order))

    async def on_the_way(self, order: Order, eta: datetime) -> None:
        await self.call("on the way", "POST", f"/dispatch/orders/{order.id}/on-the-way", self._tech(order),
                        json={"eta": eta.replace(second=0, microsecond=0).isoformat()})

    async def wait_for_parts(self, order: Order) -> None:
        """The outlet orders the part from the dealer for this order and pauses the SLA naming
        that parts order; the dealer ships at cost, the outlet receives, and dispatch's parts
        watcher resumes the SLA by itself (issue 17)."""
        assert order.outlet is not None
        number, _name, cost = self.rng.choice(world.PARTS[order.category])
        requested = await self.call("parts order", "POST", "/parts/orders", self._tech(order), json={
            "maker": order.maker.id, "outlet_id": order.outlet.id, "supplier": f"dealer-{order.maker.id}",
            "lines": [{"part_no": number, "quantity": 1}], "for_order_id": order.id})
        if requested is None:
            return
        pid = requested["id"]
        paused = await self.call("sla pause", "POST", f"/dispatch/orders/{order.id}/sla/pause", self._tech(order),
                                 json={"reason": "parts_on_order", "note": "压缩机缺货, 已向厂家订件",
                                       "parts_order_id": pid})
        if paused is None:
            return

        async def ship() -> None:
            await self.call("parts shipment", "POST", f"/parts/orders/{pid}/shipment",
                            world.staff(order.maker.id, "dispatcher"),
                            json={"lines": [{"part_no": number, "quantity": 1, "unit_cost_fen": cost}]})
            self.after(self.rng.uniform(12, 48), receive)

        async def receive() -> None:
            if await self.call("parts receipt", "POST", f"/parts/orders/{pid}/receipt", self._tech(order), json={}):
                await self.sync()
                self.stats.calls["parts watcher pass"] += 1
                if await resume_received_once(self.runtime):
                    self._arrive_at(order, self.clock() + timedelta(hours=self.rng.uniform(1, 3)))

        # Most waits end within the demo's weeks; the last ones are still waiting when it ends.
        self.after(self.rng.uniform(12, 48), ship)

    def _tech(self, order: Order) -> str:
        return world.technician_key(order.outlet.provider_id if order.outlet else "")

    async def arrive(self, order: Order) -> None:
        done = await self.call("arrive", "POST", f"/dispatch/orders/{order.id}/arrive", self._tech(order), json={
            "arrived_at": self.clock().isoformat(), "staff_count": 1 if self.rng.random() < 0.8 else 2,
        })
        if done is not None:
            self.after(self.rng.uniform(0.5, 3.0), lambda: self.repair(order))

    async def repair(self, order: Order) -> None:
        rng = self.rng
        parts = []
        kept = [p for p in world.PARTS[order.category] if world.returnable(p[2])]
        first = bool(kept) and order.maker.id not in self._returns_lost  # every maker keeps one faulty part out
        if first or rng.random() < 0.7:
            number, name, cost = rng.choice(kept if first else world.PARTS[order.category])
            original = first or rng.random() > 0.03
            parts.append({"part_no": number, "name": name, "quantity": 1, "original": original,
                          "unit_cost_fen": cost if rng.random() > 0.05 else int(cost * 1.6)})
            if world.returnable(cost):  # the removed unit goes back to the maker under this serial
                parts[-1] |= {"serial": f"N-{order.id[-8:]}", "faulty_serial": f"F-{order.id[-8:]}"}
        hours = round(rng.uniform(0.5, 2.5) if rng.random() > 0.04 else rng.uniform(6, 9), 1)
        body = {
            "diagnosis": order.fault[1], "solution": order.fault[2], "parts": parts, "labour_hours": str(hours),
            "departed_at": self.clock().isoformat(), "test_result": "试机正常",
            "cause_analysis": "部件老化" if rng.random() < 0.6 else "使用环境恶劣",
            "sales_opportunity": self.lead_rng.choice(LEAD_TEXTS) if self._notes_opportunity(order) else None,
        }
        done = await self.call("repair", "POST", f"/dispatch/orders/{order.id}/repair", self._tech(order), json=body)
        if done is None:
            return
        if body["sales_opportunity"]:
            self.after(0.5, lambda: self.open_leads(order))
        self._repaired.append(order)
        returned = [str(p["part_no"]) for p in parts if world.returnable(cost_of(str(p["part_no"])))]
        if returned:  # 旧件返还: settlement waits for it (the default policy); a few never come back:
            order.return_due = True  # each maker's first one (so every maker has one outstanding) and one in ten
            self._returns_lost.add(order.maker.id)
            if rng.random() < 0.9 and not first:
                self.after(rng.uniform(2, 72), lambda: self.send_back(order, returned[0]))
        if rng.random() < 0.75:
            self.after(rng.uniform(4, 72), lambda: self.review(order))
        if rng.random() < 0.06 or order.fate == "complaint":
            self.after(rng.uniform(2, 48), lambda: self.complain(order))

    def _notes_opportunity(self, order: Order) -> bool:
        """One repair in ten; gree runs a service-marketing drive (seed 003: technicians trained to
        sell), so its technicians note one more in four (from the leads' own random stream)."""
        noted = self.rng.random() < 0.1
        return noted or (order.maker.id == "gree" and self.lead_rng.random() < 0.25)

    async def open_leads(self, order: Order) -> None:
        """The dispatch service's lead router at this simulated moment (as `watch` runs the SLA
        watcher), then the maker's desk works the order's lead, if it has one."""
        await self.sync()
        self.stats.calls["lead router pass"] += 1
        await route_once(self.runtime)
        await self.sync()
        path = f"/dispatch/leads/{order.id}"
        if (await self.client.get(path, headers=bearer(world.staff(order.maker.id, "dispatcher")))).status_code != 200:
            return
        fate = self.lead_rng.random()
        if fate < 0.15:
            return  # still open at the end
        self.after(self.lead_rng.uniform(1, 24), lambda: self.work_lead(order, fate))

    async def work_lead(self, order: Order, fate: float) -> None:
        key, path = world.staff(order.maker.id, "dispatcher"), f"/dispatch/leads/{order.id}"
        await self.call("lead contacted", "POST", f"{path}/contacted", key, json={"note": "已致电客户"})
        if fate < 0.4:
            return  # contacted, no outcome yet
        if fate < 0.7:
            body = {"amount_fen": self.lead_rng.choice((3900, 12900, 259900)), "note": "门店成交"}
            self.after(self.lead_rng.uniform(1, 48), lambda: self._close_lead(order, "won", body))
        else:
            self.after(self.lead_rng.uniform(1, 48), lambda: self._close_lead(order, "lost", {"reason": "客户暂不需要"}))

    async def _close_lead(self, order: Order, outcome: str, body: dict[str, Any]) -> None:
        await self.call(f"lead {outcome}", "POST", f"/dispatch/leads/{order.id}/{outcome}",
                        world.staff(order.maker.id, "dispatcher"), json=body)

    async def settle_batch(self) -> None:
        """Finance settles yesterday's repairs once a day; a few wait a day or two (some stay open at the end).
        The first and then every SETTLE_REJECT_EVERY-th settlement reject the door fee line with a reason (a line decision;
        counted, so the demo's random sequence is unchanged); non-original parts are rejected by rule."""
        await self.sync()
        waiting: list[Order] = []
        for order in self._repaired:
            if order.return_due or self.rng.random() < 0.2:
                waiting.append(order)
                continue
            body: dict[str, Any] = {"distance_km": self.rng.choice((3, 8, 15, 25, 40))}
            self._settled += 1
            if self._settled % SETTLE_REJECT_EVERY == 1:  # the first, then every SETTLE_REJECT_EVERY-th
                body["lines"] = [{"line": 0, "decision": "rejected", "reason": "同址同日上门费已在另一单结算"}]
            await self.call("settle", "POST", f"/settlements/{order.id}", world.staff(order.maker.id, "finance"), json=body)
        self._repaired = waiting

    async def send_back(self, order: Order, part_no: str) -> None:
        """The outlet ships the faulty part back; the maker's warehouse receives it a few days later."""
        shipped = await self.call("part return", "POST", "/parts/returns", self._tech(order), json={
            "order_id": order.id, "part_no": part_no, "faulty_serial": f"F-{order.id[-8:]}", "waybill": "SF-DEMO"})
        if shipped is None:
            return

        async def receive() -> None:
            if await self.call("part return receipt", "POST", f"/parts/returns/{shipped['id']}/receipt",
                               world.staff(order.maker.id, "dispatcher"), json={"note": "旧件已收"}):
                await self.sync()  # settlement's returns read model sees the receipt before finance settles
                order.return_due = False
        self.after(self.rng.uniform(24, 120), receive)

    async def review(self, order: Order) -> None:
        rng = self.rng
        good = rng.random() < 0.8
        grades = "AAB" if good else "BCCDE"
        form = {
            "channel": rng.choice(("feedback_form", "call_back")),
            "timeliness": rng.choice(grades), "quality": rng.choice(grades), "attitude": rng.choice(grades),
            "overall": rng.choice((4, 5)) if good else rng.choice((1, 2, 3)),
            "comment": "师傅很专业" if good else "等了很久才上门",
        }
        supervisor = world.staff(order.maker.id, "supervisor")
        await self.call("review", "POST", f"/orders/{order.id}/reviews", supervisor, json=form)
        # supervision phones some customers back to verify their forms (seed 004); a few forms do
        # not hold up. A generator of the order's own, so the rest of the demo draws as before.
        check = random.Random(order.id)
        if form["channel"] == "feedback_form" and check.random() < 0.3:
            heard = "CDE" if check.random() < 0.25 else None
            back = {**form, "channel": "call_back", "comment": "回访核实"}
            if heard is not None:
                back |= {"timeliness": check.choice(heard), "quality": check.choice(heard), "attitude": check.choice(heard)}
            await self.call("call-back", "POST", f"/orders/{order.id}/reviews", supervisor, json=back)

    async def platform(self, label: str, report: dict[str, Any]) -> dict[str, Any] | None:
        """POST /platform/reports signed as the platform does: HMAC-SHA256 over timestamp, nonce and body."""
        raw = json.dumps(report, ensure_ascii=False).encode()
        stamp, nonce = str(int(self.clock().timestamp())), f"demo-{next(self._serial):012d}"
        secret = self.runtime.settings.platform_secret.get_secret_value()
        mac = hmac.new(secret.encode(), f"{stamp}.{nonce}.".encode() + raw, hashlib.sha256).hexdigest()
        headers = {"X-Timestamp": stamp, "X-Nonce": nonce, "X-Signature": f"sha256={mac}",
                   "Content-Type": "application/json"}
        return await self.call(label, "POST", "/platform/reports", "", content=raw, headers=headers)

    async def platform_complaint(self, order: Order) -> None:
        """A customer complains to the platform about an order: intake records it and escalates the order."""
        await self.platform("platform complaint", {
            "platform_ref": f"GOV-{next(self._serial):08d}", "kind": "complaint", "reported_at": self.clock().isoformat(),
            "reporter": {"name": "匿名用户", "phone": "13900000000"},
            "region": {"province": order.city.province, "city": order.city.name, "county": order.county,
                       "provincial_capital": order.city.capital},
            "address": f"{order.county}", "text": "师傅迟迟不上门, 电话也打不通", "severity": "high",
            "product": {"category": order.category, "brand": order.maker.brand, "model": order.maker.models[order.category][0]},
            "order_id": order.id,
        })

    async def watch(self) -> None:
        """One pass of the dispatch service's own SLA watcher at this simulated moment (the
        background job's real-time interval would fire at arbitrary simulated times)."""
        await self.sync()
        self.stats.calls["sla watcher pass"] += 1
        self.stats.escalated_by_watcher += await watch_once(self.runtime)

    async def complain(self, order: Order) -> None:
        body: dict[str, Any] = {
            "order_id": order.id, "channel": self.rng.choice(("hotline", "web_form", "call_back", "feedback_form")),
            "severity": self.rng.choice(("low", "normal", "normal", "high")), "text": "维修后故障再次出现",
            "received_at": self.clock().isoformat(),
        }
        # now and then the caller names only the outlet: filed without an order, the dispatcher
        # matches it to the order soon after (issue 15 item 9)
        loose = order.outlet is not None and self.rng.random() < 0.2
        if loose and order.outlet is not None:
            del body["order_id"]
            body |= {"provider_id": order.outlet.provider_id, "outlet_id": order.outlet.id, "maker": order.maker.id}
        made = await self.call("complaint", "POST", "/quality/complaints", world.staff(order.maker.id, "supervisor"),
                               json=body)
        if made is None:
            return
        if loose:
            self.after(self.rng.uniform(0.05, 0.5), lambda: self.match(order, made["complaint_id"]))
        late = self.rng.random() < 0.25  # the 1-hour response SLA is missed now and then
        self.after(self.rng.uniform(1.1, 3.0) if late else self.rng.uniform(0.1, 0.9),
                   lambda: self.respond(order, made["complaint_id"], loose))
        if late:
            self.after(1.05, self.watch)

    async def respond(self, order: Order, complaint_id: str, loose: bool = False) -> None:
        path = (f"/dispatch/complaints/{complaint_id}/respond" if loose
                else f"/dispatch/orders/{order.id}/complaints/{complaint_id}/respond")
        await self.call("complaint response", "POST", path, world.staff(order.maker.id, "dispatcher"),
                        json={"response": "已致电客户致歉, 安排师傅复查"})

    async def match(self, order: Order, complaint_id: str) -> None:
        await self.call("complaint matched", "POST", f"/dispatch/complaints/{complaint_id}/order",
                        world.staff(order.maker.id, "dispatcher"), json={"order_id": order.id})

    def _close_month(self, month: str) -> Step:
        async def close() -> None:
            await self.sync()
            for maker in world.MAKERS:
                await self.call("close month", "POST", f"/quality/months/{month}/close", world.staff(maker.id, "supervisor"))
        return close


def cost_of(part_no: str) -> int:
    return next(cost for parts in world.PARTS.values() for no, _name, cost in parts if no == part_no)


def _next_local(moment: datetime, hour: int) -> datetime:
    """The next `hour`:00 Beijing time at or after `moment`."""
    local = moment.astimezone(CHINA)
    at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return (at if at >= local else at + timedelta(days=1)).astimezone(UTC)


def window(until: datetime, days: float) -> tuple[datetime, datetime]:
    """The simulated period: `days` ending at `until` (the clock stands there when the demo ends)."""
    end = until.astimezone(UTC).replace(second=0, microsecond=0)
    return end - timedelta(days=days), end
