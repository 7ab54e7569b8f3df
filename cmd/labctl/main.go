// Command labctl turns one HCL file into a working virtual lab on KVM/libvirt.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/labctl/labctl/cmd/labctl/app"
)

func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, stop := app.CancelOnSignal(context.Background(), sigs, os.Stderr, os.Exit)
	code := app.Run(ctx, app.Std(), os.Args[1:])
	stop()
	os.Exit(code)
}
