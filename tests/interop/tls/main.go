// A grpc-go client (Debian's golang-google-grpc-dev) that calls
// grpc.health.v1.Health/Check over TLS or mTLS and says whether the server
// answered SERVING or refused the connection.
//
// usage: tls-client -addr HOST:PORT -ca CA.pem [-cert C.pem -key K.pem]
//
//	[-plaintext] -expect SERVING|REFUSED
//
// Exits 0 when the outcome is the expected one, 1 otherwise.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL go "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	addr := flag.String("addr", "", "server host:port")
	ca := flag.String("ca", "", "PEM CA the server's certificate must chain to")
	cert := flag.String("cert", "", "client certificate (mTLS)")
	key := flag.String("key", "", "client key (mTLS)")
	plaintext := flag.Bool("plaintext", false, "no TLS at all")
	expect := flag.String("expect", "SERVING", "SERVING or REFUSED")
	flag.Parse()

	var opt grpc.DialOption
	what := "plaintext"
	if *plaintext {
		opt = grpc.WithInsecure()
	} else {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			fail("reading -ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificate in %s", *ca)
		}
		cfg := &tls.Config{RootCAs: pool}
		what = "TLS"
		if *cert != "" {
			pair, err := tls.LoadX509KeyPair(*cert, *key)
			if err != nil {
				fail("loading -cert/-key: %v", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
			what = "mTLS"
		}
		opt = grpc.WithTransportCredentials(credentials.NewTLS(cfg))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *addr, opt)
	if err != nil {
		fail("dial %s: %v", *addr, err)
	}
	defer conn.Close()
	callCtx, callCancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer callCancel()
	resp, err := healthpb.NewHealthClient(conn).Check(callCtx, &healthpb.HealthCheckRequest{})
	got := "REFUSED"
	if err == nil {
		got = resp.GetStatus().String()
	}
	if got != *expect {
		fail("%s Health.Check at %s: expected %s, got %s (%v)", what, *addr, *expect, got, err)
	}
	fmt.Printf("ok go %s Health.Check at %s -> %s\n", what, *addr, got)
}
