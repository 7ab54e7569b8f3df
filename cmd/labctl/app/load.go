package app

import (
	"fmt"
	"strings"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

// labFlags are the flags of every command that reads a lab.
type labFlags struct {
	vars     []string
	varFiles []string
	// instance is --owner (lifecycle commands): the lab runs as that
	// owner's copy, "<lab>-<owner>".
	instance string
	// copy is the copy of a classroom lab to load ("" = the lab itself):
	// it runs as "<lab>-<copy>" with the lab's own addresses.
	copy string
}

func (f *labFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a variable: -var NAME=VALUE (repeatable)")
	cmd.Flags().StringArrayVar(&f.varFiles, "var-file", nil, "read variables from an HCL file (repeatable)")
}

// load reads the lab at arg (a directory, a file, or "" for ./lab.hcl or
// the current directory). Diagnostics come back as *DiagError so Run prints
// them with file:line:col and a source snippet; warnings are printed here.
func (a *App) load(arg string, f labFlags) (*topology.Lab, error) {
	return a.loadWith(arg, f, topology.LoadOptions{}, a.Quiet)
}

// loadWith is load with the host's facts in base (subnets in use) and
// warnings printed unless quiet.
func (a *App) loadWith(arg string, f labFlags, base topology.LoadOptions, quiet bool) (*topology.Lab, error) {
	path, err := topology.ResolvePath(arg)
	if err != nil {
		return nil, err
	}
	opts := base
	opts.Vars, opts.VarFiles, opts.ImageCaps, opts.Instance = map[string]string{}, f.varFiles, imageCaps, f.instance
	opts.Copy = f.copy
	for _, kv := range f.vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-var %q: want NAME=VALUE", kv)
		}
		opts.Vars[k] = v
	}
	lab, files, diags := topology.Load(path, opts)
	if diags.HasErrors() {
		return nil, &DiagError{Diags: diags, Files: files}
	}
	if len(diags) > 0 && !quiet {
		a.writeDiags(&DiagError{Diags: diags, Files: files})
	}
	return lab, nil
}

// imageCaps tells the validator which buses and NIC models an image's kernel
// can drive, from the image's manifest. Images not built yet are not checked
// here; `up` reports them as missing.
func imageCaps(name string) (buses, nicModels []string, ok bool) {
	img, err := image.DefaultStore().Get(name)
	if err != nil {
		return nil, nil, false
	}
	return img.Manifest.Buses, img.Manifest.NICModels, true
}
