// Places an order with service-desk, then asks for its ETA: the TypeScript
// example of docs/CLIENTS.md, on code generated from proto/ alone
// (protoc-gen-es: messages and service descriptors) and Connect's gRPC
// transport for Node (HTTP/2 straight to the gRPC port).
//
// usage: node place_order.js ADDRESS ORDER_ID CUSTOMER_ID SKU REGION
//
// ADDRESS is service-desk's gRPC address, host:port.  With
// SHELFLINE_TOKEN_FILE set, each call carries its bearer token (role
// storefront).  Built next to the generated code: this file in src/, the
// generated in src/gen/ (tests/clients/run_client.sh does it).
import { readFileSync } from "node:fs";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  EtaConfidenceSchema,
  OrderStatusSchema,
  ServiceDeskService,
} from "./gen/shelfline/v1/service_desk_pb.js";

const [address, orderId, customerId, sku, region] = process.argv.slice(2);
if (region === undefined) {
  console.error("usage: node place_order.js ADDRESS ORDER_ID CUSTOMER_ID SKU REGION");
  process.exit(2);
}
const headers: Record<string, string> = {};
const tokenFile = process.env.SHELFLINE_TOKEN_FILE;
if (tokenFile) {
  headers.authorization = `Bearer ${readFileSync(tokenFile, "ascii").trim()}`;
}
const options = { headers, timeoutMs: 10_000 };

// Plaintext HTTP/2, as the tests run it; an https:// base URL (and
// nodeOptions with the CA) for a suite on TLS.
const transport = createGrpcTransport({ baseUrl: `http://${address}` });
const desk = createClient(ServiceDeskService, transport);

try {
  const placed = await desk.placeOrder(
    { orderId, customerId, region, lines: [{ sku, qty: 1n }], allowBackorder: true },
    options,
  );
  const order = placed.order;
  // Enum values by their names in the .proto (protobuf-es shortens the
  // TypeScript names of prefixed ones: EtaConfidence.HIGH).
  console.log(
    `placed ${order?.orderId}: ${OrderStatusSchema.value[order?.status ?? 0].name}, ` +
      `promised p50 ${order?.promised?.p50Date} p90 ${order?.promised?.p90Date}`,
  );

  const eta = await desk.getOrderEta({ orderId }, options);
  console.log(
    `eta ${eta.orderId}: p50 ${eta.current?.p50Date} p90 ${eta.current?.p90Date}, ` +
      `${EtaConfidenceSchema.value[eta.current?.confidence ?? 0].name}`,
  );
} catch (e) {
  const err = ConnectError.from(e);
  console.error(`place_order: ${err.message}`);
  process.exit(1);
}
