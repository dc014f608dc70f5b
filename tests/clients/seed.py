#!/usr/bin/python3
"""Seeds a running inventory service with what the client examples order:
one warehouse (WH-CLIENTS, UTC, cut-off 23:59) serving region CLIENTS in
2 to 4 days, one product (CLIENT-SKU) and 1,000 units of it, through
inventory's API with the Python stubs generated from proto/.  Idempotent:
every create compares with what exists, the stock adjustment has a fixed
request id.

usage: seed.py GENERATED_DIR ADDRESS
With SHELFLINE_TOKEN_FILE set, calls carry its bearer token (role
stock-admin).
"""
import os
import sys

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")

import grpc  # noqa: E402
from shelfline.v1 import common_pb2 as common  # noqa: E402
from shelfline.v1 import inventory_pb2 as inv  # noqa: E402
from shelfline.v1 import inventory_pb2_grpc as inv_grpc  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    metadata = []
    token_file = os.environ.get("SHELFLINE_TOKEN_FILE")
    if token_file:
        with open(token_file, encoding="ascii") as f:
            metadata.append(("authorization", "Bearer " + f.read().strip()))
    with grpc.insecure_channel(sys.argv[2]) as channel:
        stub = inv_grpc.InventoryServiceStub(channel)
        kw = {"timeout": 10, "metadata": metadata}
        stub.CreateWarehouse(inv.CreateWarehouseRequest(warehouse=inv.Warehouse(
            warehouse_id="WH-CLIENTS", name="Client examples", region="CLIENTS",
            kind=inv.Warehouse.DISTRIBUTION_CENTER, location="Loopback",
            time_zone="UTC", ship_cutoff="23:59", active=True)), **kw)
        stub.CreateTransitTime(inv.CreateTransitTimeRequest(transit_time=inv.TransitTime(
            warehouse_id="WH-CLIENTS", region="CLIENTS", p50_days=2, p90_days=4)), **kw)
        stub.CreateProduct(inv.CreateProductRequest(product=inv.Product(
            sku="CLIENT-SKU", name="Client example item", category="examples",
            brand="Shelfline", price=common.Money(minor_units=1999, currency="EUR"))), **kw)
        stub.AdjustStock(inv.AdjustStockRequest(
            request_id="clients-seed-stock", sku="CLIENT-SKU", warehouse_id="WH-CLIENTS",
            delta=1000, reason=inv.LedgerEntry.RECEIPT, reference="client examples"), **kw)
    print("seeded WH-CLIENTS -> CLIENTS, CLIENT-SKU x 1000")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print(f"seed.py: {e.code().name}: {e.details()}", file=sys.stderr)
        sys.exit(1)
