#!/usr/bin/python3
"""Seeds the suite for the command-line client's test (run_cli.sh) through
the services' APIs, with the Python stubs generated from proto/, under
names of the run's own (RUN: digits), so that other tests sharing the
database neither see nor move them:
  inventory       warehouse WH-RUN (UTC, cut-off 23:59) serving region
                  R-RUN in 2 to 4 days, product SKU-RUN at 19.99 EUR,
                  1,000 units of it;
  forecasting     90 days of sales of SKU-RUN in R-RUN (`shelfline
                  forecast` has a history);
  customer-value  customer C-RUN with two orders, 19.99 and 39.98 EUR
                  (`shelfline clv` has a value).

usage: seed_cli.py GENERATED_DIR RUN INVENTORY FORECASTING CUSTOMER_VALUE
(the last three: addresses).  With SHELFLINE_TOKEN_FILE set, calls carry
its bearer token (roles stock-admin, planner, storefront).
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
from shelfline.v1 import inventory_pb2 as inv  # noqa: E402
from shelfline.v1 import inventory_pb2_grpc as inv_grpc  # noqa: E402

DAY_MS = 86400000


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    run = sys.argv[2]
    sku, wh, region, customer = f"SKU-{run}", f"WH-{run}", f"R-{run}", f"C-{run}"
    metadata = []
    token_file = os.environ.get("SHELFLINE_TOKEN_FILE")
    if token_file:
        with open(token_file, encoding="ascii") as f:
            metadata.append(("authorization", "Bearer " + f.read().strip()))
    kw = {"timeout": 20, "metadata": metadata}

    with grpc.insecure_channel(sys.argv[3]) as channel:
        stub = inv_grpc.InventoryServiceStub(channel)
        stub.CreateWarehouse(inv.CreateWarehouseRequest(warehouse=inv.Warehouse(
            warehouse_id=wh, name="CLI test", region=region,
            kind=inv.Warehouse.DISTRIBUTION_CENTER, location="Loopback",
            time_zone="UTC", ship_cutoff="23:59", active=True)), **kw)
        stub.CreateTransitTime(inv.CreateTransitTimeRequest(transit_time=inv.TransitTime(
            warehouse_id=wh, region=region, p50_days=2, p90_days=4)), **kw)
        stub.CreateProduct(inv.CreateProductRequest(product=inv.Product(
            sku=sku, name="CLI test item", category="examples", brand="Shelfline",
            price=common.Money(minor_units=1999, currency="EUR"))), **kw)
        stub.AdjustStock(inv.AdjustStockRequest(
            request_id=f"cli-seed-{run}", sku=sku, warehouse_id=wh, delta=1000,
            reason=inv.LedgerEntry.RECEIPT, reference="cli test"), **kw)
        # A second product, never stocked: the feed's out_of_stock row.
        stub.CreateProduct(inv.CreateProductRequest(product=inv.Product(
            sku=f"{sku}-NONE", name="CLI test gap", category="examples",
            brand="Shelfline", price=common.Money(minor_units=500, currency="EUR"))), **kw)

    today = datetime.date.today()
    rows = [fc.SalesRow(sku=sku, region=region,
                        day=(today - datetime.timedelta(days=d)).isoformat(),
                        units=10 + (d * 7) % 5)
            for d in range(1, 91)]
    with grpc.insecure_channel(sys.argv[4]) as channel:
        fc_grpc.ForecastingServiceStub(channel).RecordSales(fc.RecordSalesRequest(rows=rows), **kw)

    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    with grpc.insecure_channel(sys.argv[5]) as channel:
        stub = cv_grpc.CustomerValueServiceStub(channel)
        stub.UpsertCustomer(cv.UpsertCustomerRequest(
            customer_id=customer, region=region, signed_up_at_ms=now_ms - 200 * DAY_MS), **kw)
        for k, days_ago in enumerate((120, 30)):
            price = common.Money(minor_units=1999 * (k + 1), currency="EUR")
            stub.RecordPurchase(cv.RecordPurchaseRequest(
                order_id=f"CLI-SEED-{run}-{k}", customer_id=customer,
                at_ms=now_ms - days_ago * DAY_MS, amount=price,
                lines=[cv.PurchaseLine(sku=sku, category="examples", qty=k + 1,
                                       amount=price)]), **kw)
    print(f"seeded {wh} -> {region}, {sku} x 1000 with 90 days of sales, {customer} with 2 orders")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print(f"seed_cli.py: {e.code().name}: {e.details()}", file=sys.stderr)
        sys.exit(1)
