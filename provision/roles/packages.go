package roles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Packages returns the sorted union of every role's packages. The image
// builder installs exactly these, because guests cannot reach a mirror.
func Packages() []string {
	var out []string
	for _, r := range allRoles() {
		out = append(out, r.packages...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// packagesStep checks that the image has the role's packages; roles never
// install anything.
func packagesStep(pkgs []string, lab *topology.Lab, vm *topology.VM) step {
	return step{name: "packages", run: func(ctx context.Context, h *host) (bool, error) {
		if len(pkgs) == 0 {
			return false, nil
		}
		// dpkg-query exits 1 when a package is unknown but still prints the
		// others, so judge by what it printed.
		res, err := h.r.Run(ctx, "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' "+strings.Join(pkgs, " "))
		var ce *ssh.CommandError
		if err != nil && !errors.As(err, &ce) {
			// Not an exit status (host key mismatch, unreachable VM,
			// cancellation): the guest was never asked, so say why.
			return false, err
		}
		installed := map[string]bool{}
		for _, line := range strings.Split(string(res.Stdout), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && f[1] == "installed" {
				installed[strings.SplitN(f[0], ":", 2)[0]] = true
			}
		}
		var missing []string
		for _, p := range pkgs {
			if !installed[p] {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			image := vm.Image
			if image == "" {
				image = lab.Image
			}
			return false, fmt.Errorf("packages not installed: %s (guests have no mirror access; image %q must include them: rebuild it with this labctl, whose image builder installs roles.Packages())",
				strings.Join(missing, ", "), image)
		}
		return false, nil
	}}
}
