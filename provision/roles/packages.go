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

// vmPackages is the sorted union of the packages of every role vm has: the
// first packages step of a VM asks dpkg about all of them at once.
func vmPackages(vm *topology.VM) []string {
	var out []string
	for _, name := range topology.RoleOrder {
		if r := roleByName(name); r != nil && vm.HasRole(name) {
			out = append(out, r.packages...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// installedPackages returns which of the VM's packages dpkg reports
// installed. The first call asks the guest (one dpkg-query for every role
// of the VM); later stages of the same Apply reuse the answer, which is
// safe because roles never install or remove packages.
func (h *host) installedPackages(ctx context.Context) (map[string]bool, error) {
	if h.st != nil && h.st.installed != nil {
		return h.st.installed, nil
	}
	pkgs := vmPackages(h.vm)
	// dpkg-query exits 1 when a package is unknown but still prints the
	// others, so judge by what it printed.
	res, err := h.r.Run(ctx, "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' "+strings.Join(pkgs, " "))
	var ce *ssh.CommandError
	if err != nil && !errors.As(err, &ce) {
		// Not an exit status (host key mismatch, unreachable VM,
		// cancellation): the guest was never asked, so say why.
		return nil, err
	}
	installed := map[string]bool{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "installed" {
			installed[strings.SplitN(f[0], ":", 2)[0]] = true
		}
	}
	if h.st != nil {
		h.st.installed = installed
	}
	return installed, nil
}

// packagesStep checks that the image has the role's packages; roles never
// install anything.
func packagesStep(pkgs []string, lab *topology.Lab, vm *topology.VM) step {
	return step{name: "packages", run: func(ctx context.Context, h *host) (bool, error) {
		if len(pkgs) == 0 {
			return false, nil
		}
		installed, err := h.installedPackages(ctx)
		if err != nil {
			return false, err
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
