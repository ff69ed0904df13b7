// Ops dashboard: fetches the services' JSON query endpoints (same origin) and renders them.
// No build step: plain ES2020 plus the vendored Chart.js. Money arrives in fen and is shown in 元;
// times arrive as UTC ISO strings and are shown in Asia/Shanghai.
"use strict";

const TZ = "Asia/Shanghai";
const KEY_STORE = "aftersales.apiKey";
const PANELS = ["dispatch", "settlement", "parts", "quality", "intake", "dispatch_leads"];

// The endpoints this page reads, in one place (all projections, never the event store).
const API = {
  projections: () => "/ops/projections",
  outlets: () => "/dispatch/outlets",
  outletQueue: (id) => `/dispatch/queues/${encodeURIComponent(id)}`,
  regionQueue: (region) => `/dispatch/queues?region=${encodeURIComponent(region)}`,
  overdue: () => "/dispatch/overdue",
  compliance: (month) => `/dispatch/compliance?month=${month}`,
  totals: (month) => `/settlement/totals?month=${month}`,
  openOrders: () => "/settlements/open",
  anomalies: (month) => `/settlement/anomalies?since=${encodeURIComponent(`${month}-01T00:00:00+08:00`)}`,
  scores: (month) => `/quality/scores?month=${month}`,
  sheet: (month, maker) => `/quality/months/${month}/statistics.csv?maker=${encodeURIComponent(maker)}`,
  order: (id) => `/orders/${encodeURIComponent(id)}`,
  partsNeeds: (id) => `/parts/needs/${encodeURIComponent(id)}?days=30`,
  partsReturns: () => "/parts/returns",
  expiring: () => "/dispatch/certifications?expiring_within_days=30",
  conversion: (month) => `/dispatch/leads/conversion?month=${month}`,
};

// ---------- small helpers ----------
const $ = (sel, root = document) => root.querySelector(sel);
const dtf = new Intl.DateTimeFormat("zh-CN", {
  timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
});
const fmtTime = (iso) => (iso ? dtf.format(new Date(iso)) : "");
const yuan = (fen) => (fen === null || fen === undefined ? "" : (Number(fen) / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const pick = (obj, ...names) => { for (const n of names) { if (obj && obj[n] !== undefined && obj[n] !== null) return obj[n]; } return undefined; };

/** The list inside a response: the body itself, or its first array-valued field (items, orders, ...). */
function listOf(body, ...names) {
  if (Array.isArray(body)) return body;
  if (!body || typeof body !== "object") return [];
  for (const n of [...names, "items", "results", "rows", "orders", "data"]) if (Array.isArray(body[n])) return body[n];
  const first = Object.values(body).find(Array.isArray);
  return first || [];
}

function shanghaiMonth(date = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit" }).formatToParts(date);
  return `${parts.find((p) => p.type === "year").value}-${parts.find((p) => p.type === "month").value}`;
}
function monthsBack(month, n) {
  const [y, m] = month.split("-").map(Number);
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(y, m - 1 - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return out;
}
function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const text = h >= 48 ? `${Math.floor(h / 24)}d ${h % 24}h` : `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
  return (seconds < 0 ? "−" : "") + text;
}

// ---------- key and fetching ----------
function apiKey() { return localStorage.getItem(KEY_STORE) || document.body.dataset.demoKey || ""; }

async function getJSON(path) {
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  try {
    const res = await fetch(path, { headers });
    const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (res.status === 401) showKeyError("The API key was refused: enter a read-only key (viewer, operator, supervisor or finance).");
    return { ok: res.ok, status: res.status, body };
  } catch (err) {
    return { ok: false, status: 0, body: null };
  }
}
function showKeyError(text) { const el = $("#keyerror"); el.textContent = text; el.hidden = false; }

function fillTable(id, rows, render, emptyText = "nothing here") {
  const body = $(`#${id} tbody`);
  body.innerHTML = rows.length ? rows.map(render).join("") : `<tr class="empty"><td colspan="9">${esc(emptyText)}</td></tr>`;
  $(`#${id}`).dataset.rows = String(rows.length);
}
function unavailable(id, res, path) {
  const body = $(`#${id} tbody`);
  body.innerHTML = `<tr class="unavailable"><td colspan="9">${esc(path)} answered ${res.status || "no response"}</td></tr>`;
  $(`#${id}`).dataset.rows = "unavailable";
}
const orderLink = (id) => `<a class="order-link mono" href="/ui/orders/${encodeURIComponent(id)}">${esc(String(id).slice(0, 8))}</a>`;

// ---------- freshness ----------
async function renderFreshness() {
  const res = await getJSON(API.projections());
  if (!res.ok) return $("#freshness") ? unavailable("freshness", res, API.projections()) : undefined;
  const projections = res.body.projections || {};
  const names = Object.keys(projections).sort();
  if ($("#freshness")) fillTable("freshness", names, (n) => {
    const p = projections[n];
    const cls = p.dead_letters > 0 ? ' class="degraded" title="dead letters: this read model misses events"' : "";
    return `<tr data-projection="${esc(n)}"${cls}><td>${esc(n)}</td><td class="num">${p.position}</td><td class="num">${p.head}</td>` +
      `<td class="num" data-lag-events>${p.lag_events}</td><td class="num">${p.lag_seconds}</td><td class="num">${p.dead_letters}</td></tr>`;
  }, "no projections in this process");
  for (const panel of PANELS) {
    const mine = names.filter((n) => n.startsWith(panel) || n.includes(panel));
    const el = document.querySelector(`[data-fresh="${panel}"]`);
    if (!el) continue;
    if (!mine.length) { el.textContent = "no projection in this process"; el.className = "fresh down"; continue; }
    const events = Math.max(...mine.map((n) => projections[n].lag_events));
    const seconds = Math.max(...mine.map((n) => projections[n].lag_seconds));
    el.textContent = `lag ${events} events · ${seconds.toFixed(1)} s`;
    el.dataset.lagEvents = String(events);
    el.className = "fresh" + (events > 0 ? " stale" : "");
    // A dead letter is an alarm: the panel's figures miss the events its read model set aside.
    const dead = mine.reduce((sum, n) => sum + (projections[n].dead_letters || 0), 0);
    if (dead > 0) {
      el.textContent += ` · ${dead} dead letter${dead > 1 ? "s" : ""}: figures incomplete`;
      el.className = "fresh down";
    }
  }
}

// ---------- dispatch ----------
const charts = {};
function chart(id, config) {
  if (!window.Chart) return;
  if (charts[id]) charts[id].destroy();
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
  charts[id] = new window.Chart(document.getElementById(id), config);
}

function slaState(item) {
  const explicit = pick(item, "sla_state", "state_sla", "sla");
  if (typeof explicit === "string") return explicit;
  const due = pick(item, "sla_due_at", "due_at");
  if (!due) return "";
  const left = (new Date(due) - Date.now()) / 1000;
  return left < 0 ? "breached" : left < 3600 ? "at_risk" : "on_time";
}
const slaClass = (s) => (s === "breached" ? "sla-bad" : s === "at_risk" ? "sla-risk" : "sla-ok");

const clock = (iso) => fmtTime(iso).split(" ").pop();
/** The appointment window booked with the customer (moves counted) and the technician's estimate. */
function windowText(item) {
  const parts = [];
  if (item.window_start && item.window_end) parts.push(`${fmtTime(item.window_start)}–${clock(item.window_end)}`);
  if (item.reschedules) parts.push(`moved ×${item.reschedules}`);
  if (item.eta) parts.push(`on the way, ETA ${clock(item.eta)}`);
  return parts.join(" · ");
}

function queueRow(item) {
  const id = pick(item, "order_id", "id");
  const due = pick(item, "sla_due_at", "due_at");
  const state = slaState(item);
  return `<tr data-order="${esc(id)}"><td>${orderLink(id)}</td><td>${esc(pick(item, "outlet_id", "outlet"))}</td>` +
    `<td>${esc(pick(item, "city") ?? "")}</td><td>${esc(pick(item, "tier") ?? "")}</td><td>${fmtTime(due)}</td>` +
    `<td class="window${item.window_missed ? " sla-bad" : ""}">${esc(windowText(item))}</td>` +
    `<td class="num countdown" data-due="${esc(due ?? "")}"${item.pause_reason ? ' data-paused="1"' : ""}></td>` +
    `<td class="${slaClass(state)}">${esc(state)}${item.pause_reason ? ` (${esc(item.pause_reason)})` : ""}${waitsFor(item)}</td></tr>`;
}

/** The parts a parts_on_order pause waits for (its parts order's lines), for the queue row. */
function waitsFor(item) {
  const wait = item.waiting_for_parts;
  if (!wait) return "";
  const lines = (wait.lines || []).map((l) => `${l.part_no}×${l.quantity}`).join(", ");
  return ` <span class="muted" data-waits-for="${esc(wait.parts_order_id)}">waits for ${esc(lines || wait.parts_order_id)}</span>`;
}

function tickCountdowns() {
  const now = Date.now();
  for (const cell of document.querySelectorAll("td.countdown[data-due]")) {
    if (!cell.dataset.due) continue;
    if (cell.dataset.paused) { cell.textContent = "paused"; cell.className = "num countdown muted"; continue; }
    const left = (new Date(cell.dataset.due) - now) / 1000;
    cell.textContent = duration(left);
    cell.className = "num countdown " + (left < 0 ? "sla-bad" : left < 3600 ? "sla-risk" : "sla-ok");
  }
}

async function renderDispatch(state) {
  const outletsRes = await getJSON(API.outlets());
  const outlets = outletsRes.ok ? listOf(outletsRes.body, "outlets") : [];
  const queues = await Promise.all(outlets.map(async (o) => {
    const id = pick(o, "outlet_id", "id");
    const res = await getJSON(API.outletQueue(id));
    return { outlet: o, id, res, items: res.ok ? listOf(res.body, "orders", "items") : [],
      load: res.ok ? listOf(res.body, "load").reduce((a, l) => a + Number(pick(l, "open_orders") ?? 0), 0) : 0 };
  }));
  const regionOf = (q) => pick(q.outlet, "province", "region") ?? (q.items[0] && q.items[0].province) ?? "";
  const cityOf = (q) => (pick(q.outlet, "areas") || []).map((a) => a.city)[0] ?? pick(q.outlet, "city") ?? "";
  const select = $("#region");
  if (select.options.length <= 1) {
    const regions = [...new Set(queues.map(regionOf).concat(queues.map(cityOf)).filter(Boolean))].sort();
    for (const r of regions) select.add(new Option(r, r));
  }
  if (!outletsRes.ok) unavailable("outlet-queues", outletsRes, API.outlets());
  else fillTable("outlet-queues", queues.filter((q) => !state.region || regionOf(q) === state.region || cityOf(q) === state.region), (q) => {
    const states = q.items.map(slaState);
    const dues = q.items.map((i) => pick(i, "sla_due_at", "due_at")).filter(Boolean).sort();
    return `<tr data-outlet="${esc(q.id)}"><td>${esc(pick(q.outlet, "name") ?? q.id)} <span class="muted mono">${esc(q.id)}</span></td>` +
      `<td>${esc(pick(q.outlet, "provider_id", "provider") ?? "")}</td><td>${esc(regionOf(q))} ${esc(cityOf(q))}</td>` +
      `<td class="num" data-open>${q.items.length}</td><td class="num">${states.filter((s) => s === "at_risk").length}</td>` +
      `<td class="num">${states.filter((s) => s === "breached").length}</td><td>${fmtTime(dues[0])}</td></tr>`;
  }, "no outlets registered");
  chart("chart-load", {
    type: "bar",
    data: { labels: queues.map((q) => q.id), datasets: [{ label: "assigned orders (dispatched or on site)", data: queues.map((q) => q.load), backgroundColor: "#2457c5" }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });

  // Region queues (dispatched or not) of every city with an outlet.
  const cities = [...new Set(queues.map(cityOf).filter(Boolean))].sort();
  const regionQueues = await Promise.all(cities.map(async (city) => {
    const res = await getJSON(API.regionQueue(city));
    return { region: city, ok: res.ok, items: res.ok ? listOf(res.body, "orders", "items") : [] };
  }));
  fillTable("region-queues", regionQueues.filter((r) => !state.region || r.region === state.region), (r) => {
    const states = r.items.map(slaState);
    return `<tr data-region="${esc(r.region)}"><td>${esc(r.region)}</td><td class="num" data-open>${r.ok ? r.items.length : "?"}</td>` +
      `<td class="num">${r.items.filter((i) => !i.outlet_id).length}</td><td class="num">${states.filter((x) => x === "at_risk").length}</td>` +
      `<td class="num">${states.filter((x) => x === "breached").length}</td></tr>`;
  }, "no regions");

  let items;
  if (state.region) {
    const res = await getJSON(API.regionQueue(state.region));
    if (!res.ok) { unavailable("queue", res, API.regionQueue(state.region)); items = null; } else items = listOf(res.body, "orders", "items");
  } else {
    const byId = new Map();
    for (const item of [...queues.flatMap((q) => q.items), ...regionQueues.flatMap((r) => r.items)]) byId.set(item.order_id, item);
    items = [...byId.values()];
  }
  $("#queue-scope").textContent = state.region ? `· ${state.region}` : "· all regions";
  if (items) {
    items.sort((a, b) => String(pick(a, "sla_due_at", "due_at") ?? "").localeCompare(String(pick(b, "sla_due_at", "due_at") ?? "")));
    fillTable("queue", items, queueRow, "no open orders");
  }

  // Overdue (past the on-site deadline) first, then open orders escalated above the dealer or by a breach.
  const overdue = await getJSON(API.overdue());
  if (!overdue.ok) unavailable("overdue", overdue, API.overdue());
  else {
    const late = listOf(overdue.body, "orders", "items");
    const seen = new Set(late.map((i) => pick(i, "order_id", "id")));
    const escalated = (items || queues.flatMap((q) => q.items))
      .filter((i) => !seen.has(i.order_id) && (i.escalated || (i.tier && i.tier !== "dealer")));
    fillTable("overdue", [...late.map((i) => ({ ...i, overdue: true })), ...escalated], (item) => {
      const id = pick(item, "order_id", "id");
      const due = pick(item, "sla_due_at", "due_at");
      const breached = item.overdue && due && new Date(due) < Date.now();
      const why = [breached ? "SLA breached" : "", item.window_missed ? "window missed" : "", item.escalated ? "escalated (breach)" : "",
        item.tier && item.tier !== "dealer" ? `tier ${item.tier}` : "", item.pause_reason ? `paused: ${item.pause_reason}` : ""];
      return `<tr data-order="${esc(id)}" data-overdue="${item.overdue ? 1 : 0}"><td>${orderLink(id)}</td><td>${esc(pick(item, "outlet_id") ?? "")}</td>` +
        `<td>${esc(pick(item, "city") ?? "")}</td><td>${esc(pick(item, "tier") ?? "")}</td><td>${fmtTime(due)}</td>` +
        `<td class="num countdown" data-due="${esc(due ?? "")}"></td><td>${esc(why.filter(Boolean).join(" · "))}</td></tr>`;
    }, "nothing overdue or escalated");
    $("#overdue").dataset.overdue = String(late.length);
    // complaints past their 1-hour response, with or without an order (one filed without an order
    // is answered, and matched to its order, by its id: POST /dispatch/complaints/{id}/…)
    fillTable("late-complaints", listOf(overdue.body, "complaints"), (c) => {
      const loose = String(c.order_id ?? "").startsWith("complaint:");
      return `<tr data-complaint="${esc(c.complaint_id)}" data-loose="${loose ? 1 : 0}"><td>${esc(String(c.complaint_id).slice(0, 8))}</td>` +
        `<td>${loose ? '<span class="muted">no order</span>' : orderLink(c.order_id)}</td><td>${esc(c.provider_id ?? "")}</td>` +
        `<td>${fmtTime(c.received_at)}</td><td>${fmtTime(c.due_at)}</td></tr>`;
    }, "no complaint waits past its hour");
  }
  tickCountdowns();
  return queues;
}

// ---------- settlement ----------
async function renderSettlement(state) {
  const totals = await getJSON(API.totals(state.month));
  if (!totals.ok) unavailable("totals", totals, API.totals(state.month));
  else fillTable("totals", listOf(totals.body, "totals", "items"), (t) =>
    `<tr data-provider="${esc(pick(t, "provider_id", "provider"))}" data-payer="${esc(pick(t, "payer"))}"><td>${esc(pick(t, "provider_id", "provider"))}</td>` +
    `<td>${esc(pick(t, "payer"))}</td><td class="num">${esc(pick(t, "entries", "orders", "count") ?? "")}</td>` +
    `<td class="num" data-amount-fen="${esc(pick(t, "amount_fen", "total_fen"))}">${yuan(pick(t, "amount_fen", "total_fen"))}</td></tr>`, "nothing settled this month");

  const open = await getJSON(API.openOrders());
  if (!open.ok) unavailable("open-orders", open, API.openOrders());
  else fillTable("open-orders", listOf(open.body, "orders", "items"), (o) => {
    const id = pick(o, "order_id", "id");
    const flags = o.flags || [];
    const ruled = o.proposal ? o.proposal.lines.filter((l) => l.decided_by === "rule") : [];
    return `<tr data-order="${esc(id)}"><td>${orderLink(id)}</td><td>${esc(pick(o, "provider_id", "provider") ?? "")}</td>` +
      `<td>${fmtTime(pick(o, "repaired_at", "departed_at"))}</td>` +
      `<td class="num" data-claimed-fen="${esc(o.proposal ? o.proposal.claimed_fen : "")}">${o.proposal ? yuan(o.proposal.claimed_fen) : ""}</td>` +
      `<td class="num" data-proposed-fen="${esc(o.proposal ? o.proposal.total_fen : "")}">${o.proposal ? yuan(o.proposal.total_fen) : `<span class="muted">${esc(o.problem ?? "")}</span>`}</td>` +
      `<td data-flags="${flags.length}" data-ruled="${ruled.length}">` +
      flags.map((f) => `<span class="flag" data-flag="${esc(f.kind)}" title="${esc(f.reason)}">${esc(f.kind)}</span>`).join(" ") +
      ruled.map((l) => `<div class="muted" data-rule="${esc(l.rule)}">line ${esc(l.line)} ${esc(l.decision)}: ${esc(l.reason)}</div>`).join("") +
      `</td></tr>`;
  }, "every repaired order is settled");

  const anomalies = await getJSON(API.anomalies(state.month));
  if (!anomalies.ok) unavailable("anomalies", anomalies, API.anomalies(state.month));
  else fillTable("anomalies", listOf(anomalies.body, "anomalies", "flags", "items"), (a) => {
    const id = pick(a, "order_id", "id");
    return `<tr data-order="${esc(id)}"><td>${orderLink(id)}</td><td>${esc(pick(a, "provider_id", "provider") ?? "")}</td>` +
      `<td>${esc(pick(a, "kind", "flag", "type") ?? "")}</td><td>${esc(pick(a, "reason", "why", "detail") ?? "")}</td></tr>`;
  }, "no anomalies");
}

// ---------- parts ----------
/** Per outlet: parts on hand (a negative level counts as none), on order and short, from the
 * parts service's needs report; then the faulty returnable parts still to go back to the maker. */
async function renderParts() {
  const outletsRes = await getJSON(API.outlets());
  const outlets = outletsRes.ok ? listOf(outletsRes.body, "outlets") : [];
  const needs = await Promise.all(outlets.map(async (o) => {
    const id = pick(o, "outlet_id", "id");
    const res = await getJSON(API.partsNeeds(id));
    return { id, name: pick(o, "name") ?? id, res, items: res.ok ? listOf(res.body, "items") : [] };
  }));
  if (!outletsRes.ok) unavailable("parts-stock", outletsRes, API.outlets());
  else fillTable("parts-stock", needs.filter((n) => n.res.ok), (n) => {
    const sum = (f) => n.items.reduce((a, i) => a + f(i), 0);
    const short = n.items.filter((i) => i.short > 0);
    return `<tr data-outlet="${esc(n.id)}"><td>${esc(n.name)} <span class="muted mono">${esc(n.id)}</span></td>` +
      `<td class="num" data-on-hand>${sum((i) => Math.max(0, i.on_hand))}</td><td class="num" data-on-order>${sum((i) => i.on_order)}</td>` +
      `<td class="num${short.length ? " sla-bad" : ""}" data-short>${sum((i) => i.short)}</td>` +
      `<td>${esc(short.map((i) => `${i.part_no}×${i.short}`).join(", "))}</td></tr>`;
  }, "no stock recorded at any outlet");

  const returns = await getJSON(API.partsReturns());
  if (!returns.ok) { unavailable("parts-returns", returns, API.partsReturns()); return; }
  const items = listOf(returns.body, "items");
  const overdue = items.filter((r) => r.overdue).length;
  $("#returns-summary").textContent = `${items.length} outstanding · ${overdue} overdue`;
  $("#parts-returns").dataset.overdue = String(overdue);
  fillTable("parts-returns", items, (r) =>
    `<tr data-order="${esc(r.order_id)}" data-part="${esc(r.part_no)}"${r.overdue ? ' class="degraded"' : ""}><td>${orderLink(r.order_id)}</td>` +
    `<td>${esc(r.outlet_id ?? "")}</td><td>${esc(r.part_no)}</td><td class="mono">${esc(r.faulty_serial ?? "")}</td>` +
    `<td>${fmtTime(r.repaired_at)}</td><td>${esc(r.status)}${r.overdue ? " · overdue" : ""}</td></tr>`, "no faulty parts outstanding");
}

// ---------- certifications and leads ----------
const percent = (v) => (v === null || v === undefined ? "" : `${(Number(v) * 100).toFixed(1)} %`);

async function renderCertifications() {
  const res = await getJSON(API.expiring());
  if (!res.ok) return unavailable("certifications", res, API.expiring());
  fillTable("certifications", res.body.certifications || [], (c) =>
    `<tr data-technician="${esc(c.technician_id)}" data-category="${esc(c.category)}"><td>${esc(c.technician_id)}</td><td>${esc(c.outlet_id)}</td>` +
    `<td>${esc(c.maker)}</td><td>${esc(c.category)}</td><td>${esc(c.valid_until)}</td>` +
    `<td class="num ${c.days_left <= 7 ? "neg" : ""}" data-days-left>${esc(c.days_left)}</td></tr>`, "no certification runs out within 30 days");
}

async function renderLeads(state) {
  const res = await getJSON(API.conversion(state.month));
  if (!res.ok) {
    unavailable("lead-outlets", res, API.conversion(state.month));
    return unavailable("lead-technicians", res, API.conversion(state.month));
  }
  fillTable("lead-outlets", res.body.outlets || [], (o) =>
    `<tr data-outlet="${esc(o.outlet_id)}" data-maker="${esc(o.maker)}"><td>${esc(o.outlet_id || "—")}</td><td>${esc(o.maker)}</td>` +
    `<td class="num" data-leads>${o.leads}</td><td class="num">${o.open}</td><td class="num">${o.contacted}</td>` +
    `<td class="num" data-won>${o.won}</td><td class="num">${o.lost}</td><td class="num" data-conversion>${percent(o.conversion)}</td>` +
    `<td class="num" data-amount-fen="${esc(o.won_fen)}">${yuan(o.won_fen)}</td></tr>`, "no leads noted this month");
  fillTable("lead-technicians", res.body.technicians || [], (t) =>
    `<tr data-technician="${esc(t.technician_id)}" data-outlet="${esc(t.outlet_id)}"><td>${esc(t.technician_id || "—")}</td><td>${esc(t.outlet_id || "—")}</td>` +
    `<td class="num">${t.leads}</td><td class="num">${t.won}</td><td class="num" data-conversion>${percent(t.conversion)}</td></tr>`,
  "no leads noted this month");
}

// ---------- quality ----------
/** Scoreboard rows: /quality/scores answers per maker; each row is one provider under one maker. */
const scoreRows = (body) => (body && Array.isArray(body.makers)
  ? body.makers.flatMap((m) => (m.scores || []).map((s) => ({ ...s, maker: m.maker, closed: m.closed })))
  : listOf(body, "scores", "items"));
const providerOf = (s) => pick(s, "provider_id", "id", "provider");
const num = (v, digits = 2) => (v === null || v === undefined || v === "" ? "" : Number(v).toFixed(digits));
/** A share given as a decimal string ("0.2500") shown as a whole percent, half up on the exact
 * basis points (no float rounding); blank when there is none. */
const pct = (v) => (v === null || v === undefined || v === "" ? "" : `${Math.floor((Math.round(Number(v) * 10000) + 50) / 100)}%`);

async function renderQuality(state) {
  const months = monthsBack(state.month, 6);
  const results = await Promise.all(months.map((m) => getJSON(API.scores(m))));
  const current = results[results.length - 1];
  if (!current.ok) unavailable("scores", current, API.scores(state.month));
  else fillTable("scores", scoreRows(current.body), (s) => {
    const delta = pick(s, "delta") === undefined ? undefined : Number(pick(s, "delta"));
    const amount = pick(s, "amount_fen", "total_amount_fen", "reward_fen");
    return `<tr data-provider="${esc(providerOf(s))}" data-maker="${esc(s.maker ?? "")}"><td>${esc(providerOf(s))} <span class="muted">${esc(s.maker ?? "")}${s.closed ? " · closed" : ""}</span></td>` +
      `<td class="num">${esc(pick(s, "n", "reviews") ?? "")}</td><td class="num" data-avg>${num(pick(s, "avg"))}</td>` +
      `<td class="num" data-coverage title="forms ${esc(pick(s, "forms") ?? "")} / repairs ${esc(pick(s, "repairs") ?? "")}">${pct(pick(s, "form_coverage"))}</td>` +
      `<td class="num" data-verified title="${esc(pick(s, "verified") ?? "")} of ${esc(pick(s, "forms_checkable") ?? "")} forms phoned back">${pct(pick(s, "verified_share"))}</td>` +
      `<td class="num" data-contradicted title="${esc(pick(s, "contradicted") ?? "")} call-backs differ from the form">${pct(pick(s, "contradicted_share"))}</td>` +
      `<td class="num ${delta > 0 ? "pos" : delta < 0 ? "neg" : ""}">${delta === undefined ? "" : (delta > 0 ? "+" : "") + num(delta)}</td>` +
      `<td class="num" data-complaints title="weighed by severity: ${esc(pick(s, "complaint_points") ?? "")} points">${esc(pick(s, "complaints", "complaint_count") ?? "")}</td>` +
      `<td><span class="band">${esc(pick(s, "complaint_band", "band") ?? "")}</span>${pick(s, "admin_action", "administrative_action") ? ' <span class="sla-bad" title="administrative action">⚠ action</span>' : ""}</td>` +
      `<td class="num ${amount > 0 ? "pos" : amount < 0 ? "neg" : ""}" data-amount-fen="${esc(amount ?? "")}">${amount === undefined ? "" : yuan(amount)}</td></tr>`;
  }, "no scores for this month");

  // Late items: entered after their month closed; listed on the month they belong to and the month they count in.
  const late = current.ok && Array.isArray(current.body.makers)
    ? current.body.makers.flatMap((m) => (m.late_items || []).map((i) => ({ ...i, maker: m.maker }))) : [];
  fillTable("late-items", late, (i) => `<tr data-ref="${esc(i.ref)}"><td>${i.order_id ? orderLink(i.order_id) : esc(i.ref)}</td>` +
    `<td>${esc(i.kind)} <span class="muted">${esc(i.channel)}</span></td><td>${esc(i.provider_id ?? "")}</td>` +
    `<td>${esc(i.belongs_to)}</td><td>${esc(i.counted_in)}</td></tr>`, "no late items");

  // The monthly statistics sheet (表7-28) per maker: fetched with the key, saved as a file.
  const makers = current.ok && Array.isArray(current.body.makers) ? current.body.makers.map((m) => m.maker) : [];
  $("#sheets").innerHTML = makers.length ? "表7-28 CSV:" + makers.map((m) => `<button type="button" data-sheet="${esc(m)}">${esc(m)}</button>`).join("") : "";
  for (const button of document.querySelectorAll("#sheets button")) {
    button.addEventListener("click", () => downloadSheet(state.month, button.dataset.sheet));
  }

  const providers = [...new Set(results.flatMap((r) => (r.ok ? scoreRows(r.body) : []).map(providerOf)))].sort();
  // A provider serving several makers: its month avg is the pooled total / n over them.
  const pooled = (r, p) => {
    const rows = (r.ok ? scoreRows(r.body) : []).filter((x) => providerOf(x) === p && Number(pick(x, "n") ?? 0) > 0);
    const n = rows.reduce((a, x) => a + Number(x.n), 0);
    return n ? Math.round((10000 * rows.reduce((a, x) => a + Number(x.total), 0)) / n) / 10000 : null;
  };
  const palette = ["#2457c5", "#c53030", "#1a7f37", "#b7791f", "#6b46c1", "#0f766e", "#be185d", "#4b5563"];
  chart("chart-trend", {
    type: "line",
    data: {
      labels: months,
      datasets: providers.map((p, i) => ({
        label: p, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], spanGaps: true,
        data: results.map((r) => pooled(r, p)),
      })),
    },
    options: { scales: { y: { suggestedMin: -6, suggestedMax: 6 } } },
  });
  const complaints = results.map((r) => (r.ok ? scoreRows(r.body) : []).reduce((sum, s) => sum + Number(pick(s, "complaints", "complaint_count") ?? 0), 0));
  $("#chart-complaints").dataset.values = JSON.stringify(complaints);
  chart("chart-complaints", {
    type: "bar",
    data: { labels: months, datasets: [{ label: "complaints", data: complaints, backgroundColor: "#c53030" }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

/** SLA compliance per region: the share of the month's on-site visits that arrived within the
 * SLA, per province, from dispatch's compliance read model. */
async function renderSlaCompliance(state) {
  const res = await getJSON(API.compliance(state.month));
  const regions = res.ok ? listOf(res.body, "regions") : [];
  const labels = regions.map((r) => r.province);
  const values = regions.map((r) => Number(r.on_time_percent));
  $("#chart-sla").dataset.values = JSON.stringify(values);
  $("#chart-sla").dataset.labels = JSON.stringify(labels);
  chart("chart-sla", {
    type: "bar",
    data: { labels, datasets: [{ label: "% of visits on time", data: values, backgroundColor: "#1a7f37" }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100 } } },
  });
}

async function downloadSheet(month, maker) {
  const res = await fetch(API.sheet(month, maker), { headers: { Authorization: `Bearer ${apiKey()}` } });
  if (!res.ok) { showKeyError(`${API.sheet(month, maker)} answered ${res.status}`); return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = `statistics-${maker}-${month}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

// ---------- order page ----------
/** A settlement's line decisions that differ from "approved as claimed": kind, decision, claimed → approved, why, who. */
function lineDecisions(d) {
  return (Array.isArray(d.lines) ? d.lines : []).filter((l) => l.reason).map((l) =>
    `${l.kind} ${l.decision} ${yuan(l.claimed_fen ?? l.amount_fen)} → ${yuan(l.amount_fen)} 元 (${l.reason}; ${l.decided_by ?? ""})`);
}

function eventSummary(e) {
  const d = e.data || {};
  const bits = [];
  for (const k of ["channel", "fault", "to_tier", "reason", "outlet_id", "technician_id", "sla_due_at", "staff_count", "diagnosis", "solution", "payer", "total_fen", "overall", "text", "severity"]) {
    if (d[k] === undefined || d[k] === null || d[k] === "") continue;
    bits.push(`${k}: ${k.endsWith("_fen") ? yuan(d[k]) + " 元" : k.endsWith("_at") ? fmtTime(d[k]) : d[k]}`);
  }
  if (e.type === "order.settled") bits.push(...lineDecisions(d));
  return bits.join(" · ");
}

async function renderOrder() {
  const id = document.body.dataset.orderId;
  const res = await getJSON(API.order(id));
  const stateEl = $("#order-state");
  if (!res.ok) { stateEl.innerHTML = `<dt>error</dt><dd class="sla-bad">${esc(API.order(id))} answered ${res.status}</dd>`; return; }
  const order = res.body;
  const fields = ["status", "tier", "channel", "maker", "partner_id", "outlet_id", "technician_id", "provider_id", "sla_due_at", "reported_at"];
  const shown = fields.filter((f) => order[f] !== undefined && order[f] !== null);
  const loc = order.location ? `${order.location.province} ${order.location.city} ${order.location.county}` : "";
  const product = order.product ? `${order.product.brand} ${order.product.model} (${order.product.category})` : "";
  stateEl.innerHTML = shown.map((f) => `<dt>${esc(f)}</dt><dd data-field="${esc(f)}">${esc(f.endsWith("_at") ? fmtTime(order[f]) : order[f])}</dd>`).join("") +
    (loc ? `<dt>location</dt><dd>${esc(loc)}</dd>` : "") + (product ? `<dt>product</dt><dd>${esc(product)}</dd>` : "");
  const events = listOf(order, "timeline", "events");
  $("#timeline").innerHTML = events.map((e) =>
    `<li data-type="${esc(e.type)}"><span class="when">${fmtTime(pick(e, "occurred_at", "at"))}</span><span class="type">${esc(e.type)}</span>` +
    `<span class="who">${esc(pick(e, "actor", "who") ?? "")}${e.source ? ` via ${esc(e.source)}` : ""}</span><div class="muted">${esc(eventSummary(e))}</div></li>`).join("");
  $("#timeline").dataset.events = String(events.length);
}

// ---------- page wiring ----------
async function refreshDashboard(state) {
  await Promise.all([renderDispatch(state), renderSettlement(state), renderParts(), renderQuality(state), renderFreshness(),
    renderSlaCompliance(state), renderCertifications(), renderLeads(state)]);
  $("#updated").textContent = `updated ${dtf.format(new Date())}`;
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

function init() {
  $("#apikey").value = apiKey();
  $("#keyform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem(KEY_STORE, $("#apikey").value.trim());
    $("#keyerror").hidden = true;
    location.reload();
  });
  if (!apiKey()) showKeyError("Enter an API key with read access (viewer, operator, supervisor or finance) to see the panels.");
  if (document.body.dataset.page === "order") {
    Promise.all([renderOrder(), renderFreshness()]).then(() => { document.body.dataset.loaded = "1"; });
    return;
  }
  const params = new URLSearchParams(location.search);
  const state = { month: params.get("month") || shanghaiMonth(), region: params.get("region") || "" };
  $("#month").value = state.month;
  const refresh = () => refreshDashboard(state);
  $("#month").addEventListener("change", () => { state.month = $("#month").value || shanghaiMonth(); refresh(); });
  $("#region").addEventListener("change", () => { state.region = $("#region").value; refresh(); });
  $("#refresh").addEventListener("click", refresh);
  $("#orderform").addEventListener("submit", (ev) => { ev.preventDefault(); const id = $("#orderid").value.trim(); if (id) location.href = `/ui/orders/${encodeURIComponent(id)}`; });
  refresh().then(() => { if (state.region) $("#region").value = state.region; });
  setInterval(tickCountdowns, 1000);
  setInterval(refresh, 30000);
}

document.addEventListener("DOMContentLoaded", init);
