// The Connect protocol over HTTP/1.1, as a browser or any HTTP client
// speaks it to the services' HTTP ports: places a backordered order,
// asks for its ETA, follows WatchNotifications (Connect's streaming form)
// and delays the inbound shipment the order waits on, until the delay
// notice arrives on the stream; then the ETA again, with its reason.
// docs/CLIENTS.md shows it; tests/clients/run_client.sh (connect) runs it.
//
// usage: node watch_delay.js DESK_HTTP INVENTORY_HTTP ORDER_ID CUSTOMER_ID WAREHOUSE REGION
//
// DESK_HTTP and INVENTORY_HTTP are host:port of the services' HTTP faces
// (SHELFLINE_HTTP_LISTEN).  Tokens, each from a file: SHELFLINE_TOKEN_FILE
// (storefront: PlaceOrder), SHELFLINE_AGENT_TOKEN_FILE (cs-agent:
// GetOrderEta, WatchNotifications), SHELFLINE_ADMIN_TOKEN_FILE
// (stock-admin: the product, its inbound shipment and its delay).
import { readFileSync } from "node:fs";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { InventoryService } from "./gen/shelfline/v1/inventory_pb.js";
import {
  EtaConfidence,
  EtaConfidenceSchema,
  NotificationKind,
  ServiceDeskService,
} from "./gen/shelfline/v1/service_desk_pb.js";

const [deskHttp, inventoryHttp, orderId, customerId, warehouseId, region] =
  process.argv.slice(2);
if (region === undefined) {
  console.error(
    "usage: node watch_delay.js DESK_HTTP INVENTORY_HTTP ORDER_ID CUSTOMER_ID WAREHOUSE REGION",
  );
  process.exit(2);
}

function bearer(variable: string): Record<string, string> {
  const file = process.env[variable];
  return file ? { authorization: `Bearer ${readFileSync(file, "ascii").trim()}` } : {};
}
const storefront = { headers: bearer("SHELFLINE_TOKEN_FILE"), timeoutMs: 10_000 };
const agent = { headers: bearer("SHELFLINE_AGENT_TOKEN_FILE"), timeoutMs: 10_000 };
const admin = { headers: bearer("SHELFLINE_ADMIN_TOKEN_FILE"), timeoutMs: 10_000 };

// The Connect protocol (not gRPC) over HTTP/1.1: what a browser can speak.
const desk = createClient(
  ServiceDeskService,
  createConnectTransport({ baseUrl: `http://${deskHttp}`, httpVersion: "1.1" }),
);
const inventory = createClient(
  InventoryService,
  createConnectTransport({ baseUrl: `http://${inventoryHttp}`, httpVersion: "1.1" }),
);

const DAY = 86_400_000n;
const sku = `SKU-${orderId}`;
const inboundId = `IN-${orderId}`;
const confidence = (c: EtaConfidence | undefined) =>
  EtaConfidenceSchema.value[c ?? EtaConfidence.UNSPECIFIED].name;

try {
  // A product with no stock, 10 units of it on their way in 5 days.
  await inventory.createProduct(
    { product: { sku, name: "Connect example item", category: "examples", brand: "Shelfline",
                 price: { minorUnits: 1999n, currency: "EUR" } } },
    admin,
  );
  const inbound = await inventory.createInbound(
    { inboundId, sku, warehouseId, qty: 10n,
      expectedAtMs: BigInt(Date.now()) + 5n * DAY, supplier: "Example supplier" },
    admin,
  );

  await desk.placeOrder(
    { orderId, customerId, region, lines: [{ sku, qty: 1n }], allowBackorder: true },
    storefront,
  );
  const eta = await desk.getOrderEta({ orderId }, agent);
  console.log(
    `eta ${orderId}: p50 ${eta.current?.p50Date} p90 ${eta.current?.p90Date}, ` +
      `${confidence(eta.current?.confidence)}`,
  );

  // Follow the customer's notifications (from the first: nothing is
  // missed whenever the stream gets going), delay the shipment once the
  // stream is open, stop at the order's delay notice.
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), 60_000);
  const stream = desk.watchNotifications(
    { afterId: 0n, customerId },
    { headers: agent.headers, signal: stop.signal },
  );
  const delayed = setTimeout(() => {
    inventory
      .delayInbound(
        { inboundId, newExpectedAtMs: inbound.expectedAtMs + 3n * DAY,
          reason: "supplier strike" },
        admin,
      )
      .then(() => console.log(`delayed ${inboundId} by 3 days: supplier strike`))
      .catch((e) => {
        console.error(`watch_delay: DelayInbound: ${ConnectError.from(e).message}`);
        stop.abort();
      });
  }, 500);
  let notice = "";
  try {
    for await (const n of stream) {
      if (n.orderId === orderId && n.kind === NotificationKind.NOTIFICATION_DELAY) {
        notice = n.body;
        break;
      }
    }
  } finally {
    clearTimeout(deadline);
    clearTimeout(delayed);
    stop.abort();
  }
  if (notice === "") {
    console.error(`watch_delay: no delay notice for ${orderId} on the stream within 60 s`);
    process.exit(1);
  }
  console.log(`notice ${orderId}: ${notice}`);

  const moved = await desk.getOrderEta({ orderId }, agent);
  console.log(
    `eta ${orderId} now: p50 ${moved.current?.p50Date} p90 ${moved.current?.p90Date}, ` +
      `${confidence(moved.current?.confidence)}, reason: ${moved.reason}`,
  );
} catch (e) {
  console.error(`watch_delay: ${ConnectError.from(e).message}`);
  process.exit(1);
}
