package topology

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestExerciseWithholdsRolesAndVMs(t *testing.T) {
	lab := loadLab(t, "lvs-nat-ha-exercise", LoadOptions{})
	x := lab.Exercise
	if x == nil || x.Name != "thesis" || x.Points["failover"] != 20 {
		t.Fatalf("exercise %+v", x)
	}
	got := map[string][]Role{}
	for _, w := range lab.StudentWork() {
		got[w.VM] = w.Roles
	}
	want := map[string][]Role{
		"director-1": {RoleDirector}, "director-2": {RoleDirector}, "storage": {RoleNFSServer},
		"web-1": {RoleNFSClient}, "web-2": {RoleNFSClient}, "web-3": {RoleNFSClient},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("student work %v, want %v", got, want)
	}
	if x.Withholds(lab.VM("storage"), RoleRAID) || x.Withholds(lab.VM("web-1"), RoleWeb) {
		t.Error("labctl's own roles are withheld")
	}

	src := map[string][]byte{"lab.hcl": []byte(`lab "t" {}
network "lan" { cidr = "10.1.0.0/24" }
vm "a" {
  roles = ["client", "web"]
  nic "lan" { ip = "10.1.0.10" }
}
vm "b" {
  roles = ["client"]
  nic "lan" { ip = "10.1.0.11" }
}
exercise "one-vm" { vms = [vm.a] }
`)}
	l, _, diags := LoadSource(src, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if !l.Exercise.Withholds(l.VM("a"), RoleWeb) || !l.Exercise.Withholds(l.VM("a"), RoleClient) || l.Exercise.Withholds(l.VM("b"), RoleClient) {
		t.Errorf("vms = [vm.a] must withhold every role of a and none of b: %+v", l.Exercise)
	}
}

// The exercise lab is the thesis cluster with an exercise block: the e2e
// suite grades labs/lvs-nat-ha with that block appended, so the two must
// not drift apart.
func TestExerciseLabIsTheThesisCluster(t *testing.T) {
	thesis, exercise := loadLab(t, "lvs-nat-ha", LoadOptions{}), loadLab(t, "lvs-nat-ha-exercise", LoadOptions{})
	if a, b := clusterShape(thesis), clusterShape(exercise); a != b {
		t.Errorf("labs/lvs-nat-ha-exercise differs from labs/lvs-nat-ha:\n%s\n---\n%s", a, b)
	}
}

// clusterShape prints what a lab builds, without its name (nor the
// management network derived from it).
func clusterShape(l *Lab) string {
	var b strings.Builder
	for _, n := range l.Networks {
		if n.Management {
			continue
		}
		fmt.Fprintf(&b, "net %s %s %s\n", n.Name, n.Mode, n.CIDR)
	}
	for _, vm := range l.VMs {
		fmt.Fprintf(&b, "vm %s %d %d %s %v", vm.Name, vm.VCPUs, vm.MemoryMiB, vm.Image, vm.Roles)
		for _, n := range vm.NICs {
			if n.Network.Management {
				continue
			}
			fmt.Fprintf(&b, " %s=%s/%s", n.Network.Name, n.IP, n.Gateway)
		}
		if vm.RAID != nil {
			fmt.Fprintf(&b, " raid %+v", *vm.RAID)
		}
		fmt.Fprintln(&b)
	}
	for _, s := range l.LVS {
		fmt.Fprintf(&b, "lvs %s %s %s %s %s %d %v\n", s.Name, s.VIP, s.GatewayVIP, s.Mode, s.Scheduler, s.Port, s.Health)
		for _, d := range s.Directors {
			fmt.Fprintf(&b, "  director %s\n", d.Name)
		}
		for _, be := range s.Backends {
			fmt.Fprintf(&b, "  backend %s %s %d\n", be.VM.Name, be.IP, be.Weight)
		}
	}
	for _, n := range l.NFS {
		fmt.Fprintf(&b, "nfs %s %s %s %s %v %v %v\n", n.Name, n.Server.Name, n.Path, n.MountPoint, n.Options, n.MountOpts, slices.Collect(func(yield func(string) bool) {
			for _, c := range n.Clients {
				if !yield(c.Name) {
					return
				}
			}
		}))
	}
	for _, w := range l.Web {
		fmt.Fprintf(&b, "web %s %s %s %d\n", w.Name, w.Docroot, w.HealthPath, len(w.Servers))
	}
	return b.String()
}
