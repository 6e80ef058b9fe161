// Command pstest runs Google's in-memory Pub/Sub fake (cloud.google.com/go/pubsub/pstest) as a
// standalone gRPC server for the local stack.
//
// Usage: pstest [PORT]. With a port it serves 127.0.0.1:PORT (the stack's fixed address for its
// work dir, so a restarted emulator keeps its address); without one, a free port. It prints one
// line "PSTEST_ADDR=host:port" on stdout once it is listening, then serves until SIGINT or
// SIGTERM. Built offline by emulators/pubsub.py with GO111MODULE=off GOPATH=/usr/share/gocode
// from Debian's golang-google-cloud-dev.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"cloud.google.com/go/pubsub/pstest"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"
	"google.golang.org/grpc"
)

func main() {
	// pstest.NewServer listens on a free port of its own; its state (GServer) is served on the
	// wanted address too, by a gRPC server of ours.
	srv := pstest.NewServer()
	addr := srv.Addr
	if len(os.Args) > 1 {
		port, err := strconv.Atoi(os.Args[1])
		if err != nil || port <= 0 || port > 65535 {
			fmt.Fprintf(os.Stderr, "usage: pstest [PORT]\n")
			os.Exit(2)
		}
		lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			fmt.Fprintf(os.Stderr, "pstest: listen: %v\n", err)
			os.Exit(1)
		}
		gsrv := grpc.NewServer()
		pb.RegisterPublisherServer(gsrv, &srv.GServer)
		pb.RegisterSubscriberServer(gsrv, &srv.GServer)
		go func() {
			if err := gsrv.Serve(lis); err != nil {
				fmt.Fprintf(os.Stderr, "pstest: serve: %v\n", err)
				os.Exit(1)
			}
		}()
		defer gsrv.Stop()
		addr = lis.Addr().String()
	}
	fmt.Printf("PSTEST_ADDR=%s\n", addr)
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "pstest: close: %v\n", err)
	}
}
