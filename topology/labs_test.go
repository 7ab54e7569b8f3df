package topology

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func loadLab(t *testing.T, dir string, opts LoadOptions) *Lab {
	t.Helper()
	lab, _, diags := Load(filepath.Join("..", "labs", dir), opts)
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", dir, diags.Error())
	}
	return lab
}

func vmByName(t *testing.T, lab *Lab, name string) *VM {
	t.Helper()
	v := lab.VM(name)
	if v == nil {
		t.Fatalf("no vm %q", name)
	}
	return v
}

func nicOn(t *testing.T, vm *VM, net string) *NIC {
	t.Helper()
	for _, n := range vm.NICs {
		if n.Network.Name == net {
			return n
		}
	}
	t.Fatalf("vm %q has no NIC on %q", vm.Name, net)
	return nil
}

// TestEveryLabLoads loads each labs/* directory and checks invariants that
// hold for every lab.
func TestEveryLabLoads(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("..", "labs"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		t.Run(d.Name(), func(t *testing.T) {
			lab := loadLab(t, d.Name(), LoadOptions{})
			if lab.Management == nil || !slices.Contains(lab.Networks, lab.Management) {
				t.Fatalf("management network missing from Networks")
			}
			if !slices.IsSortedFunc(lab.VMs, func(a, b *VM) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("VMs not sorted by name")
			}
			if _, err := os.Stat(filepath.Join("..", "labs", d.Name(), "README.md")); err != nil {
				t.Errorf("lab has no README.md")
			}
			macs := map[string]bool{}
			for _, vm := range lab.VMs {
				last := vm.NICs[len(vm.NICs)-1]
				if !last.Management || last.Network != lab.Management || !last.IP.IsValid() {
					t.Errorf("vm %s: last NIC is not a management NIC with an address", vm.Name)
				}
				for i, nic := range vm.NICs {
					if nic.Device != "eth"+string(rune('0'+i)) || macs[nic.MAC] || !strings.HasPrefix(nic.MAC, "52:54:00:") {
						t.Errorf("vm %s nic %d: device %q mac %q", vm.Name, i, nic.Device, nic.MAC)
					}
					macs[nic.MAC] = true
					if nic.IP.IsValid() && !nic.Network.CIDR.Contains(nic.IP) {
						t.Errorf("vm %s: %s outside %s", vm.Name, nic.IP, nic.Network.CIDR)
					}
				}
				if vm.MemoryMiB < 384 || vm.MemoryMiB > 512 {
					t.Errorf("vm %s: %d MiB; labs keep 384–512 MiB for TCG", vm.Name, vm.MemoryMiB)
				}
			}
			again := loadLab(t, d.Name(), LoadOptions{})
			if diff := cmp.Diff(lab, again, cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})); diff != "" {
				t.Errorf("loading twice differs (-first +second):\n%s", diff)
			}
		})
	}
	if n < 4 {
		t.Errorf("found %d labs, want at least 4", n)
	}
}

func TestMinimalLab(t *testing.T) {
	lab := loadLab(t, "minimal", LoadOptions{})
	box := vmByName(t, lab, "box")
	if got := box.NICs[0].IP.String(); got != "192.168.150.10" {
		t.Errorf("box ip = %s, want first auto address 192.168.150.10", got)
	}
	if got := box.NICs[0].Gateway.String(); got != "192.168.150.1" {
		t.Errorf("gateway = %s", got)
	}
	if box.LibvirtName != "minimal-box" || box.CPUMode != "maximum" || box.VCPUs != 1 || box.SeedTarget != "vdb" {
		t.Errorf("defaults: %+v", box)
	}
	m := lab.Management
	if m.Name != "mgmt" || m.LibvirtName != "minimal-mgmt" || m.Mode != NetIsolated || !m.Management ||
		m.CIDR.Bits() != 24 || !netip.MustParsePrefix("172.16.0.0/12").Contains(m.CIDR.Addr()) || m.HostIP != m.CIDR.Addr().Next() {
		t.Errorf("management network: %+v", m)
	}
	if len(lab.Networks[0].Bridge) != 12 || !strings.HasPrefix(lab.Networks[0].Bridge, "lc") {
		t.Errorf("bridge = %q", lab.Networks[0].Bridge)
	}
}

func TestLVSNATHALab(t *testing.T) {
	lab := loadLab(t, "lvs-nat-ha", LoadOptions{})
	var names []string
	for _, v := range lab.VMs {
		names = append(names, v.Name)
	}
	if want := []string{"client", "director-1", "director-2", "storage", "web-1", "web-2", "web-3"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("VMs = %v, want %v", names, want)
	}
	st := vmByName(t, lab, "storage")
	if st.RAID == nil || st.RAID.Level != 6 || st.RAID.Members != 5 || st.RAID.MemberSize != 100<<20 || st.RAID.ChunkKiB != 512 || st.RAID.Mount != "/srv/raid" {
		t.Errorf("raid = %+v", st.RAID)
	}
	var targets []string
	for _, d := range st.Disks {
		if !d.RAIDMember || d.Serial != "lc-storage-"+d.Name {
			t.Errorf("disk %+v", d)
		}
		targets = append(targets, d.Target)
	}
	if want := []string{"vdb", "vdc", "vdd", "vde", "vdf"}; !reflect.DeepEqual(targets, want) || st.SeedTarget != "vdg" {
		t.Errorf("targets = %v seed %s", targets, st.SeedTarget)
	}
	if !reflect.DeepEqual(st.Roles, []Role{RoleRAID, RoleNFSServer}) {
		t.Errorf("storage roles = %v", st.Roles)
	}
	if w := vmByName(t, lab, "web-2"); !reflect.DeepEqual(w.Roles, []Role{RoleNFSClient, RoleWeb, RoleRealServer}) ||
		nicOn(t, w, "internal").IP.String() != "10.0.10.111" || nicOn(t, w, "internal").Gateway.String() != "10.0.10.200" {
		t.Errorf("web-2 = %+v roles %v", w.NICs[0], w.Roles)
	}
	s := lab.LVS[0]
	if s.VIP.String() != "192.168.100.200" || s.VIPNetwork.Name != "external" || s.GatewayNet.Name != "internal" ||
		s.Directors[0].Name != "director-1" || len(s.Backends) != 3 || s.Health.IntervalSec != 2 || s.RouterID < 1 || s.RouterID > 253 {
		t.Errorf("lvs = %+v", s)
	}
	if x := lab.NFS[0]; x.ServerIP.String() != "10.0.10.100" || len(x.Clients) != 3 || x.MountPoint != "/var/www/html" {
		t.Errorf("nfs = %+v", x)
	}
	if len(lab.Experiments) != 5 {
		t.Errorf("experiments = %d", len(lab.Experiments))
	}
	for _, e := range lab.Experiments {
		if e.Name == "scaling_ab" && (!reflect.DeepEqual(e.RealServers, []int{1, 2, 3}) || e.Tool != "ab" || e.Client.Name != "client") {
			t.Errorf("scaling_ab = %+v", e)
		}
		if e.Name == "master_failover" && (len(e.Faults) != 1 || e.Faults[0] != (Fault{Kind: "destroy_director", Target: "director-1", AfterSec: 10})) {
			t.Errorf("master_failover faults = %+v", e.Faults)
		}
		// repeat: the default (3) unless set, as real_server_loss does.
		want := DefaultRepeat
		if e.Name == "real_server_loss" {
			want = 1
		}
		if e.Repeat != want || DefaultRepeat != 3 {
			t.Errorf("%s: repeat %d, want %d", e.Name, e.Repeat, want)
		}
	}
}

func TestDRAndTUNLabs(t *testing.T) {
	dr := loadLab(t, "lvs-dr", LoadOptions{})
	s := dr.LVS[0]
	if s.Mode != LVSDR || s.Backends[0].Weight != 2 || s.Backends[1].Weight != 1 || s.GatewayNet != nil {
		t.Errorf("dr lvs = %+v", s)
	}
	tun := loadLab(t, "lvs-tun", LoadOptions{})
	s = tun.LVS[0]
	if s.Mode != LVSTUN || s.Backends[0].IP.String() != "10.0.20.110" || s.Persistence == nil || s.Persistence.TimeoutSec != 60 {
		t.Errorf("tun lvs = %+v", s)
	}
}

func TestImageCaps(t *testing.T) {
	src := []byte(`lab "t" {}
network "n" { cidr = "10.1.0.0/24" }
vm "a" {
  nic "n" { model = "e1000" }
  disk "d" {
    size = "1GiB"
    bus  = "sata"
  }
}
`)
	caps := func(string) ([]string, []string, bool) { return []string{"virtio", "scsi"}, []string{"virtio"}, true }
	_, _, diags := LoadSource(map[string][]byte{"t.hcl": src}, LoadOptions{ImageCaps: caps})
	var all []string
	for _, d := range diags {
		all = append(all, diagText(d))
	}
	got := strings.Join(all, "\n")
	if !strings.Contains(got, `image "bookworm-cloud" has no SATA (AHCI) driver`) || !strings.Contains(got, `use bus = "virtio" or build an image with --kernel generic`) {
		t.Errorf("bus diag: %s", got)
	}
	if !strings.Contains(got, "no e1000 driver") {
		t.Errorf("model diag: %s", got)
	}
	missing := func(string) ([]string, []string, bool) { return nil, nil, false }
	lab, _, diags := LoadSource(map[string][]byte{"t.hcl": src}, LoadOptions{ImageCaps: missing})
	if lab == nil || len(diags) != 1 || diags[0].Summary != "Image not found" {
		t.Errorf("unknown image: lab=%v diags=%v", lab != nil, diags)
	}
}

func TestTemplateAndCloneMerge(t *testing.T) {
	src := []byte(`lab "t" {}
network "a" { cidr = "10.1.0.0/24" }
network "b" { cidr = "10.2.0.0/24" }
template "base" {
  memory = "384MiB"
  vcpus  = 2
  nic "a" {}
  disk "x" { size = "1GiB" }
}
vm "one" {
  from = template.base
  nic "b" { ip = "10.2.0.5" }
  nic "a" { ip = "10.1.0.7" }
  disk "y" {
    size = "2GiB"
    bus  = "scsi"
  }
}
vm "two" {
  from   = vm.one
  memory = "448MiB"
  nic "a" {}
  nic "b" {}
}
`)
	lab, _, diags := LoadSource(map[string][]byte{"t.hcl": src}, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	one, two := vmByName(t, lab, "one"), vmByName(t, lab, "two")
	if one.NICs[0].Network.Name != "a" || one.NICs[0].IP.String() != "10.1.0.7" || one.NICs[1].Network.Name != "b" {
		t.Errorf("one nics: %v %v", one.NICs[0], one.NICs[1])
	}
	if one.MemoryMiB != 384 || one.VCPUs != 2 || two.MemoryMiB != 448 || two.VCPUs != 2 {
		t.Errorf("memory/vcpus: %d/%d %d/%d", one.MemoryMiB, one.VCPUs, two.MemoryMiB, two.VCPUs)
	}
	if got := []string{two.Disks[0].Target, two.Disks[1].Target, two.SeedTarget}; !reflect.DeepEqual(got, []string{"vdb", "sdb", "vdc"}) {
		t.Errorf("two disk targets = %v", got)
	}
	// Auto addresses: host 10 upward, skipping explicit ones, in VM order.
	if two.NICs[0].IP.String() != "10.1.0.10" || two.NICs[1].IP.String() != "10.2.0.10" {
		t.Errorf("two ips = %s %s", two.NICs[0].IP, two.NICs[1].IP)
	}
}

// TestAllErrorsAtOnce checks that schema, value and cross-object errors of
// one run are all reported together.
func TestAllErrorsAtOnce(t *testing.T) {
	src := []byte(`lab "t" {}
network "n" { cidr = "10.1.0.0/24" }
vm "a" {
  memroy = "512MiB"
  nic "n" { ip = "10.1.0.20" }
}
vm "b" {
  nic "n" { ip = "10.1.0.20" }
  raid "r" {
    level       = 5
    members     = 2
    member_size = "100MiB"
  }
}
`)
	_, _, diags := LoadSource(map[string][]byte{"t.hcl": src}, LoadOptions{})
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary)
	}
	want := []string{"Unsupported argument", "Duplicate IP address", "Too few RAID members"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics = %q, want %q", got, want)
	}
}
