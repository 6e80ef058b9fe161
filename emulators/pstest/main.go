// Command pstest runs Google's in-memory Pub/Sub fake (cloud.google.com/go/pubsub/pstest) as a
// standalone gRPC server for the local stack.
//
// It prints one line "PSTEST_ADDR=host:port" on stdout once it is listening (pstest picks a free
// port itself), then serves until SIGINT or SIGTERM. Built offline by emulators/pubsub.py with
// GO111MODULE=off GOPATH=/usr/share/gocode from Debian's golang-google-cloud-dev.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/pstest"
)

func main() {
	srv := pstest.NewServer()
	fmt.Printf("PSTEST_ADDR=%s\n", srv.Addr)
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "pstest: close: %v\n", err)
	}
}
