// The service-desk console: plain DOM, hash routes (#/order/ID, #/queue,
// #/ticket/ID, #/stock), every call the JSON Connect API of the port that
// served the page (service-desk's), with the agent's bearer token.
// Live: an open order page follows WatchNotifications (Connect's
// streaming form) for its customer and redraws on the order's notices.
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ForecastingService } from "./gen/shelfline/v1/forecasting_pb.js";
import { Availability_StatusSchema, InventoryService } from "./gen/shelfline/v1/inventory_pb.js";
import {
  EtaConfidenceSchema,
  NotificationKind,
  NotificationKindSchema,
  OrderStatusSchema,
  ServiceDeskService,
  TicketStatus,
  TicketStatusSchema,
  EtaChangeCause,
  type EtaChange,
  type Notification,
  type Ticket,
} from "./gen/shelfline/v1/service_desk_pb.js";

const TOKEN_KEY = "shelfline.console.token";
const main = document.querySelector<HTMLElement>("main")!;
const status = document.querySelector<HTMLElement>("#status")!;

function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

const transport = createConnectTransport({
  baseUrl: window.location.origin,
  useBinaryFormat: false,
  interceptors: [
    (next) => async (req) => {
      req.header.set("Authorization", `Bearer ${token()}`);
      return next(req);
    },
  ],
});
const desk: Client<typeof ServiceDeskService> = createClient(ServiceDeskService, transport);

// Inventory and forecasting answer on their own HTTP ports (another
// origin: they must list this page's in SHELFLINE_HTTP_CORS_ORIGINS, as
// make run does); by default this host's 8051 and 8052.
const INV_KEY = "shelfline.console.inventory";
const FC_KEY = "shelfline.console.forecasting";
const port = (p: number) => `${window.location.protocol}//${window.location.hostname}:${p}`;
function peer<T extends typeof InventoryService | typeof ForecastingService>(service: T, key: string, p: number) {
  return createClient(
    service,
    createConnectTransport({
      baseUrl: sessionStorage.getItem(key) || port(p),
      interceptors: [
        (next) => async (req) => {
          req.header.set("Authorization", `Bearer ${token()}`);
          return next(req);
        },
      ],
    }),
  );
}

// ---- small DOM helpers -------------------------------------------------

type Child = Node | string | null | undefined | false;
function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}
function table(head: string[], rows: Child[][], label: string): HTMLElement {
  return h(
    "table",
    { "aria-label": label },
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}
function say(text: string, kind: "info" | "error" = "info") {
  status.textContent = text;
  status.className = kind;
}
function failed(e: unknown): string {
  const err = ConnectError.from(e);
  if (err.code === Code.Unauthenticated) return "Sign in again: the token was refused.";
  return `${Code[err.code]}: ${err.rawMessage}`;
}
const day = (ms: bigint) => (ms > 0n ? new Date(Number(ms)).toISOString().slice(0, 16).replace("T", " ") : "");
const confidence = (c: number) => EtaConfidenceSchema.values[c]?.name.replace("ETA_CONFIDENCE_", "") ?? "";

// ---- sign-in -------------------------------------------------------------

function signIn() {
  const input = h("textarea", { id: "token", rows: "4", cols: "60", required: "" }) as HTMLTextAreaElement;
  const inv = h("input", { id: "inventory-url", type: "url", placeholder: port(8051), size: "40" }) as HTMLInputElement;
  const fc = h("input", { id: "forecasting-url", type: "url", placeholder: port(8052), size: "40" }) as HTMLInputElement;
  const form = h(
    "form",
    { "aria-label": "Sign in" },
    h("h2", {}, "Sign in"),
    h("p", {}, "Paste your bearer token (after make run: .local/auth/cs-agent.token)."),
    h("label", { for: "token" }, "Token"),
    input,
    h("label", { for: "inventory-url" }, "Inventory API (for Stock; empty: this host's 8051)"),
    inv,
    h("label", { for: "forecasting-url" }, "Forecasting API (for Stock; empty: this host's 8052)"),
    fc,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(INV_KEY, inv.value.trim());
    sessionStorage.setItem(FC_KEY, fc.value.trim());
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    say("Signed in.");
    route();
  });
  main.replaceChildren(form);
  input.focus();
}

// ---- order page ----------------------------------------------------------

let live: AbortController | null = null;

async function orderPage(orderId: string) {
  const search = h("input", { id: "q", name: "q", value: orderId, placeholder: "order id or customer id" }) as HTMLInputElement;
  const form = h(
    "form",
    { role: "search", "aria-label": "Find an order" },
    h("label", { for: "q" }, "Order or customer"),
    search,
    h("button", { type: "submit" }, "Find"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    window.location.hash = `#/order/${encodeURIComponent(search.value.trim())}`;
  });
  const body = h("div", { id: "order" });
  main.replaceChildren(h("h2", {}, "Order"), form, body);
  if (orderId === "") {
    search.focus();
    return;
  }
  try {
    await drawOrder(orderId, body);
  } catch (e) {
    const err = ConnectError.from(e);
    if (err.code !== Code.NotFound) {
      say(failed(e), "error");
      return;
    }
    // Not an order id: a customer's orders.
    try {
      const list = await desk.listOrders({ customerId: orderId });
      if (list.orders.length === 0) {
        say(`No order or customer "${orderId}".`, "error");
        return;
      }
      body.replaceChildren(
        h("h3", {}, `Orders of ${orderId}`),
        table(
          ["Order", "Status", "Placed", "Promised p50"],
          list.orders.map((o) => [
            h("a", { href: `#/order/${encodeURIComponent(o.orderId)}` }, o.orderId),
            OrderStatusSchema.values[o.status]?.name ?? "",
            day(o.placedAtMs),
            o.promised?.p50Date ?? "",
          ]),
          "Orders",
        ),
      );
    } catch (e2) {
      say(failed(e2), "error");
    }
  }
}

// Every ETA change of the order, oldest first (ListEtaChanges' pages).
async function etaChanges(orderId: string): Promise<EtaChange[]> {
  const all: EtaChange[] = [];
  let pageToken = "";
  for (let pages = 0; pages < 100; pages++) {
    const r = await desk.listEtaChanges({ orderId, page: { pageSize: 1000, pageToken } });
    all.push(...r.changes);
    pageToken = r.nextPageToken;
    if (pageToken === "") break;
  }
  return all;
}

async function drawOrder(orderId: string, body: HTMLElement) {
  const [order, eta, changes] = await Promise.all([
    desk.getOrder({ orderId }),
    desk.getOrderEta({ orderId }),
    etaChanges(orderId),
  ]);
  const notes = await desk.listNotifications({ customerId: order.customerId, limit: 500 });
  const mine = notes.notifications.filter((n) => n.orderId === orderId);
  const cur = eta.current;
  const cancel = h("button", { type: "button", id: "cancel" }, "Cancel order");
  const ret = h("button", { type: "button", id: "return" }, "Open a return");
  cancel.addEventListener("click", async () => {
    if (!window.confirm(`Cancel ${orderId}?`)) return;
    try {
      await desk.cancelOrder({ orderId, reason: "cancelled by customer service" });
      say(`Cancelled ${orderId}.`);
      await drawOrder(orderId, body);
    } catch (e) {
      say(failed(e), "error");
    }
  });
  ret.addEventListener("click", async () => {
    try {
      const rmaId = `RMA-${orderId}-${Date.now()}`;
      await desk.createReturn({
        rmaId,
        orderId,
        lines: order.lines.map((l) => ({ sku: l.sku, qty: l.qty })),
        reason: "opened by customer service",
      });
      say(`Return ${rmaId} opened.`);
    } catch (e) {
      say(failed(e), "error");
    }
  });
  body.replaceChildren(
    h("h3", {}, `${order.orderId} · ${order.customerId} · ${order.region}`),
    h(
      "dl",
      { id: "eta" },
      h("dt", {}, "Status"),
      h("dd", {}, OrderStatusSchema.values[order.status]?.name ?? ""),
      h("dt", {}, "ETA"),
      h("dd", { id: "eta-range" }, `${cur?.p50Date ?? "?"} – ${cur?.p90Date ?? "?"}`),
      h("dt", {}, "Confidence"),
      h("dd", { id: "eta-confidence" }, confidence(cur?.confidence ?? 0)),
      h("dt", {}, "Promised"),
      h("dd", {}, `${eta.promised?.p50Date ?? ""} – ${eta.promised?.p90Date ?? ""}`),
      h("dt", {}, "Why it moved"),
      h("dd", { id: "eta-reason" }, eta.moved ? eta.reason : "not moved"),
      h("dt", {}, "Shipment"),
      h("dd", {}, order.carrier ? `${order.carrier} ${order.tracking}` : "not shipped"),
    ),
    h("h3", {}, "Lines"),
    table(
      ["#", "SKU", "Qty", "Allocated to", "ETA p50 – p90", "Note"],
      order.lines.map((l) => {
        const le = eta.lines.find((x) => x.lineNo === l.lineNo);
        return [
          String(l.lineNo),
          l.sku,
          String(l.qty),
          l.allocations
            .map((a) =>
              a.inboundId ? `${a.qty} from inbound ${a.inboundId} (expected ${day(a.expectedAtMs)})` : `${a.qty} from ${a.warehouseId}`,
            )
            .join("; "),
          `${le?.current?.p50Date ?? ""} – ${le?.current?.p90Date ?? ""}`,
          le?.explanation ?? "",
        ];
      }),
      "Order lines",
    ),
    h("h3", {}, "ETA history"),
    history(changes),
    h("h3", {}, "Notices sent"),
    notices(mine),
    h("div", { class: "actions" }, cancel, ret),
  );
  say(`Order ${orderId}: ${eta.slips} slip(s).`);
  follow(order.customerId, orderId, body, notes.notifications.reduce((m, n) => (n.notificationId > m ? n.notificationId : m), 0n));
}

const range = (p50: string, p90: string) => (p90 && p90 !== p50 ? `${p50} – ${p90}` : p50);

function history(list: EtaChange[]): HTMLElement {
  if (list.length === 0) return h("p", { id: "eta-history" }, "The ETA has not moved.");
  const t = table(
    ["#", "When", "From", "To", "Cause", "Lines", "Reason"],
    list.map((c) => [
      String(c.slipNo),
      day(c.changedAtMs),
      range(c.fromP50Date, c.fromP90Date),
      range(c.toP50Date, c.toP90Date),
      c.cause === EtaChangeCause.ETA_CHANGE_CARRIER_DELAYED ? "carrier" : `inbound ${c.inboundId}`,
      c.lineNos.join(", "),
      c.reason,
    ]),
    "ETA history",
  );
  t.id = "eta-history";
  return t;
}

function notices(list: Notification[]): HTMLElement {
  if (list.length === 0) return h("p", { id: "notices" }, "None.");
  return h(
    "ul",
    { id: "notices" },
    ...list.map((n) =>
      h(
        "li",
        {},
        h("strong", {}, NotificationKindSchema.values[n.kind]?.name.replace("NOTIFICATION_", "") ?? ""),
        ` ${day(n.createdAtMs)}: ${n.body}`,
        n.kind === NotificationKind.NOTIFICATION_COMPENSATION && n.couponCode ? ` (coupon ${n.couponCode})` : "",
      ),
    ),
  );
}

// Follows the customer's notifications from afterId; a notice of this
// order redraws the page (the ETA, its reason, the list).
function follow(customerId: string, orderId: string, body: HTMLElement, afterId: bigint) {
  live?.abort();
  const stop = new AbortController();
  live = stop;
  (async () => {
    try {
      for await (const n of desk.watchNotifications({ customerId, afterId }, { signal: stop.signal })) {
        if (n.orderId !== orderId) continue;
        stop.abort();
        await drawOrder(orderId, body);
        say(`Live: ${n.body}`);
        return;
      }
    } catch (e) {
      if (!stop.signal.aborted) say(`Live updates stopped: ${failed(e)}`, "error");
    }
  })();
}

// ---- queue ---------------------------------------------------------------

async function queuePage(params: URLSearchParams) {
  const filters = h(
    "form",
    { "aria-label": "Filter tickets" },
    h("label", { for: "f-status" }, "Status"),
    h(
      "select",
      { id: "f-status", name: "status" },
      ...[TicketStatus.TICKET_OPEN, TicketStatus.TICKET_WAITING_ON_CUSTOMER, TicketStatus.TICKET_RESOLVED].map((s) => {
        const o = h("option", { value: String(s) }, TicketStatusSchema.values[s].name.replace("TICKET_", ""));
        if (String(s) === (params.get("status") ?? "1")) o.setAttribute("selected", "");
        return o;
      }),
    ),
    h("label", { for: "f-category" }, "Category"),
    h("input", { id: "f-category", name: "category", value: params.get("category") ?? "" }),
    h("label", { for: "f-priority" }, "Priority"),
    h("input", { id: "f-priority", name: "priority", value: params.get("priority") ?? "" }),
    h("label", { for: "f-breach" }, "Breaching within (min)"),
    h("input", { id: "f-breach", name: "breach", type: "number", min: "0", value: params.get("breach") ?? "" }),
    h("button", { type: "submit" }, "Filter"),
  );
  filters.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(new FormData(filters as HTMLFormElement) as unknown as Record<string, string>);
    window.location.hash = `#/queue?${q}`;
  });
  main.replaceChildren(h("h2", {}, "Queue"), filters, h("p", {}, "Loading…"));
  try {
    const list = await desk.listTickets({
      status: Number(params.get("status") ?? "1"),
      category: params.get("category") ?? "",
      priority: params.get("priority") ?? "",
      breachingWithinMinutes: Number(params.get("breach") ?? "0"),
    });
    main.replaceChildren(
      h("h2", {}, "Queue"),
      filters,
      table(
        ["Ticket", "Subject", "Category", "Language", "Priority", "Tier", "First response", "Resolution", "Risk"],
        list.tickets.map((t) => [
          h("a", { href: `#/ticket/${encodeURIComponent(t.ticketId)}` }, t.ticketId),
          t.subject,
          t.category,
          t.language,
          t.priority,
          t.tier,
          clock(t.firstResponse),
          clock(t.resolution),
          risk(t),
        ]),
        "Tickets",
      ),
    );
    say(`${list.tickets.length} ticket(s).`);
  } catch (e) {
    say(failed(e), "error");
  }
}

function clock(c: Ticket["firstResponse"]): string {
  if (c === undefined) return "";
  if (c.met) return "met";
  if (c.paused) return "paused";
  const left = Math.round((Number(c.dueAtMs) - Date.now()) / 60000);
  return left < 0 ? `breached ${-left} min ago` : `${left} min left`;
}

function risk(t: Ticket): string {
  const c = t.firstResponse?.met ? t.resolution : t.firstResponse;
  if (c === undefined || c.met) return "";
  if (c.breached) return "BREACHED";
  const left = Number(c.dueAtMs) - Date.now();
  const total = Number(c.targetMinutes) * 60000;
  return total > 0 && left < total / 4 ? "HIGH" : "low";
}

async function ticketPage(ticketId: string) {
  try {
    const t = await desk.getTicket({ ticketId });
    const answer = h("textarea", { id: "answer", rows: "6", cols: "70" }, t.suggestedAnswer) as HTMLTextAreaElement;
    const send = h("button", { type: "submit" }, "Send answer");
    const resolve = h("button", { type: "button", id: "resolve" }, "Resolve");
    const form = h("form", { "aria-label": "Answer" }, h("label", { for: "answer" }, "Answer (suggested)"), answer, send, resolve);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await desk.respondTicket({ ticketId, body: answer.value });
        say(`Answered ${ticketId}.`);
        await ticketPage(ticketId);
      } catch (e) {
        say(failed(e), "error");
      }
    });
    resolve.addEventListener("click", async () => {
      try {
        await desk.resolveTicket({ ticketId, resolution: answer.value || "resolved" });
        say(`Resolved ${ticketId}.`);
        await ticketPage(ticketId);
      } catch (e) {
        say(failed(e), "error");
      }
    });
    main.replaceChildren(
      h("h2", {}, `${t.ticketId}: ${t.subject}`),
      h(
        "p",
        {},
        `${TicketStatusSchema.values[t.status]?.name ?? ""} · ${t.category} · ${t.language} · priority ${t.priority} · tier ${t.tier}`,
        t.orderId ? " · order " : "",
        t.orderId ? h("a", { href: `#/order/${encodeURIComponent(t.orderId)}` }, t.orderId) : "",
      ),
      h("p", {}, `First response: ${clock(t.firstResponse)}; resolution: ${clock(t.resolution)}`),
      h(
        "ol",
        { id: "thread", "aria-label": "Thread" },
        h("li", {}, h("strong", {}, "customer"), ` ${day(t.openedAtMs)}: ${t.body}`),
        ...t.messages.map((m) =>
          h("li", {}, h("strong", {}, m.author === 1 ? "agent" : "customer"), ` ${day(m.atMs)}: ${m.body}`),
        ),
      ),
      t.status === TicketStatus.TICKET_RESOLVED ? h("p", {}, "Resolved.") : form,
    );
  } catch (e) {
    say(failed(e), "error");
  }
}

// ---- stock ---------------------------------------------------------------

function stockPage(params: URLSearchParams) {
  const sku = params.get("sku") ?? "";
  const region = params.get("region") ?? "";
  const form = h(
    "form",
    { role: "search", "aria-label": "Find stock" },
    h("label", { for: "s-sku" }, "SKU"),
    h("input", { id: "s-sku", name: "sku", value: sku, required: "" }),
    h("label", { for: "s-region" }, "Region"),
    h("input", { id: "s-region", name: "region", value: region, required: "" }),
    h("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(new FormData(form as HTMLFormElement) as unknown as Record<string, string>);
    window.location.hash = `#/stock?${q}`;
  });
  const out = h("div", { id: "stock" });
  main.replaceChildren(h("h2", {}, "Stock"), form, out);
  if (sku === "" || region === "") return;
  void drawStock(sku, region, out);
}

async function drawStock(sku: string, region: string, out: HTMLElement) {
  const inventory = peer(InventoryService, INV_KEY, 8051);
  try {
    // The queue is service-desk's: its failure is said in its own place.
    const [avail, inbound, queue] = await Promise.all([
      inventory.getAvailability({ skus: [sku], region }),
      inventory.listInbound({ sku, openOnly: true }),
      desk.getBackInStockQueue({ sku }).catch((e: unknown) => failed(e)),
    ]);
    const a = avail.items[0];
    const here = typeof queue === "string" ? undefined : queue.regions.find((r) => r.region === region);
    const elsewhere = typeof queue === "string" ? 0n : queue.waiting - (here?.waiting ?? 0n);
    out.replaceChildren(
      h("h3", {}, `${sku} in ${region}`),
      h(
        "dl",
        {},
        h("dt", {}, "Status"),
        h("dd", {}, a ? (Availability_StatusSchema.values[a.status]?.name ?? "") : ""),
        h("dt", {}, "Available"),
        h("dd", { id: "available" }, a ? String(a.available) : "0"),
        h("dt", {}, "Shown to shoppers"),
        h("dd", {}, a && a.onlyLeft > 0n ? `only ${a.onlyLeft} left` : (a?.hint ?? "")),
        h("dt", {}, "Next inbound"),
        h(
          "dd",
          {},
          a?.nextInbound ? `${a.nextInbound.qty} into ${a.nextInbound.warehouseId} on ${day(a.nextInbound.expectedAtMs)}` : "none",
        ),
        h("dt", {}, "Back-in-stock queue"),
        h(
          "dd",
          { id: "bis-queue" },
          typeof queue === "string"
            ? `unknown (${queue})`
            : here
              ? `${here.waiting} waiting here since ${day(here.oldestSinceMs)}`
              : "nobody waiting here",
          elsewhere > 0n ? `; ${elsewhere} in other regions` : "",
        ),
      ),
      table(
        ["Warehouse", "Available", "Transit p50 – p90 (days)"],
        (a?.warehouses ?? []).map((w) => [w.warehouseId, String(w.available), `${w.transitP50Days} – ${w.transitP90Days}`]),
        "Warehouses",
      ),
      h("h3", {}, "Open inbound shipments"),
      table(
        ["Shipment", "Warehouse", "Qty", "Expected"],
        inbound.inbounds.map((i) => [i.inboundId, i.warehouseId, String(i.qty), day(i.expectedAtMs)]),
        "Inbound shipments",
      ),
    );
  } catch (e) {
    out.replaceChildren(h("p", {}, `Inventory: ${failed(e)}`));
    return;
  }
  // Planners: the forecast with its bands, and the replenishment plan.
  const forecasting = peer(ForecastingService, FC_KEY, 8052);
  try {
    const [fc, plan] = await Promise.all([
      forecasting.forecastDemand({ sku, region, horizonDays: 28 }),
      forecasting.getReplenishmentPlan({ sku, region }),
    ]);
    out.append(
      h("h3", {}, `Forecast (${fc.model})`),
      chart(fc.points),
      h("h3", {}, "Replenishment plan"),
      h(
        "dl",
        {},
        h("dt", {}, "Reorder point"),
        h("dd", {}, plan.reorderPoint.toFixed(0)),
        h("dt", {}, "Safety stock"),
        h("dd", {}, plan.safetyStock.toFixed(0)),
        h("dt", {}, "Suggested order"),
        h("dd", {}, String(plan.suggestedOrderQty)),
        h("dt", {}, "Projected stock-out"),
        h("dd", {}, plan.projectedStockoutDay || "none"),
        h("dt", {}, "Days of cover"),
        h("dd", {}, plan.daysOfCover.toFixed(1)),
      ),
    );
  } catch (e) {
    const err = ConnectError.from(e);
    out.append(
      h("p", {}, err.code === Code.PermissionDenied ? "Forecasts are for planners." : `Forecasting: ${failed(e)}`),
    );
  }
}

// The forecast as an SVG: the 95% band, the 80% band, the point forecast.
function chart(points: { day: string; point: number; lo80: number; hi80: number; lo95: number; hi95: number }[]): Node {
  const W = 720, H = 240, P = 30;
  if (points.length === 0) return h("p", {}, "No forecast.");
  const max = Math.max(1, ...points.map((p) => p.hi95));
  const x = (i: number) => P + (i * (W - 2 * P)) / Math.max(1, points.length - 1);
  const y = (v: number) => H - P - (v * (H - 2 * P)) / max;
  const band = (lo: (p: (typeof points)[0]) => number, hi: (p: (typeof points)[0]) => number) =>
    points.map((p, i) => `${x(i)},${y(hi(p))}`).join(" ") +
    " " +
    points.map((p, i) => `${x(i)},${y(lo(p))}`).reverse().join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", String(W));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Forecast from ${points[0].day} to ${points[points.length - 1].day}, up to ${max.toFixed(0)} a day`);
  svg.innerHTML =
    `<polygon points="${band((p) => p.lo95, (p) => p.hi95)}" fill="#dbe6f7"/>` +
    `<polygon points="${band((p) => p.lo80, (p) => p.hi80)}" fill="#a9c2ea"/>` +
    `<polyline points="${points.map((p, i) => `${x(i)},${y(p.point)}`).join(" ")}" fill="none" stroke="#1d4f9c" stroke-width="2"/>` +
    `<text x="${P}" y="${H - 8}" font-size="12">${points[0].day}</text>` +
    `<text x="${W - P}" y="${H - 8}" font-size="12" text-anchor="end">${points[points.length - 1].day}</text>` +
    `<text x="4" y="${P}" font-size="12">${max.toFixed(0)}</text>`;
  return h("figure", {}, svg, h("figcaption", {}, "Daily demand: forecast, 80% and 95% bands."));
}

// ---- routing -------------------------------------------------------------

function route() {
  live?.abort();
  live = null;
  if (token() === "") {
    signIn();
    return;
  }
  const hash = window.location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const [page, arg] = [path.split("/")[0], decodeURIComponent(path.split("/").slice(1).join("/"))];
  for (const a of document.querySelectorAll("nav a")) {
    a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${page}`);
  }
  if (page === "queue") void queuePage(new URLSearchParams(query ?? ""));
  else if (page === "ticket") void ticketPage(arg);
  else if (page === "stock") stockPage(new URLSearchParams(query ?? ""));
  else void orderPage(page === "order" ? arg : "");
}

document.querySelector("#signout")?.addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  route();
});
window.addEventListener("hashchange", route);
route();
