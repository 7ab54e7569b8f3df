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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, app.Std(), os.Args[1:])
	stop()
	os.Exit(code)
}
