// Command cpuburn keeps CPU cores busy until it is stopped, so that tests
// can be run on a loaded machine: bench/flakes.sh runs it beside
// `go test -count=3 ./...`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cpuburn:", err)
		os.Exit(2)
	}
}

func run() error {
	n := flag.Int("n", runtime.NumCPU(), "busy loops to run, one per core by default")
	flag.Parse()
	if *n < 1 {
		return fmt.Errorf("-n %d: want at least 1", *n)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	for range *n {
		go spin()
	}
	<-stop
	return nil
}

// spin never returns; a loop with a call in it stays preemptible.
func spin() {
	x := uint64(1)
	for {
		x = next(x)
	}
}

//go:noinline
func next(x uint64) uint64 { return x*6364136223846793005 + 1442695040888963407 }
