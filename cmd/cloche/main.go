// Command cloche is the Cloche notification service and its command line.
// Run `cloche --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	// The zone database goes with the binary: people's time zones never
	// depend on the machine's.
	_ "time/tzdata"

	"github.com/cloche/cloche/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A second signal, once the first has begun a clean stop, kills at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
