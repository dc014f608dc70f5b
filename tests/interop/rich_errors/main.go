// Shelfline's rich errors read by the official Go gRPC (Debian's
// golang-google-grpc-dev) the usual Go way: status.FromError(err).Details()
// with the google.rpc types of google.golang.org/genproto's errdetails
// (Debian's golang-google-genproto-dev).  The requests are encoded with
// protowire (golang-google-protobuf-dev) and sent through a pass-through
// codec, so the client needs no generated Shelfline code.
//
// usage: rich_errors_client -addr HOST:PORT -token T
//
// Three calls on a real inventory service, each checked:
//
//	GetProduct {sku: ""}            INVALID_ARGUMENT, BadRequest field "sku"
//	Reserve {lines: [{qty: 0}]}     INVALID_ARGUMENT, BadRequest field
//	                                "lines[0].qty"
//	GetProduct {sku: "NO-SUCH-SKU"} NOT_FOUND, ErrorInfo SKU_NOT_FOUND of
//	                                domain shelfline.v1 with metadata sku
//
// and in each the status's message is the call's.  Exits 0 when all pass.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawCodec sends and receives message bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func str(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func getProduct(sku string) []byte { return str(nil, 1, sku) }

func reserveZeroQty() []byte {
	line := str(nil, 1, "SKU-A") // ReserveLine.sku; qty (2) left 0
	b := str(nil, 1, "go-rich-1")
	b = str(b, 2, "c1")
	b = str(b, 3, "EAST")
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	return protowire.AppendBytes(b, line)
}

func main() {
	addr := flag.String("addr", "", "host:port of the inventory service")
	token := flag.String("token", "", "bearer token (SHELFLINE_AUTH_TOKEN)")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "usage: rich_errors_client -addr HOST:PORT [-token T]")
		os.Exit(2)
	}
	conn, err := grpc.Dial(*addr, grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithTimeout(30*time.Second))
	if err != nil {
		fmt.Println("go rich errors: could not connect:", err)
		os.Exit(1)
	}
	defer conn.Close()

	failWith := func(method string, req []byte) (*status.Status, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
		var resp []byte
		err := conn.Invoke(ctx, "/shelfline.v1.InventoryService/"+method, &req, &resp,
			grpc.ForceCodec(rawCodec{}))
		if err == nil {
			return nil, fmt.Errorf("%s succeeded", method)
		}
		st, ok := status.FromError(err)
		if !ok {
			return nil, fmt.Errorf("%s: not a gRPC status: %v", method, err)
		}
		if len(st.Proto().GetDetails()) == 0 {
			return nil, fmt.Errorf("%s: %s without details", method, st.Code())
		}
		return st, nil
	}

	badRequest := func(method string, req []byte, field string) error {
		st, err := failWith(method, req)
		if err != nil {
			return err
		}
		if st.Code() != codes.InvalidArgument {
			return fmt.Errorf("status %s, want InvalidArgument", st.Code())
		}
		var brs []*errdetails.BadRequest
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				brs = append(brs, br)
			}
		}
		if len(brs) != 1 || len(brs[0].FieldViolations) != 1 {
			return fmt.Errorf("BadRequest details %v", brs)
		}
		v := brs[0].FieldViolations[0]
		if v.Field != field {
			return fmt.Errorf("field %q, want %q", v.Field, field)
		}
		if v.Description != st.Message() {
			return fmt.Errorf("description %q is not the message %q", v.Description, st.Message())
		}
		return nil
	}

	checks := []struct {
		name string
		fn   func() error
	}{
		{"BadRequest sku", func() error { return badRequest("GetProduct", getProduct(""), "sku") }},
		{"BadRequest lines[0].qty", func() error {
			return badRequest("Reserve", reserveZeroQty(), "lines[0].qty")
		}},
		{"ErrorInfo SKU_NOT_FOUND", func() error {
			st, err := failWith("GetProduct", getProduct("NO-SUCH-SKU"))
			if err != nil {
				return err
			}
			if st.Code() != codes.NotFound {
				return fmt.Errorf("status %s, want NotFound", st.Code())
			}
			var eis []*errdetails.ErrorInfo
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					eis = append(eis, ei)
				}
			}
			if len(eis) != 1 {
				return fmt.Errorf("%d ErrorInfo details in %v", len(eis), st.Details())
			}
			ei := eis[0]
			if ei.Reason != "SKU_NOT_FOUND" || ei.Domain != "shelfline.v1" ||
				ei.Metadata["sku"] != "NO-SUCH-SKU" {
				return fmt.Errorf("ErrorInfo %v", ei)
			}
			return nil
		}},
	}
	passed, failed := 0, 0
	for _, c := range checks {
		if err := c.fn(); err != nil {
			fmt.Printf("go rich errors: %s: FAILED: %v\n", c.name, err)
			failed++
		} else {
			fmt.Printf("go rich errors: %s: ok\n", c.name)
			passed++
		}
	}
	fmt.Printf("go rich errors: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
