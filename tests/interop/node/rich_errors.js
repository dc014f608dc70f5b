#!/usr/bin/env node
// Shelfline's rich errors read by the official Node gRPC (@grpc/grpc-js):
// the grpc-status-details-bin trailer decoded as a google.rpc.Status by
// protobufjs (the parser under @grpc/proto-loader) from the .proto files
// Debian ships: google/rpc/status.proto and error_details.proto
// (golang-github-gogo-googleapis-dev), google/protobuf/*.proto
// (libprotobuf-dev), and the service from the repository's proto/.
//
// usage: node rich_errors.js ADDRESS TOKEN PROTO_DIR GOOGLEAPIS_DIR PROTOBUF_DIR
//
// Three calls on a real inventory service, each checked:
//   GetProduct {sku: ""}            INVALID_ARGUMENT, BadRequest field "sku"
//   Reserve {lines: [{qty: 0}]}     INVALID_ARGUMENT, BadRequest field
//                                   "lines[0].qty"
//   GetProduct {sku: "NO-SUCH-SKU"} NOT_FOUND, ErrorInfo SKU_NOT_FOUND of
//                                   domain shelfline.v1 with metadata sku
// and in each the Status's code and message equal the call's.  Exits 0
// when all pass.
'use strict';

const path = require('path');
const fs = require('fs');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const [address, token, protoDir, googleapisDir, protobufDir] = process.argv.slice(2);
if (!protobufDir) {
  console.error('usage: node rich_errors.js ADDRESS TOKEN PROTO_DIR GOOGLEAPIS_DIR PROTOBUF_DIR');
  process.exit(2);
}
const includeDirs = [protoDir, googleapisDir, protobufDir];

// The google.rpc types, from Debian's .proto files (not protobufjs' bundled
// copies of the well-known types).
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const dir of includeDirs) {
    const p = path.join(dir, target);
    if (fs.existsSync(p)) return p;
  }
  return target;
};
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
const Status = root.lookupType('google.rpc.Status');
const BadRequest = root.lookupType('google.rpc.BadRequest');
const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');

const def = protoLoader.loadSync('shelfline/v1/inventory.proto', {
  includeDirs, keepCase: true, defaults: true,
});
const Inventory = grpc.loadPackageDefinition(def).shelfline.v1.InventoryService;
const client = new Inventory(address, grpc.credentials.createInsecure());
const md = new grpc.Metadata();
md.set('authorization', `Bearer ${token}`);

function failWith(method, request) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 20000);
    client[method](request, md, { deadline }, (err) => {
      if (!err) return reject(new Error(`${method} succeeded`));
      const raw = err.metadata.get('grpc-status-details-bin');
      if (raw.length !== 1) return reject(new Error(`${method}: ${err.code} without details`));
      const st = Status.decode(raw[0]);
      if (st.code !== err.code || st.message !== err.details) {
        return reject(new Error(`${method}: Status ${st.code} "${st.message}" differs from ` +
                                `the call's ${err.code} "${err.details}"`));
      }
      resolve({ code: err.code, st });
    });
  });
}

function details(st, type) {
  const url = `type.googleapis.com/${type.fullName.replace(/^\./, '')}`;
  return st.details.filter((a) => a.type_url === url).map((a) => type.decode(a.value));
}

function assert(ok, what) {
  if (!ok) throw new Error(what);
}

async function badRequest(method, request, field) {
  const { code, st } = await failWith(method, request);
  assert(code === grpc.status.INVALID_ARGUMENT, `status ${code}, want INVALID_ARGUMENT`);
  const brs = details(st, BadRequest);
  assert(brs.length === 1, `${brs.length} BadRequest details`);
  const got = brs[0].field_violations.map((v) => v.field);
  assert(got.length === 1 && got[0] === field, `fields ${JSON.stringify(got)}, want ["${field}"]`);
  assert(brs[0].field_violations[0].description === st.message, 'description is not the message');
}

const checks = [
  ['BadRequest sku', () => badRequest('GetProduct', { sku: '' }, 'sku')],
  ['BadRequest lines[0].qty', () => badRequest('Reserve', {
    reservation_id: 'node-rich-1', customer_id: 'c1', region: 'EAST',
    lines: [{ sku: 'SKU-A', qty: 0 }],
  }, 'lines[0].qty')],
  ['ErrorInfo SKU_NOT_FOUND', async () => {
    const { code, st } = await failWith('GetProduct', { sku: 'NO-SUCH-SKU' });
    assert(code === grpc.status.NOT_FOUND, `status ${code}, want NOT_FOUND`);
    const eis = details(st, ErrorInfo);
    assert(eis.length === 1, `${eis.length} ErrorInfo details`);
    assert(eis[0].reason === 'SKU_NOT_FOUND', `reason ${eis[0].reason}`);
    assert(eis[0].domain === 'shelfline.v1', `domain ${eis[0].domain}`);
    assert(eis[0].metadata.sku === 'NO-SUCH-SKU', `metadata ${JSON.stringify(eis[0].metadata)}`);
  }],
];

(async () => {
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      console.log(`node rich errors: ${name}: ok`);
      passed++;
    } catch (e) {
      console.log(`node rich errors: ${name}: FAILED: ${e.message}`);
      failed++;
    }
  }
  console.log(`node rich errors: ${passed} passed, ${failed} failed`);
  client.close();
  process.exit(failed === 0 ? 0 : 1);
})();
