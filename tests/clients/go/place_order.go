// Command place_order places an order with service-desk, then asks for its
// ETA: the Go example of docs/CLIENTS.md, on code generated from proto/
// alone (protoc-gen-go and protoc-gen-go-grpc) into the package its
// go_package option names.
//
// usage: place_order ADDRESS ORDER_ID CUSTOMER_ID SKU REGION
//
// ADDRESS is service-desk's gRPC address, host:port.  With
// SHELFLINE_TOKEN_FILE set, each call carries its bearer token (role
// storefront).
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	shelflinev1 "shelfline.io/gen/go/shelfline/v1"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: place_order ADDRESS ORDER_ID CUSTOMER_ID SKU REGION")
		os.Exit(2)
	}
	address, orderID, customerID, sku, region := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if file := os.Getenv("SHELFLINE_TOKEN_FILE"); file != "" {
		token, err := os.ReadFile(file)
		check(err)
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization",
			"Bearer "+strings.TrimSpace(string(token)))
	}

	// Plaintext, as the tests run it; grpc.WithTransportCredentials with
	// credentials.NewClientTLSFromFile for a suite on TLS.
	conn, err := grpc.Dial(address, grpc.WithInsecure())
	check(err)
	defer conn.Close()
	desk := shelflinev1.NewServiceDeskServiceClient(conn)

	placed, err := desk.PlaceOrder(ctx, &shelflinev1.PlaceOrderRequest{
		OrderId:        orderID,
		CustomerId:     customerID,
		Region:         region,
		Lines:          []*shelflinev1.OrderLineRequest{{Sku: sku, Qty: 1}},
		AllowBackorder: true,
	})
	check(err)
	order := placed.GetOrder()
	fmt.Printf("placed %s: %s, promised p50 %s p90 %s\n", order.GetOrderId(), order.GetStatus(),
		order.GetPromised().GetP50Date(), order.GetPromised().GetP90Date())

	eta, err := desk.GetOrderEta(ctx, &shelflinev1.GetOrderEtaRequest{OrderId: orderID})
	check(err)
	fmt.Printf("eta %s: p50 %s p90 %s, %s\n", eta.GetOrderId(), eta.GetCurrent().GetP50Date(),
		eta.GetCurrent().GetP90Date(), eta.GetCurrent().GetConfidence())
}

// check ends the program on an error (a gRPC status prints its code and
// message).
func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "place_order: %v\n", err)
		os.Exit(1)
	}
}
