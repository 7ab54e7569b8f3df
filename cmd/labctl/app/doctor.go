package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

// check is one doctor finding.
type check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok | warn | fail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

func newDoctorCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	cmd := &cobra.Command{
		Use:   "doctor [DIR|FILE]",
		Short: "Check that this machine can run labs, and say how to fix what is missing",
		Long: `doctor checks libvirt, QEMU, the accelerator labctl will use (and why), the
storage pools, the base images (those of the lab when one is given), free
disk space, and the usual permission, AppArmor and network-namespace
pitfalls. Each problem comes with a fix. Exit status 1 when a check fails.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			var lab *topology.Lab
			if len(args) > 0 {
				if lab, err = a.load(args[0], f.labFlags); err != nil {
					return err
				}
			}
			checks := doctor(cmd.Context(), f.uri, lab)
			failed := false
			for _, c := range checks {
				failed = failed || c.Status == "fail"
			}
			if asJSON {
				if err := writeJSON(a.IO.Out, checks); err != nil {
					return err
				}
			} else {
				mark := map[string]string{"ok": "✓", "warn": "!", "fail": "✗"}
				for _, c := range checks {
					fmt.Fprintf(a.IO.Out, "%s %-12s %s\n", mark[c.Status], c.Name, c.Detail)
					if c.Fix != "" && c.Status != "ok" {
						fmt.Fprintf(a.IO.Out, "  %-12s fix: %s\n", "", c.Fix)
					}
				}
			}
			if failed {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}

func doctor(ctx context.Context, flagURI string, lab *topology.Lab) []check {
	var out []check
	add := func(name, status, detail, fix string) {
		out = append(out, check{Name: name, Status: status, Detail: detail, Fix: fix})
	}
	uri := flagURI
	if lab != nil {
		uri = labURI(flagURI, lab)
	} else if uri == "" {
		uri = labURI("", &topology.Lab{})
	}
	local := isLocalURI(uri)

	hv, err := libvirt.Dial(ctx, uri)
	if err != nil {
		add("libvirt", "fail", err.Error(),
			"start libvirtd (no systemd here: `sandbox/setup.sh` starts virtlogd and libvirtd inside the lab namespace); or pass --connect URI")
		return out
	}
	defer hv.Close()
	host, err := hv.Host(ctx)
	if err != nil {
		add("libvirt", "fail", err.Error(), "check /var/log/libvirt/libvirtd.log")
		return out
	}
	add("libvirt", "ok", fmt.Sprintf("reachable at %s (libvirt %s on %s)", uri, host.LibvirtVersion, host.Hostname), "")

	caps, err := hv.Capabilities(ctx)
	if err != nil {
		add("qemu", "fail", err.Error(), "check /var/log/libvirt/libvirtd.log")
		return out
	}
	switch {
	case caps.Emulator == "":
		add("qemu", "fail", "libvirt knows no x86_64 emulator", "apt-get install qemu-system-x86, then restart libvirtd")
	case local && !exists(caps.Emulator):
		add("qemu", "fail", caps.Emulator+" is missing", "apt-get install qemu-system-x86")
	default:
		add("qemu", "ok", caps.Emulator+" (domain types: "+strings.Join(caps.DomainTypes, ", ")+")", "")
	}
	if local {
		if p, err := exec.LookPath("qemu-img"); err != nil {
			add("qemu-img", "fail", "qemu-img not found: libvirt needs it for qcow2 linked clones", "apt-get install qemu-utils")
		} else {
			add("qemu-img", "ok", p, "")
		}
		if _, err := exec.LookPath("dnsmasq"); err != nil {
			add("dnsmasq", "warn", "dnsmasq not found: nat and routed networks with a host address will not start", "apt-get install dnsmasq-base")
		} else {
			add("dnsmasq", "ok", "present (libvirt runs it for networks with a host address)", "")
		}
	}

	want := topology.AccelAuto
	if lab != nil && lab.Accel != "" {
		want = lab.Accel
	}
	host.DomainTypes = caps.DomainTypes
	typ, reason, err := provision.ResolveAccel(want, host, provision.AccelProbe{Local: local})
	if err != nil {
		add("accel", "fail", err.Error(), `set accel = "auto" or "tcg" in the lab`)
	} else {
		st := "ok"
		fix := ""
		if typ != "kvm" {
			st = "warn"
			fix = "guests run under TCG (slow, ~50 s to SSH); use a host with usable KVM for speed"
		}
		add("accel", st, accelName(typ)+": "+reason, fix)
	}

	out = append(out, bridgeChecks(ctx, hv, lab)...)

	// Pools: the shared base pool and where new pools go.
	for _, name := range poolsToCheck(lab) {
		p, err := hv.Pool(ctx, name)
		switch {
		case errors.Is(err, libvirt.ErrNotFound):
			dir := filepath.Join(provision.DefaultImagesDir, name)
			if local {
				if werr := writable(provision.DefaultImagesDir); werr != nil {
					add("pool "+name, "fail", "absent, and "+provision.DefaultImagesDir+" is not writable: "+werr.Error(),
						"mkdir -p "+provision.DefaultImagesDir+" as root")
					continue
				}
			}
			add("pool "+name, "ok", "absent; up creates it in "+dir, "")
		case err != nil:
			add("pool "+name, "fail", err.Error(), "virsh pool-info "+name)
		case !p.Active:
			add("pool "+name, "warn", "defined but inactive", "virsh pool-start "+name)
		default:
			detail := fmt.Sprintf("%s, %s free", p.Path, libvirt.FormatBytes(p.Available))
			if local {
				if werr := writable(p.Path); werr != nil {
					add("pool "+name, "fail", detail+"; not writable: "+werr.Error(), "check ownership and mount options of "+p.Path)
					continue
				}
			}
			add("pool "+name, "ok", detail, "")
		}
	}

	// Images.
	store := image.DefaultStore()
	if lab != nil {
		seen := map[string]bool{}
		for _, vm := range lab.VMs {
			name := vm.Image
			if name == "" {
				name = lab.Image
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			if img, err := store.Get(name); err != nil {
				add("image "+name, "fail", err.Error(), "labctl image build "+name)
			} else {
				boot := "disk boot"
				if img.DirectKernelBoot() {
					boot = "direct kernel boot"
				}
				add("image "+name, "ok", img.DiskPath()+" ("+boot+")", "")
			}
		}
	} else if imgs, err := store.List(); err != nil || len(imgs) == 0 {
		add("images", "warn", "no base image in "+store.Dir, "labctl image build NAME")
	} else {
		names := []string{}
		for _, im := range imgs {
			names = append(names, im.Manifest.Name)
		}
		add("images", "ok", strings.Join(names, ", ")+" in "+store.Dir, "")
	}

	if local {
		for _, dir := range []string{provision.DefaultImagesDir, store.Dir} {
			free, err := freeBytes(dir)
			if err != nil {
				continue
			}
			if free < 5<<30 {
				add("disk "+dir, "warn", libvirt.FormatBytes(free)+" free", "free space: each VM's clone grows as the guest writes")
			} else {
				add("disk "+dir, "ok", libvirt.FormatBytes(free)+" free", "")
			}
		}
		out = append(out, localPitfalls()...)
	}
	return out
}

func poolsToCheck(lab *topology.Lab) []string {
	out := []string{provision.BasePool}
	if lab != nil {
		out = append(out, provision.LabPoolName(lab))
	}
	return out
}

// localPitfalls checks AppArmor, /dev/kvm access and whether labctl shares
// libvirtd's network namespace (else VM addresses are unreachable).
func localPitfalls() []check {
	var out []check
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(b)) == "Y" {
		conf, _ := os.ReadFile("/etc/libvirt/qemu.conf")
		detail := "AppArmor is enabled: libvirt confines each QEMU to the files of its domain"
		if !strings.Contains(string(conf), "\nsecurity_driver") {
			out = append(out, check{"apparmor", "warn", detail + "; kernel and initrd are served from the labctl-base pool so they are covered",
				"if QEMU reports 'Permission denied' on a disk, check `dmesg | grep apparmor` and /etc/apparmor.d/libvirt/"})
		} else {
			out = append(out, check{"apparmor", "ok", detail + " (security_driver set in qemu.conf)", ""})
		}
	} else {
		out = append(out, check{"apparmor", "ok", "not enforcing", ""})
	}
	if st, err := os.Stat("/dev/kvm"); err == nil {
		if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
			out = append(out, check{"/dev/kvm", "warn", "present but backed by kvm_pvm: TCG is used", ""})
		} else if st.Mode().Perm()&0o006 == 0 && os.Geteuid() != 0 {
			out = append(out, check{"/dev/kvm", "warn", "not accessible to this user", "add yourself to group kvm"})
		}
	}
	// br_netfilter sends bridged frames through iptables, where libvirt's
	// masquerade rules rewrite LVS-NAT traffic between lab VMs.
	if b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); err == nil && strings.TrimSpace(string(b)) == "1" {
		out = append(out, check{"br_netfilter", "warn", "net.bridge.bridge-nf-call-iptables = 1: bridged lab traffic passes iptables, which breaks LVS-NAT between VMs",
			"sysctl -w net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0"})
	}
	pid, err := os.ReadFile("/run/libvirt/libvirtd.pid")
	if err != nil {
		pid, err = os.ReadFile("/var/run/libvirtd.pid")
	}
	if err == nil {
		theirs, err1 := os.Readlink("/proc/" + strings.TrimSpace(string(pid)) + "/ns/net")
		ours, err2 := os.Readlink("/proc/self/ns/net")
		switch {
		case err1 != nil || err2 != nil:
		case theirs != ours:
			out = append(out, check{"netns", "fail", "libvirtd runs in another network namespace than labctl: VM addresses are unreachable from here",
				"run labctl inside libvirtd's namespace: sandbox/run.sh labctl ..."})
		default:
			out = append(out, check{"netns", "ok", "labctl and libvirtd share a network namespace", ""})
		}
		// On kvm_pvm, a libvirtd that can see /dev/kvm re-probes QEMU on
		// almost every call (its KVM checks disagree), stalling defines.
		if exists("/sys/module/kvm_pvm") {
			if st, err := os.Stat("/proc/" + strings.TrimSpace(string(pid)) + "/root/dev/kvm"); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				out = append(out, check{"libvirt kvm", "warn", "libvirtd sees the kvm_pvm /dev/kvm: libvirt 9 then discards its QEMU capabilities on most calls and re-probes QEMU (domain defines take minutes)",
					"restart libvirtd with /dev/kvm hidden from it: sandbox/setup.sh --restart"})
			}
		}
	}
	return out
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".labctl-doctor-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func freeBytes(dir string) (uint64, error) {
	for dir != "/" {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
