// Command reflection_client checks a Shelfline service's server reflection
// with grpc-go's own reflection types, knowing no .proto file of the suite:
//
//  1. over grpc.reflection.v1alpha.ServerReflection (the generated client),
//     on one stream: list the services, fetch the file that holds
//     shelfline.v1.InventoryService (and, by file name, any import the
//     server left out because this stream had it already), ask for an
//     unknown symbol (an error_response, NOT_FOUND);
//  2. the same over grpc.reflection.v1 through a raw stream with the
//     v1alpha Go types (the two versions are the same on the wire; the
//     Debian grpc-go has no v1 package);
//  3. builds the descriptors with protodesc, and with dynamicpb messages of
//     the methods' types calls CreateProduct and then GetProduct, checking
//     the product comes back.
//
// usage: reflection_client -addr HOST:PORT [-token T]
// Prints one line per check; exits 1 on the first failure.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const inventory = "shelfline.v1.InventoryService"

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// stream is what both versions' streams offer.
type stream interface {
	SendMsg(m interface{}) error
	RecvMsg(m interface{}) error
	CloseSend() error
}

func ask(s stream, req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
	if err := s.SendMsg(req); err != nil {
		fail("send %v: %v", req, err)
	}
	resp := &rpb.ServerReflectionResponse{}
	if err := s.RecvMsg(resp); err != nil {
		fail("receive the answer to %v: %v", req, err)
	}
	return resp
}

// files asks for the file holding symbol and then, by name, every import
// not received yet; returns every file received, by name.
func files(s stream, symbol string) map[string]*descriptorpb.FileDescriptorProto {
	got := map[string]*descriptorpb.FileDescriptorProto{}
	add := func(resp *rpb.ServerReflectionResponse, what string) {
		fr := resp.GetFileDescriptorResponse()
		if fr == nil || len(fr.FileDescriptorProto) == 0 {
			fail("%s: no file_descriptor_response but %v", what, resp.MessageResponse)
		}
		for _, b := range fr.FileDescriptorProto {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(b, fd); err != nil {
				fail("%s: a FileDescriptorProto does not decode: %v", what, err)
			}
			got[fd.GetName()] = fd
		}
	}
	add(ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol},
	}), symbol)
	for missing := true; missing; {
		missing = false
		for _, fd := range got {
			for _, dep := range fd.Dependency {
				if got[dep] == nil {
					missing = true
					add(ask(s, &rpb.ServerReflectionRequest{
						MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: dep},
					}), dep)
				}
			}
		}
	}
	return got
}

// check runs the reflection questions on one stream of either version and
// returns the files of the inventory service.
func check(version string, s stream) map[string]*descriptorpb.FileDescriptorProto {
	resp := ask(s, &rpb.ServerReflectionRequest{
		Host:           "reflection-client",
		MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: ""},
	})
	listed := map[string]bool{}
	for _, sr := range resp.GetListServicesResponse().GetService() {
		listed[sr.Name] = true
	}
	for _, want := range []string{inventory, "grpc.health.v1.Health",
		"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} {
		if !listed[want] {
			fail("%s list_services: %s missing from %v", version, want, listed)
		}
	}
	if resp.ValidHost != "reflection-client" {
		fail("%s: valid_host %q", version, resp.ValidHost)
	}
	fmt.Printf("ok: %s list_services: %d services\n", version, len(listed))

	got := files(s, inventory)
	if got["shelfline/v1/inventory.proto"] == nil {
		fail("%s: shelfline/v1/inventory.proto not received", version)
	}
	fmt.Printf("ok: %s file_containing_symbol %s: %d files with imports\n", version, inventory, len(got))

	bad := ask(s, &rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "shelfline.v1.NoSuchThing"},
	})
	if e := bad.GetErrorResponse(); e == nil || codes.Code(e.ErrorCode) != codes.NotFound {
		fail("%s unknown symbol: want error_response NOT_FOUND, got %v", version, bad.MessageResponse)
	}
	fmt.Printf("ok: %s unknown symbol: NOT_FOUND %q\n", version, bad.GetErrorResponse().ErrorMessage)

	if err := s.CloseSend(); err != nil {
		fail("%s close: %v", version, err)
	}
	if err := s.RecvMsg(&rpb.ServerReflectionResponse{}); err != io.EOF {
		fail("%s: stream did not end with OK after half-close: %v", version, err)
	}
	return got
}

// dynCodec carries protobuf APIv2 messages (dynamicpb), which the
// APIv1-based codec of this grpc-go cannot marshal.
type dynCodec struct{}

func (dynCodec) Marshal(v interface{}) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }
func (dynCodec) Unmarshal(b []byte, v interface{}) error {
	return proto.Unmarshal(b, v.(proto.Message))
}
func (dynCodec) Name() string { return "proto" }

func call(ctx context.Context, conn *grpc.ClientConn, sd protoreflect.ServiceDescriptor,
	method string, fill func(m *dynamicpb.Message)) *dynamicpb.Message {
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		fail("method %s.%s not in the reflected descriptor", sd.FullName(), method)
	}
	in := dynamicpb.NewMessage(md.Input())
	fill(in)
	out := dynamicpb.NewMessage(md.Output())
	full := fmt.Sprintf("/%s/%s", sd.FullName(), md.Name())
	if err := conn.Invoke(ctx, full, in, out, grpc.ForceCodec(dynCodec{})); err != nil {
		fail("%s: %v", full, err)
	}
	return out
}

func main() {
	addr := flag.String("addr", "", "the service's host:port")
	token := flag.String("token", "", "bearer token (a JWT the service accepts)")
	flag.Parse()
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "usage: reflection_client -addr HOST:PORT [-token T]")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if *token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
	}
	conn, err := grpc.DialContext(ctx, *addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fail("dial %s: %v", *addr, err)
	}
	defer conn.Close()

	alpha, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		fail("v1alpha stream: %v", err)
	}
	got := check("v1alpha", alpha)

	v1, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true},
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
	if err != nil {
		fail("v1 stream: %v", err)
	}
	check("v1", v1)

	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range got {
		set.File = append(set.File, fd)
	}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		fail("protodesc.NewFiles: %v", err)
	}
	d, err := reg.FindDescriptorByName(inventory)
	if err != nil {
		fail("%s not in the reflected files: %v", inventory, err)
	}
	sd := d.(protoreflect.ServiceDescriptor)

	sku := fmt.Sprintf("REFL-%d", time.Now().UnixNano()%1000000)
	call(ctx, conn, sd, "CreateProduct", func(m *dynamicpb.Message) {
		pf := m.Descriptor().Fields().ByName("product")
		p := m.NewField(pf).Message()
		p.Set(p.Descriptor().Fields().ByName("sku"), protoreflect.ValueOfString(sku))
		p.Set(p.Descriptor().Fields().ByName("name"), protoreflect.ValueOfString("Reflected kettle"))
		p.Set(p.Descriptor().Fields().ByName("category"), protoreflect.ValueOfString("kitchen"))
		mf := p.Descriptor().Fields().ByName("price")
		money := p.NewField(mf).Message()
		money.Set(money.Descriptor().Fields().ByName("minor_units"), protoreflect.ValueOfInt64(2999))
		money.Set(money.Descriptor().Fields().ByName("currency"), protoreflect.ValueOfString("EUR"))
		p.Set(mf, protoreflect.ValueOfMessage(money))
		m.Set(pf, protoreflect.ValueOfMessage(p))
	})
	out := call(ctx, conn, sd, "GetProduct", func(m *dynamicpb.Message) {
		m.Set(m.Descriptor().Fields().ByName("sku"), protoreflect.ValueOfString(sku))
	})
	name := out.Get(out.Descriptor().Fields().ByName("name")).String()
	if name != "Reflected kettle" {
		fail("GetProduct %s: name %q", sku, name)
	}
	fmt.Printf("ok: CreateProduct and GetProduct %s with reflected types: %q\n", sku, name)

	// Unknown SKU: the service's own NOT_FOUND through the same path.
	in := dynamicpb.NewMessage(sd.Methods().ByName("GetProduct").Input())
	in.Set(in.Descriptor().Fields().ByName("sku"), protoreflect.ValueOfString(sku+"-NONE"))
	err = conn.Invoke(ctx, "/"+inventory+"/GetProduct", in,
		dynamicpb.NewMessage(sd.Methods().ByName("GetProduct").Output()), grpc.ForceCodec(dynCodec{}))
	if status.Code(err) != codes.NotFound {
		fail("GetProduct of an unknown SKU: want NOT_FOUND, got %v", err)
	}
	fmt.Println("ok: GetProduct of an unknown SKU: NOT_FOUND")
}
