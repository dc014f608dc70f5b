#!/usr/bin/python3
"""sl_json against an independent implementation of the proto3 JSON
mapping: Python's google.protobuf.json_format (Debian's python3-protobuf).

For every request and response type of the suite's four services (from
their service descriptors, as the generated Python modules know them),
COUNT random instances each -- every field set or not at random, integers
at their limits, strings with quotes, backslashes, control characters and
characters outside the BMP, bytes, enums by known and unknown numbers,
oneofs, nested and repeated messages -- must:

  1. encode in C (sl_json_encode) to JSON that json_format.Parse reads
     back into the same message, and that is, as parsed JSON, exactly what
     json_format.MessageToJson writes (names, 64-bit integers as strings,
     enum names, base64, defaults left out);
  2. decode in C (sl_json_decode) from json_format's JSON, with JSON names
     and with the proto field names, into the same message.

usage: json_roundtrip.py GEN_DIR TOOL [COUNT [SEED]]
  GEN_DIR  protoc --python_out of proto/ (shelfline/v1/*_pb2.py)
  TOOL     build/bin/shelfline-json-tool
"""
import base64
import json
import math
import random
import subprocess
import sys

sys.path.insert(0, sys.argv[1])
tool = sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 25
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 16
rng = random.Random(seed)

from google.protobuf import descriptor as pbd  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from google.protobuf import message_factory  # noqa: E402

from shelfline.v1 import customer_value_pb2, forecasting_pb2, inventory_pb2, service_desk_pb2  # noqa: E402

FD = pbd.FieldDescriptor
LIMITS = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1), FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1), FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1), FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1), FD.TYPE_FIXED64: (0, 2**64 - 1),
}
PIECES = ["a", "Z", "0", " ", '"', "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f", "é", "€",
          "日本", "\U0001F600", "\u2028", "SKU-1", "<b>", "'"]


def factory(desc):
    try:
        return message_factory.GetMessageClass(desc)
    except AttributeError:  # protobuf before 4.x
        return message_factory.MessageFactory().GetPrototype(desc)


def rand_int(ftype):
    lo, hi = LIMITS[ftype]
    r = rng.random()
    if r < 0.2:
        return rng.choice([lo, hi, 1, -1 if lo < 0 else 2])
    if r < 0.5:
        return rng.randint(max(lo, -1000), min(hi, 1000))
    return rng.randint(lo, hi)


def rand_double():
    r = rng.random()
    if r < 0.1:
        return rng.choice([math.inf, -math.inf, 1e308, -5e-324, 0.1, 1.0])
    if r < 0.5:
        return rng.uniform(-1e6, 1e6)
    return rng.choice([-1, 1]) * 10 ** rng.uniform(-300, 300)


def rand_value(f):
    t = f.type
    if t in LIMITS:
        return rand_int(t)
    if t == FD.TYPE_DOUBLE:
        v = rand_double()
        return v if v != 0 else 2.5  # -0.0 and 0.0: the default, left out
    if t == FD.TYPE_FLOAT:
        return rng.choice([0.5, -1.25, 3.0e38, 1.0e-38, 12345.678])
    if t == FD.TYPE_BOOL:
        return rng.random() < 0.5 or f.containing_oneof is not None
    if t == FD.TYPE_STRING:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
    if t == FD.TYPE_BYTES:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 7)))
    if t == FD.TYPE_ENUM:
        values = [v.number for v in f.enum_type.values]
        # Sometimes a number the enum does not name (open proto3 enums).
        return rng.choice(values + [max(values) + 7])
    raise ValueError("unexpected field type %d" % t)


def fill(msg, depth):
    desc = msg.DESCRIPTOR
    chosen_oneofs = {o.name: rng.choice(o.fields) for o in desc.oneofs if rng.random() < 0.7}
    for f in desc.fields:
        if f.containing_oneof is not None:
            if chosen_oneofs.get(f.containing_oneof.name) is not f:
                continue
        elif rng.random() < 0.3:
            continue
        if f.label == FD.LABEL_REPEATED:
            for _ in range(rng.randint(0, 3)):
                if f.type == FD.TYPE_MESSAGE:
                    if depth < 4:
                        fill(getattr(msg, f.name).add(), depth + 1)
                else:
                    getattr(msg, f.name).append(rand_value(f))
        elif f.type == FD.TYPE_MESSAGE:
            if depth < 4:
                sub = getattr(msg, f.name)
                sub.SetInParent()
                fill(sub, depth + 1)
        else:
            setattr(msg, f.name, rand_value(f))


class Tool:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        answer = self.p.stdout.readline().rstrip("\n")
        if not answer.startswith("OK"):
            raise AssertionError(answer or "shelfline-json-tool died")
        return answer[3:]


def main():
    types = {}
    for module in (inventory_pb2, forecasting_pb2, customer_value_pb2, service_desk_pb2):
        for svc in module.DESCRIPTOR.services_by_name.values():
            for m in svc.methods:
                types[m.input_type.full_name] = m.input_type
                types[m.output_type.full_name] = m.output_type
    t = Tool(tool)
    known = set(t.ask("T").split())
    missing = sorted(set(types) - known)
    if missing:
        raise SystemExit("json_roundtrip: the C tool lacks %s" % ", ".join(missing))
    failures = 0
    checked = 0
    for name in sorted(types):
        cls = factory(types[name])
        for i in range(count):
            msg = cls()
            if i > 0:  # the first instance of each type stays empty
                fill(msg, 0)
            pb = msg.SerializeToString()
            try:
                # 1. C encodes; Python reads and compares.
                c_json = t.ask("E %s %s" % (name, base64.b64encode(pb).decode()))
                back = json_format.Parse(c_json, cls())
                assert back == msg, "C's JSON reads back as %s" % back
                py_json = json_format.MessageToJson(msg)
                assert json.loads(c_json) == json.loads(py_json), \
                    "C wrote %s, json_format %s" % (c_json, py_json)
                # 2. Python encodes (both name styles); C reads.
                for text in (py_json, json_format.MessageToJson(msg, preserving_proto_field_name=True)):
                    out = t.ask("D %s %s" % (name, base64.b64encode(text.encode()).decode()))
                    got = cls.FromString(base64.b64decode(out))
                    assert got == msg, "C read %s as %s" % (text, got)
            except AssertionError as e:
                failures += 1
                if failures <= 5:
                    print("FAIL %s #%d: %s\n  message: %s" % (name, i, e, msg), file=sys.stderr)
            checked += 1
    print("json_roundtrip: %d types, %d messages, %d failures" % (len(types), checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
