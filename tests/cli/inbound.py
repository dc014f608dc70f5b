#!/usr/bin/python3
"""An inbound shipment for the command-line client's test (run_cli.sh):
`create` makes purchase order IN-RUN of 100 SKU-RUN to WH-RUN (the names
seed_cli.py made for the run), expected in 5 days (so an order larger than the stock backorders on it);
`delay` moves it 4 days later, which moves the ETA of the orders waiting on
it and tells their customers (a NOTIFICATION_DELAY to watch).

usage: inbound.py GENERATED_DIR RUN INVENTORY_ADDRESS create|delay
With SHELFLINE_TOKEN_FILE set, calls carry its bearer token (stock-admin).
"""
import os
import sys
import time

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")

import grpc  # noqa: E402
from shelfline.v1 import inventory_pb2 as inv  # noqa: E402
from shelfline.v1 import inventory_pb2_grpc as inv_grpc  # noqa: E402

DAY_MS = 86400000


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("create", "delay"):
        print(__doc__, file=sys.stderr)
        return 2
    metadata = []
    token_file = os.environ.get("SHELFLINE_TOKEN_FILE")
    if token_file:
        with open(token_file, encoding="ascii") as f:
            metadata.append(("authorization", "Bearer " + f.read().strip()))
    now_ms = int(time.time() * 1000)
    run, action = sys.argv[2], sys.argv[4]
    with grpc.insecure_channel(sys.argv[3]) as channel:
        stub = inv_grpc.InventoryServiceStub(channel)
        kw = {"timeout": 10, "metadata": metadata}
        if action == "create":
            stub.CreateInbound(inv.CreateInboundRequest(
                inbound_id=f"IN-{run}", sku=f"SKU-{run}", warehouse_id=f"WH-{run}", qty=100,
                expected_at_ms=now_ms + 5 * DAY_MS, supplier="Loopback supply"), **kw)
        else:
            stub.DelayInbound(inv.DelayInboundRequest(
                inbound_id=f"IN-{run}", new_expected_at_ms=now_ms + 9 * DAY_MS,
                reason="supplier late"), **kw)
    print(f"inbound IN-{run}: {action} done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print(f"inbound.py: {e.code().name}: {e.details()}", file=sys.stderr)
        sys.exit(1)
