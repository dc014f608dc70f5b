// The service-desk console end to end in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser download):
// sign in with a cs-agent token, look up an order waiting on an inbound
// shipment, see its ETA, delay the shipment through inventory's Connect
// API, see the order page show the new ETA and the delay's reason without
// a reload (the page follows WatchNotifications), answer the order's
// ticket.  A screenshot of each page goes into SHOTS_DIR.
//
// usage: node console_e2e.mjs CONSOLE_URL INVENTORY_URL ORDER_ID INBOUND_ID TICKET_ID SHOTS_DIR
//            STOCK_INVENTORY_URL SKU REGION
// STOCK_INVENTORY_URL is an inventory whose HTTP port lets the console's
// origin call it (SHELFLINE_HTTP_CORS_ORIGINS): the Stock page's.
// Environment: SHELFLINE_AGENT_TOKEN_FILE (cs-agent), SHELFLINE_PLANNER_TOKEN_FILE
// (planner: DelayInbound), NODE_PATH with playwright-core.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const [consoleUrl, inventoryUrl, orderId, inboundId, ticketId, shots, stockUrl, sku, region] =
  process.argv.slice(2);
if (region === undefined) {
  console.error(
    "usage: node console_e2e.mjs CONSOLE_URL INVENTORY_URL ORDER_ID INBOUND_ID TICKET_ID SHOTS_DIR " +
      "STOCK_INVENTORY_URL SKU REGION",
  );
  process.exit(2);
}
const agent = readFileSync(process.env.SHELFLINE_AGENT_TOKEN_FILE, "ascii").trim();
const planner = readFileSync(process.env.SHELFLINE_PLANNER_TOKEN_FILE, "ascii").trim();
mkdirSync(shots, { recursive: true });
const STEP = 20_000;

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

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
  timeout: 30_000,
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STEP);
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));

  // 1. Sign in: the form, keyboard only.
  await page.goto(consoleUrl);
  await page.getByLabel("Token").fill(agent);
  await page.getByLabel(/^Inventory API/).fill(stockUrl);
  await page.getByLabel(/^Inventory API/).press("Enter");
  await page.getByRole("search").waitFor();
  console.log("signed in");

  // 2. The order and its ETA.
  await page.getByLabel("Order or customer").fill(orderId);
  await page.getByLabel("Order or customer").press("Enter");
  const range = page.locator("#eta-range");
  await range.filter({ hasText: /\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}/ }).waitFor();
  const before = (await range.textContent()).trim();
  console.log(`order ${orderId}: ETA ${before}, ${await page.locator("#eta-confidence").textContent()}`);
  await page.getByRole("table", { name: "Order lines" }).getByText(inboundId).waitFor();
  await page.screenshot({ path: `${shots}/order.png`, fullPage: true });

  // 3. The inbound delayed through the API; the open page updates itself.
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  const inbound = await inventory("GetInbound", { inboundId });
  await inventory("DelayInbound", {
    inboundId,
    newExpectedAtMs: String(BigInt(inbound.expectedAtMs) + 3n * 86_400_000n),
    reason: "supplier strike",
  });
  console.log(`delayed ${inboundId}: supplier strike`);
  await page.locator("#eta-reason").filter({ hasText: "supplier strike" }).waitFor({ timeout: 45_000 });
  const after = (await range.textContent()).trim();
  if (after === before) throw new Error(`the ETA shown did not move (${before})`);
  if (!(await page.evaluate(() => window.__notReloaded === true))) throw new Error("the page was reloaded");
  await page.locator("#notices").getByText("supplier strike").first().waitFor();
  console.log(`order ${orderId}: ETA now ${after}, reason shown without a reload`);
  await page.screenshot({ path: `${shots}/order-delayed.png`, fullPage: true });

  // 4. The queue, the ticket, an answer.
  await page.getByRole("link", { name: "Queue" }).click();
  await page.getByRole("table", { name: "Tickets" }).getByRole("link", { name: ticketId }).waitFor();
  await page.screenshot({ path: `${shots}/queue.png`, fullPage: true });
  await page.getByRole("link", { name: ticketId }).click();
  const answer = page.getByLabel("Answer (suggested)");
  await answer.waitFor();
  const reply = `Your order ${orderId} is on its way; new estimate ${after}.`;
  await answer.fill(reply);
  await page.getByRole("button", { name: "Send answer" }).click();
  await page.getByRole("list", { name: "Thread" }).getByText(reply).waitFor();
  console.log(`answered ${ticketId}`);
  await page.screenshot({ path: `${shots}/ticket.png`, fullPage: true });

  // 5. The stock page: the SKU the order waits for, from inventory's own
  //    port (another origin), its open inbound shipment listed.
  await page.getByRole("link", { name: "Stock" }).click();
  await page.getByLabel("SKU").fill(sku);
  await page.getByLabel("Region").fill(region);
  await page.getByLabel("Region").press("Enter");
  await page.getByRole("table", { name: "Inbound shipments" }).getByText(inboundId).waitFor();
  console.log(`stock of ${sku} in ${region}: available ${await page.locator("#available").textContent()}`);
  await page.screenshot({ path: `${shots}/stock.png`, fullPage: true });
} catch (e) {
  failed = true;
  console.error(`console_e2e: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
