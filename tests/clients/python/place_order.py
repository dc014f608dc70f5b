#!/usr/bin/python3
"""Places an order with service-desk, then asks for its ETA: the Python
example of docs/CLIENTS.md, on stubs generated from proto/ alone
(protoc --python_out and grpc_python_plugin; Debian's python3-grpcio).

usage: place_order.py GENERATED_DIR ADDRESS ORDER_ID CUSTOMER_ID SKU REGION
  GENERATED_DIR  where protoc wrote shelfline/v1/*_pb2*.py
  ADDRESS        service-desk's gRPC address, host:port

With SHELFLINE_TOKEN_FILE set, each call carries its bearer token (a
suite started without SHELFLINE_AUTH=none asks for one, role storefront
for PlaceOrder, cs-agent or storefront for GetOrderEta).
"""
import os
import sys

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")

import grpc  # noqa: E402
from shelfline.v1 import service_desk_pb2 as sd  # noqa: E402
from shelfline.v1 import service_desk_pb2_grpc as sd_grpc  # noqa: E402


def main():
    if len(sys.argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    _, _, address, order_id, customer_id, sku, region = sys.argv
    metadata = []
    token_file = os.environ.get("SHELFLINE_TOKEN_FILE")
    if token_file:
        with open(token_file, encoding="ascii") as f:
            metadata.append(("authorization", "Bearer " + f.read().strip()))

    with grpc.insecure_channel(address) as channel:
        desk = sd_grpc.ServiceDeskServiceStub(channel)
        placed = desk.PlaceOrder(
            sd.PlaceOrderRequest(
                order_id=order_id,
                customer_id=customer_id,
                region=region,
                lines=[sd.OrderLineRequest(sku=sku, qty=1)],
                allow_backorder=True,
            ),
            timeout=10,
            metadata=metadata,
        )
        order = placed.order
        print(f"placed {order.order_id}: {sd.OrderStatus.Name(order.status)}, "
              f"promised p50 {order.promised.p50_date} p90 {order.promised.p90_date}")

        eta = desk.GetOrderEta(sd.GetOrderEtaRequest(order_id=order_id),
                               timeout=10, metadata=metadata)
        print(f"eta {eta.order_id}: p50 {eta.current.p50_date} p90 {eta.current.p90_date}, "
              f"{sd.EtaConfidence.Name(eta.current.confidence)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print(f"place_order.py: {e.code().name}: {e.details()}", file=sys.stderr)
        sys.exit(1)
