// The service-desk console end to end in a headless browser: Debian's
// Chromium (playwright-core) or Firefox ESR (puppeteer-core over WebDriver
// BiDi), through drivers.mjs, no browser download.  The one scenario:
// sign in with a cs-agent token, look up an order waiting on an inbound
// shipment, see its ETA and an empty ETA history, delay the shipment
// through inventory's Connect API, see the order page show the new ETA,
// the delay's reason and a history row with it without a reload (the
// page follows WatchNotifications), answer the order's ticket, see the
// order's SKU on the Stock page with its back-in-stock queue.  A
// screenshot of each page goes into SHOTS_DIR.
//
// usage: node console_e2e.mjs CONSOLE_URL INVENTORY_URL ORDER_ID INBOUND_ID TICKET_ID SHOTS_DIR
//            STOCK_INVENTORY_URL SKU REGION QUEUE_HERE QUEUE_ELSEWHERE
// STOCK_INVENTORY_URL is an inventory whose HTTP port lets the console's
// origin call it (SHELFLINE_HTTP_CORS_ORIGINS): the Stock page's.
// QUEUE_HERE / QUEUE_ELSEWHERE: the customers waiting for SKU back in
// stock in REGION and in other regions.
// Environment: SHELFLINE_AGENT_TOKEN_FILE (cs-agent), SHELFLINE_PLANNER_TOKEN_FILE
// (planner: DelayInbound), CONSOLE_BROWSER (chromium, the default, or
// firefox), NODE_PATH with playwright-core and puppeteer-core.
import { mkdirSync, readFileSync } from "node:fs";
import { launch } from "./drivers.mjs";

const args = process.argv.slice(2);
const [consoleUrl, inventoryUrl, orderId, inboundId, ticketId, shots, stockUrl, sku, region] = args;
const [queueHere, queueElsewhere] = args.slice(9).map(Number);
if (args.length !== 11 || !(queueHere > 0)) {
  console.error(
    "usage: node console_e2e.mjs CONSOLE_URL INVENTORY_URL ORDER_ID INBOUND_ID TICKET_ID SHOTS_DIR " +
      "STOCK_INVENTORY_URL SKU REGION QUEUE_HERE QUEUE_ELSEWHERE",
  );
  process.exit(2);
}
const browserName = process.env.CONSOLE_BROWSER || "chromium";
const agent = readFileSync(process.env.SHELFLINE_AGENT_TOKEN_FILE, "ascii").trim();
const planner = readFileSync(process.env.SHELFLINE_PLANNER_TOKEN_FILE, "ascii").trim();
mkdirSync(shots, { recursive: true });

async function inventory(method, body) {
  const r = await fetch(`${inventoryUrl}/shelfline.v1.InventoryService/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${planner}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method}: HTTP ${r.status} ${text}`);
  return JSON.parse(text);
}

// Every form control of the page has a label (the pages are used with
// the keyboard and read out by screen readers).
async function labelled(b, what) {
  const bare = await b.evaluate(() =>
    [...document.querySelectorAll("main input, main textarea, main select")]
      .filter((e) => e.id === "" || document.querySelector(`label[for="${e.id}"]`) === null)
      .map((e) => e.outerHTML.slice(0, 80)),
  );
  if (bare.length > 0) throw new Error(`${what}: controls without a label: ${bare.join(", ")}`);
}

const b = await launch(browserName);
console.log(`browser: ${browserName} ${b.version}`);
let failed = false;
try {
  // 1. Sign in: the form, keyboard only.
  await b.goto(consoleUrl);
  await b.waitFor("#token");
  await labelled(b, "sign-in");
  await b.fill("#token", agent);
  await b.fill("#inventory-url", stockUrl);
  await b.press("#inventory-url", "Enter");
  await b.waitFor('form[role="search"]');
  console.log("signed in");

  // 2. The order and its ETA; its history is empty.
  await b.fill("#q", orderId);
  await b.press("#q", "Enter");
  await b.waitFor("#eta-range", { pattern: /\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}/ });
  const before = (await b.text("#eta-range")).trim();
  console.log(`order ${orderId}: ETA ${before}, ${await b.text("#eta-confidence")}`);
  await b.waitFor('table[aria-label="Order lines"]', { text: inboundId });
  await b.waitFor("#eta-history", { text: "has not moved" });
  await labelled(b, "order");
  await b.screenshot(`${shots}/order.png`);

  // 3. The inbound delayed through the API; the open page updates itself:
  //    the ETA, its reason, a row of the ETA history with the reason.
  await b.evaluate(() => {
    window.__notReloaded = true;
  });
  const inbound = await inventory("GetInbound", { inboundId });
  await inventory("DelayInbound", {
    inboundId,
    newExpectedAtMs: String(BigInt(inbound.expectedAtMs) + 3n * 86_400_000n),
    reason: "supplier strike",
  });
  console.log(`delayed ${inboundId}: supplier strike`);
  await b.waitFor("#eta-reason", { text: "supplier strike", timeout: 45_000 });
  const after = (await b.text("#eta-range")).trim();
  if (after === before) throw new Error(`the ETA shown did not move (${before})`);
  if (!(await b.evaluate(() => window.__notReloaded === true))) throw new Error("the page was reloaded");
  await b.waitFor("#notices", { text: "supplier strike" });
  await b.waitFor("#eta-history tbody tr", { text: "supplier strike" });
  const row = await b.evaluate(() =>
    [...document.querySelectorAll("#eta-history tbody tr")].map((tr) =>
      [...tr.querySelectorAll("td")].map((td) => td.textContent),
    ),
  );
  if (row.length !== 1) throw new Error(`the ETA history has ${row.length} rows, expected 1`);
  const [slip, , from, to, cause] = row[0];
  if (slip !== "1" || !after.startsWith(to.split(" – ")[0]) || !before.startsWith(from.split(" – ")[0]))
    throw new Error(`the ETA history row ${JSON.stringify(row[0])} does not match ${before} -> ${after}`);
  if (!cause.includes(inboundId)) throw new Error(`the ETA history row names no inbound: ${cause}`);
  console.log(`order ${orderId}: ETA now ${after}, reason and history row shown without a reload`);
  await b.screenshot(`${shots}/order-delayed.png`);

  // 4. The queue, the ticket, an answer.
  await b.click('nav a[href="#/queue"]');
  const link = `table[aria-label="Tickets"] a[href="#/ticket/${ticketId}"]`;
  await b.waitFor(link);
  await labelled(b, "queue");
  await b.screenshot(`${shots}/queue.png`);
  await b.click(link);
  await b.waitFor("#answer");
  const reply = `Your order ${orderId} is on its way; new estimate ${after}.`;
  await b.fill("#answer", reply);
  await b.click('form[aria-label="Answer"] button[type="submit"]');
  await b.waitFor("#thread", { text: reply });
  console.log(`answered ${ticketId}`);
  await b.screenshot(`${shots}/ticket.png`);

  // 5. The stock page: the SKU the order waits for, from inventory's own
  //    port (another origin), its open inbound shipment listed, and the
  //    customers waiting for it to come back.
  await b.click('nav a[href="#/stock"]');
  await b.waitFor("#s-sku");
  await b.fill("#s-sku", sku);
  await b.fill("#s-region", region);
  await b.press("#s-region", "Enter");
  await b.waitFor('table[aria-label="Inbound shipments"]', { text: inboundId });
  const queue = new RegExp(`^${queueHere} waiting here since \\d{4}-\\d{2}-\\d{2}` +
    (queueElsewhere > 0 ? `.*; ${queueElsewhere} in other regions$` : "[^;]*$"));
  await b.waitFor("#bis-queue", { pattern: queue });
  console.log(
    `stock of ${sku} in ${region}: available ${await b.text("#available")}; ` +
      `back-in-stock queue: ${await b.text("#bis-queue")}`,
  );
  await labelled(b, "stock");
  await b.screenshot(`${shots}/stock.png`);
} catch (e) {
  failed = true;
  console.error(`console_e2e (${browserName}): ${e.message}`);
} finally {
  await b.close();
}
process.exit(failed ? 1 : 0);
