#!/usr/bin/python3
"""Seeds forecasting and customer-value for the command-line client's test
(run_cli.sh), through their APIs with the Python stubs generated from
proto/: 90 days of sales of CLIENT-SKU in region CLIENTS (so `shelfline
forecast CLIENT-SKU CLIENTS` has a history), and customer C-CLI with two
orders (so `shelfline clv C-CLI` has a value).  Inventory is seeded by
tests/clients/seed.py.  Idempotent: purchases are keyed by order id.

usage: seed_cli.py GENERATED_DIR FORECASTING_ADDRESS CUSTOMER_VALUE_ADDRESS
With SHELFLINE_TOKEN_FILE set, calls carry its bearer token (roles planner
and storefront).
"""
import datetime
import os
import sys

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")

import grpc  # noqa: E402
from shelfline.v1 import common_pb2 as common  # noqa: E402
from shelfline.v1 import customer_value_pb2 as cv  # noqa: E402
from shelfline.v1 import customer_value_pb2_grpc as cv_grpc  # noqa: E402
from shelfline.v1 import forecasting_pb2 as fc  # noqa: E402
from shelfline.v1 import forecasting_pb2_grpc as fc_grpc  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    metadata = []
    token_file = os.environ.get("SHELFLINE_TOKEN_FILE")
    if token_file:
        with open(token_file, encoding="ascii") as f:
            metadata.append(("authorization", "Bearer " + f.read().strip()))
    kw = {"timeout": 20, "metadata": metadata}
    today = datetime.date.today()
    rows = [fc.SalesRow(sku="CLIENT-SKU", region="CLIENTS",
                        day=(today - datetime.timedelta(days=d)).isoformat(),
                        units=10 + (d * 7) % 5)
            for d in range(1, 91)]
    with grpc.insecure_channel(sys.argv[2]) as channel:
        fc_grpc.ForecastingServiceStub(channel).RecordSales(fc.RecordSalesRequest(rows=rows), **kw)
    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    with grpc.insecure_channel(sys.argv[3]) as channel:
        stub = cv_grpc.CustomerValueServiceStub(channel)
        stub.UpsertCustomer(cv.UpsertCustomerRequest(
            customer_id="C-CLI", region="CLIENTS", signed_up_at_ms=now_ms - 200 * 86400000), **kw)
        for k, days_ago in enumerate((120, 30)):
            price = common.Money(minor_units=1999 * (k + 1), currency="EUR")
            stub.RecordPurchase(cv.RecordPurchaseRequest(
                order_id=f"CLI-SEED-{k}", customer_id="C-CLI",
                at_ms=now_ms - days_ago * 86400000, amount=price,
                lines=[cv.PurchaseLine(sku="CLIENT-SKU", category="examples", qty=k + 1,
                                       amount=price)]), **kw)
    print("seeded CLIENT-SKU sales x 90 days in CLIENTS, customer C-CLI with 2 orders")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print(f"seed_cli.py: {e.code().name}: {e.details()}", file=sys.stderr)
        sys.exit(1)
