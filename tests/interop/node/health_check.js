#!/usr/bin/env node
// grpc.health.v1.Health/Check with the official Node gRPC (@grpc/grpc-js),
// the service loaded by @grpc/proto-loader from Debian's grpc-proto.
//
// usage: node health_check.js ADDRESS SERVICE EXPECTED
//   ADDRESS   host:port, e.g. 127.0.0.1:50051
//   SERVICE   the service name to ask about; "" is the server as a whole
//   EXPECTED  SERVING, NOT_SERVING or SERVICE_UNKNOWN (a Check on a service
//             the server does not know must fail with status NOT_FOUND), or
//             REFUSED: no answer at all (a TLS handshake the server refuses)
//
// Exits 0 when the answer is the expected one, 1 when it is not (or no
// answer came), 2 on bad usage.  Each attempt has a deadline and waits for
// the channel to be ready, so a server that is still starting is tolerated;
// an attempt that ends UNAVAILABLE or DEADLINE_EXCEEDED is retried a bounded
// number of times.  SHELFLINE_HEALTH_DEADLINE (seconds per attempt, default
// 5) and SHELFLINE_HEALTH_ATTEMPTS (default 3) change those bounds;
// SHELFLINE_GRPC_PROTO_DIR (default /usr/share/grpc-proto) is where
// grpc/health/v1/health.proto is read from.
//
// The modules come from the package.json beside this file, installed by
// run_health_client.sh into the build tree and found through NODE_PATH.
'use strict';

const fs = require('fs');
const net = require('net');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const EXPECTATIONS = ['SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN', 'REFUSED'];
const RETRYABLE = [grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED];
const statusName = (code) =>
  Object.keys(grpc.status).find((k) => grpc.status[k] === code) || `code ${code}`;

function envNumber(name, dflt, integer) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const value = Number(raw);
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    console.error(`health_check.js: ${name} must be a positive number, not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

function loadHealth() {
  const protoDir = process.env.SHELFLINE_GRPC_PROTO_DIR || '/usr/share/grpc-proto';
  const def = protoLoader.loadSync('grpc/health/v1/health.proto', {
    includeDirs: [protoDir],
    keepCase: true,
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(def).grpc.health.v1.Health;
}

// Says whether anything accepts TCP connections at host:port.
function probe(address) {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  if (!m) return Promise.resolve('');
  return new Promise((resolve) => {
    const sock = net.connect({ host: m[1], port: Number(m[2]) });
    const done = (msg) => { sock.destroy(); resolve(msg); };
    sock.setTimeout(2000, () => done(`; ${address} did not accept a connection within 2s`));
    sock.on('connect', () => done(`; ${address} accepts connections but gave no gRPC answer in time`));
    sock.on('error', (e) => done(`; nothing accepts connections at ${address} (${e.code || e.message})`));
  });
}

function checkOnce(client, service, deadlineSec) {
  return new Promise((resolve) => {
    const md = new grpc.Metadata({ waitForReady: true });
    const deadline = new Date(Date.now() + deadlineSec * 1000);
    client.Check({ service }, md, { deadline }, (err, resp) => resolve({ err, resp }));
  });
}

async function main(argv) {
  if (argv.length !== 3 || !EXPECTATIONS.includes(argv[2])) {
    console.error('usage: node health_check.js ADDRESS SERVICE EXPECTED\n' +
      '  EXPECTED is one of ' + EXPECTATIONS.join(', '));
    return 2;
  }
  const [address, service, expected] = argv;
  const deadlineSec = envNumber('SHELFLINE_HEALTH_DEADLINE', 5, false);
  const attempts = envNumber('SHELFLINE_HEALTH_ATTEMPTS', 3, true);
  const what = `node Health.Check(${JSON.stringify(service)}) at ${address}`;

  let Health;
  try {
    Health = loadHealth();
  } catch (e) {
    console.error(`FAIL ${what}: cannot load grpc/health/v1/health.proto: ${e.message}`);
    return 1;
  }
  // SHELFLINE_TEST_TLS_CA: TLS verifying the server with that PEM CA;
  // SHELFLINE_TEST_TLS_CERT and _KEY: with that client certificate (mTLS).
  const file = (v) => (process.env[v] ? fs.readFileSync(process.env[v]) : null);
  const creds = process.env.SHELFLINE_TEST_TLS_CA
    ? grpc.credentials.createSsl(file('SHELFLINE_TEST_TLS_CA'), file('SHELFLINE_TEST_TLS_KEY'),
      file('SHELFLINE_TEST_TLS_CERT'))
    : grpc.credentials.createInsecure();
  const client = new Health(address, creds, {
    'grpc.enable_http_proxy': 0, // loopback: never via a proxy
    // Notice a server that is still starting soon after it listens.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 1000,
  });

  let result;
  try {
    for (let attempt = 1; ; attempt++) {
      result = await checkOnce(client, service, deadlineSec);
      const code = result.err ? result.err.code : grpc.status.OK;
      if (!RETRYABLE.includes(code) || attempt === attempts) break;
      console.error(`health_check.js: attempt ${attempt}/${attempts}: ` +
        `${statusName(code)} (${result.err.details}), retrying`);
      await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 1000)));
    }
  } finally {
    client.close();
  }

  let got;
  const { err, resp } = result;
  if (!err) {
    got = typeof resp.status === 'number' ? `unknown enum value ${resp.status}` : resp.status;
    if (got === 'SERVICE_UNKNOWN') {
      // The protocol reserves SERVICE_UNKNOWN for Watch; Check must fail
      // with NOT_FOUND instead.
      got += ' in an OK Check response (the health protocol says NOT_FOUND)';
    }
  } else if (err.code === grpc.status.NOT_FOUND) {
    got = 'SERVICE_UNKNOWN';
  } else if (RETRYABLE.includes(err.code) && expected === 'REFUSED') {
    got = 'REFUSED';
  } else if (RETRYABLE.includes(err.code)) {
    got = `no answer after ${attempts} attempt(s) of ${deadlineSec}s each: ` +
      `${statusName(err.code)} (${err.details})${await probe(address)}`;
  } else if (err.code === grpc.status.UNIMPLEMENTED) {
    got = `UNIMPLEMENTED: the server does not serve grpc.health.v1.Health (${err.details})`;
  } else {
    got = `status ${statusName(err.code)} (${err.details})`;
  }

  if (got === expected) {
    console.log(`ok ${what} -> ${got}`);
    return 0;
  }
  console.error(`FAIL ${what}: expected ${expected}, got ${got}`);
  return 1;
}

main(process.argv.slice(2)).then(
  (rc) => { process.exitCode = rc; },
  (e) => { console.error(`FAIL health_check.js: ${e.stack || e}`); process.exitCode = 1; });
