package app

import (
	"fmt"

	"github.com/labctl/labctl/internal/version"
	"github.com/spf13/cobra"
)

func newVersionCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print labctl's version and commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(a.IO.Out, "labctl %s\n", version.String())
			return err
		},
	}
}
