#!/usr/bin/python3
"""grpc.health.v1.Health/Check with the official Python gRPC (Debian's
python3-grpcio).  Run it with /usr/bin/python3: Debian's modules are not on
other interpreters' paths.

usage: health_check.py ADDRESS SERVICE EXPECTED
  ADDRESS   host:port, e.g. 127.0.0.1:50051
  SERVICE   the service name to ask about; "" is the server as a whole
  EXPECTED  SERVING, NOT_SERVING or SERVICE_UNKNOWN (a Check on a service
            the server does not know must fail with status NOT_FOUND), or
            REFUSED: no answer at all (a TLS handshake the server refuses)

Exits 0 when the answer is the expected one, 1 when it is not (or no answer
came), 2 on bad usage.  Each attempt has a deadline and waits for the
channel to be ready, so a server that is still starting is tolerated; an
attempt that ends UNAVAILABLE or DEADLINE_EXCEEDED is retried a bounded
number of times.  SHELFLINE_HEALTH_DEADLINE (seconds per attempt, default 5)
and SHELFLINE_HEALTH_ATTEMPTS (default 3) change those bounds.

TLS: with SHELFLINE_TEST_TLS_CA (a PEM CA file) the channel is TLS and
verifies the server with it; SHELFLINE_TEST_TLS_CERT and _KEY add a client
certificate (mTLS).

The two messages are one-field protobufs, encoded and decoded here by hand
(Debian ships no generated health stubs for Python):
  HealthCheckRequest  { string service = 1; }
  HealthCheckResponse { ServingStatus status = 1; }
"""
import os
import socket
import sys
import time

import grpc

METHOD = "/grpc.health.v1.Health/Check"
STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
EXPECTATIONS = ("SERVING", "NOT_SERVING", "SERVICE_UNKNOWN", "REFUSED")
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class DecodeError(Exception):
    pass


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise DecodeError("varint longer than 10 bytes")


def encode_request(service):
    raw = service.encode("utf-8")
    if not raw:
        return b""  # proto3: the default value is not on the wire
    return b"\x0a" + _varint(len(raw)) + raw  # field 1, wire type 2


def decode_response(data):
    """Returns the status field (0 when absent); skips unknown fields."""
    status = 0
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise DecodeError("field number 0")
        if wire == 0:
            value, pos = _read_varint(data, pos)
            if field == 1:
                status = value & 0xFFFFFFFF  # enums are int32 on the wire
                if status >= 1 << 31:
                    status -= 1 << 32
        elif wire == 1:
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(data, pos)
            pos += length
        elif wire == 5:
            pos += 4
        else:
            raise DecodeError("unsupported wire type %d" % wire)
        if pos > len(data):
            raise DecodeError("truncated field %d" % field)
    return status


def _env_number(name, default, kind):
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if value <= 0:
        print("health_check.py: %s must be a positive number, not %r" % (name, raw),
              file=sys.stderr)
        sys.exit(2)
    return value


def probe(address):
    """Says whether anything accepts TCP connections at host:port."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return ""
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
        return "; %s accepts connections but gave no gRPC answer in time" % address
    except OSError as err:
        return "; nothing accepts connections at %s (%s)" % (address, err.strerror or err)


def check(address, service, deadline, attempts):
    """Returns (code, status, details) of the last attempt; status is None
    unless code is OK."""
    options = [
        ("grpc.enable_http_proxy", 0),  # loopback: never via a proxy
        # Notice a server that is still starting soon after it listens.
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ]
    ca = os.environ.get("SHELFLINE_TEST_TLS_CA", "")
    if ca:
        def read(var):
            name = os.environ.get(var, "")
            if not name:
                return None
            with open(name, "rb") as f:
                return f.read()
        creds = grpc.ssl_channel_credentials(read("SHELFLINE_TEST_TLS_CA"),
                                             read("SHELFLINE_TEST_TLS_KEY"),
                                             read("SHELFLINE_TEST_TLS_CERT"))
        channel = grpc.secure_channel(address, creds, options=options)
    else:
        channel = grpc.insecure_channel(address, options=options)
    with channel:
        call = channel.unary_unary(
            METHOD,
            request_serializer=encode_request,
            response_deserializer=lambda b: b,  # decoded below, errors reported
        )
        for attempt in range(1, attempts + 1):
            try:
                raw = call(service, timeout=deadline, wait_for_ready=True)
                return grpc.StatusCode.OK, decode_response(raw), ""
            except grpc.RpcError as err:
                code, details = err.code(), err.details() or ""
            if code not in RETRYABLE or attempt == attempts:
                return code, None, details
            print("health_check.py: attempt %d/%d: %s (%s), retrying"
                  % (attempt, attempts, code.name, details), file=sys.stderr)
            time.sleep(min(0.2 * attempt, 1.0))
    raise AssertionError("unreachable")


def main(argv):
    if len(argv) != 4 or argv[3] not in EXPECTATIONS:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    address, service, expected = argv[1], argv[2], argv[3]
    deadline = _env_number("SHELFLINE_HEALTH_DEADLINE", 5.0, float)
    attempts = _env_number("SHELFLINE_HEALTH_ATTEMPTS", 3, int)
    what = "python Health.Check(%r) at %s" % (service, address)

    try:
        code, status, details = check(address, service, deadline, attempts)
    except DecodeError as err:
        print("FAIL %s: undecodable HealthCheckResponse: %s" % (what, err), file=sys.stderr)
        return 1

    if code == grpc.StatusCode.OK:
        got = STATUS_NAMES.get(status, "unknown enum value %d" % status)
        if status == 3:
            # The protocol reserves SERVICE_UNKNOWN for Watch; Check must
            # fail with NOT_FOUND instead.
            got += " in an OK Check response (the health protocol says NOT_FOUND)"
    elif code == grpc.StatusCode.NOT_FOUND:
        got = "SERVICE_UNKNOWN"
    elif code in RETRYABLE and expected == "REFUSED":
        got = "REFUSED"
    elif code in RETRYABLE:
        got = "no answer after %d attempt(s) of %gs each: %s (%s)%s" % (
            attempts, deadline, code.name, details, probe(address))
    elif code == grpc.StatusCode.UNIMPLEMENTED:
        got = "UNIMPLEMENTED: the server does not serve grpc.health.v1.Health (%s)" % details
    else:
        got = "status %s (%s)" % (code.name, details)

    if got == expected:
        print("ok %s -> %s" % (what, got))
        return 0
    print("FAIL %s: expected %s, got %s" % (what, expected, got), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
