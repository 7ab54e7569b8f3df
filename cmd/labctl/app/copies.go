package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/placement"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

// classCopy is one copy a command acts on and the libvirt host that holds
// it (URI "": the lab's own, or --connect).
type classCopy struct{ Name, URI string }

func copyNames(cs []classCopy) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// copyFinder lists the copies a command acts on (see selectCopies).
type copyFinder func(ctx context.Context, arg string, f lifecycleFlags) ([]classCopy, error)

// selectCopies names the copies a command acts on and their hosts: the
// --copy selection, else every copy of the class on its hosts (--hosts, or
// the lab's libvirt URI); none means the lab is not a class there and the
// command acts on the lab itself. A lab file that cannot be read counts as
// no class: the command's own open then reports that error in context.
func (a *App) selectCopies(ctx context.Context, arg string, f lifecycleFlags) ([]classCopy, error) {
	for _, c := range f.copies {
		if err := topology.CheckCopyName(c); err != nil {
			return nil, fmt.Errorf("--copy: %w", err)
		}
	}
	if a.findCopies != nil {
		return a.findCopies(ctx, arg, f)
	}
	f.labFlags.copy = ""
	lab, err := a.loadWith(arg, f.labFlags, topology.LoadOptions{}, true)
	if err != nil {
		return nil, nil //nolint:nilerr // reported by the command's own load
	}
	uris, err := classHosts(f, lab)
	if err != nil {
		return nil, err
	}
	c, err := a.findClass(ctx, uris, lab.Name)
	if err != nil {
		return nil, err
	}
	a.warnAll(c.Warnings)
	if len(f.copies) == 0 {
		var out []classCopy
		for _, cp := range c.Copies {
			out = append(out, classCopy{cp.Name, cp.URI})
		}
		return out, nil
	}
	out := make([]classCopy, len(f.copies))
	for i, name := range f.copies {
		out[i].Name = name
		if cp, ok := c.Copy(name); ok {
			out[i].URI = cp.URI
		}
	}
	return out, nil
}

// classHosts are the libvirt hosts of a class: --hosts, else the lab's URI.
func classHosts(f lifecycleFlags, lab *topology.Lab) ([]string, error) {
	if f.hosts != "" {
		return placement.ParseHosts(f.hosts)
	}
	return []string{provision.LabURI(f.uri, lab)}, nil
}

func (a *App) warnAll(warnings []string) {
	for _, w := range warnings {
		if !a.Quiet {
			fmt.Fprintln(a.IO.Err, "warning:", escapeControl(w))
		}
	}
}

// oneCopy resolves the single copy a command such as ssh acts on: the one
// --copy, the class's only copy, or the lab itself when it has none.
func (a *App) oneCopy(ctx context.Context, arg string, f lifecycleFlags) (lifecycleFlags, error) {
	copies, err := a.selectCopies(ctx, arg, f)
	if err != nil {
		return f, err
	}
	switch len(copies) {
	case 0:
	case 1:
		f = f.forCopy(copies[0])
	default:
		return f, fmt.Errorf("the lab has copies %s: choose one with --copy", strings.Join(copyNames(copies), ", "))
	}
	return f, nil
}

// forCopy is f for one copy, on the host that holds it.
func (f lifecycleFlags) forCopy(c classCopy) lifecycleFlags {
	f.copy = c.Name
	if c.URI != "" {
		f.uri = c.URI
	}
	return f
}

// eachCopy runs fn for the lab itself (copies empty) or once per copy with
// f for that copy, under a "copy NAME" heading in text output. It goes on
// after a copy fails unless failFast, and returns every copy's error.
func (a *App) eachCopy(copies []classCopy, f lifecycleFlags, failFast bool, fn func(f lifecycleFlags) error) error {
	if len(copies) == 0 {
		return fn(f)
	}
	var errs []error
	for _, c := range copies {
		if f.output != "json" {
			fmt.Fprintf(a.IO.Out, "== copy %s\n", c.Name)
		}
		if err := fn(f.forCopy(c)); err != nil {
			var exit *ExitError
			if !errors.As(err, &exit) {
				err = fmt.Errorf("copy %s: %w", c.Name, err)
			}
			errs = append(errs, err)
			if failFast {
				break
			}
		}
	}
	return joinCopyErrors(errs)
}

// joinCopyErrors keeps an exit status when every failure is one (a failed
// check prints its own table), else joins the messages.
func joinCopyErrors(errs []error) error {
	var plain []error
	for _, err := range errs {
		var exit *ExitError
		if !errors.As(err, &exit) {
			plain = append(plain, err)
		}
	}
	switch {
	case len(errs) == 0:
		return nil
	case len(plain) == 0:
		return &ExitError{Code: 1}
	}
	return errors.Join(plain...)
}

// classFlags are up's ways of naming a class's copies.
type classFlags struct {
	copies int      // --copies N: copies 1…N
	names  []string // --names a,b,…
	roster string   // --roster FILE: one name per line
}

func (c *classFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&c.copies, "copies", 0, "make N copies of the lab, named <lab>-1 … <lab>-N (default: the lab's copies setting)")
	cmd.Flags().StringSliceVar(&c.names, "names", nil, "make one copy per name, e.g. --names alice,bob")
	cmd.Flags().StringVar(&c.roster, "roster", "", "make one copy per name in FILE (one per line; # comments)")
}

// upCopies names the copies up makes and places them on the class's
// hosts: from --names, --roster or --copies, else the lab's copies
// setting, else the --copy selection; without any of them, the copies
// already on the hosts, or none (the lab itself).
func (a *App) upCopies(ctx context.Context, arg string, f lifecycleFlags, c classFlags) ([]classCopy, error) {
	given := 0
	for _, set := range []bool{c.copies != 0, len(c.names) > 0, c.roster != ""} {
		if set {
			given++
		}
	}
	if given > 1 {
		return nil, errors.New("use one of --copies, --names and --roster")
	}
	class, err := a.loadWith(arg, f.labFlags, topology.LoadOptions{}, true)
	if err != nil {
		return nil, err
	}
	var names []string
	switch {
	case c.copies < 0 || c.copies > topology.MaxCopies:
		return nil, fmt.Errorf("--copies %d: want 1–%d", c.copies, topology.MaxCopies)
	case c.copies > 0:
		names = topology.CopyNames(c.copies)
	case len(c.names) > 0:
		names = c.names
	case c.roster != "":
		if names, err = readRoster(c.roster); err != nil {
			return nil, err
		}
	case len(f.copies) > 0:
		names = f.copies
	case class.Copies > 0:
		names = topology.CopyNames(class.Copies)
	default:
		return a.selectCopies(ctx, arg, f)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if err := topology.CheckCopyName(n); err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("copy %q is named twice", n)
		}
		seen[n] = true
	}
	return a.placeCopies(ctx, f, class, names)
}

// placeCopies puts each named copy on one of the class's hosts (existing
// copies stay where they are) before anything is created, or says why the
// class does not fit.
func (a *App) placeCopies(ctx context.Context, f lifecycleFlags, class *topology.Lab, names []string) ([]classCopy, error) {
	uris, err := classHosts(f, class)
	if err != nil {
		return nil, err
	}
	hs := a.dialHosts(ctx, uris)
	defer hs.Close()
	needs := make([]placement.Need, len(names))
	for i, n := range names {
		needs[i] = placement.NeedOf(class)
		needs[i].Copy = n
	}
	plan, err := placement.Place(ctx, hs, class.Name, needs)
	if err != nil {
		return nil, err
	}
	a.warnAll(plan.Warnings)
	out := make([]classCopy, len(names))
	for i, n := range names {
		out[i] = classCopy{n, plan.Hosts[n]}
	}
	return out, nil
}

// readRoster reads one copy name per line, skipping blanks and # comments.
func readRoster(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	var names []string
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := topology.CheckCopyName(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		names = append(names, line)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("roster %s names no one", path)
	}
	return names, nil
}
