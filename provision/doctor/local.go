package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// localPitfalls checks AppArmor, /dev/kvm access and whether labctl shares
// libvirtd's network namespace (else VM addresses are unreachable).
func localPitfalls() []Check {
	var out []Check
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(b)) == "Y" {
		conf, _ := os.ReadFile("/etc/libvirt/qemu.conf")
		detail := "AppArmor is enabled: libvirt confines each QEMU to the files of its domain"
		if !strings.Contains(string(conf), "\nsecurity_driver") {
			out = append(out, Check{"apparmor", "warn", detail + "; kernel and initrd are served from the labctl-base pool so they are covered",
				"if QEMU reports 'Permission denied' on a disk, check `dmesg | grep apparmor` and /etc/apparmor.d/libvirt/"})
		} else {
			out = append(out, Check{"apparmor", "ok", detail + " (security_driver set in qemu.conf)", ""})
		}
	} else {
		out = append(out, Check{"apparmor", "ok", "not enforcing", ""})
	}
	if st, err := os.Stat("/dev/kvm"); err == nil {
		if _, err := os.Stat("/sys/module/kvm_pvm"); err == nil {
			out = append(out, Check{"/dev/kvm", "warn", "present but backed by kvm_pvm: TCG is used", ""})
		} else if st.Mode().Perm()&0o006 == 0 && os.Geteuid() != 0 {
			out = append(out, Check{"/dev/kvm", "warn", "not accessible to this user", "add yourself to group kvm"})
		}
	}
	// br_netfilter sends bridged frames through iptables, where libvirt's
	// masquerade rules rewrite LVS-NAT traffic between lab VMs.
	if b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables"); err == nil && strings.TrimSpace(string(b)) == "1" {
		out = append(out, Check{"br_netfilter", "warn", "net.bridge.bridge-nf-call-iptables = 1: bridged lab traffic passes iptables, which breaks LVS-NAT between VMs",
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
			out = append(out, Check{"netns", "fail", "libvirtd runs in another network namespace than labctl: VM addresses are unreachable from here",
				"run labctl inside libvirtd's namespace: sandbox/run.sh labctl ..."})
		default:
			out = append(out, Check{"netns", "ok", "labctl and libvirtd share a network namespace", ""})
		}
		// On kvm_pvm, a libvirtd that can see /dev/kvm re-probes QEMU on
		// almost every call (its KVM checks disagree), stalling defines.
		if exists("/sys/module/kvm_pvm") {
			if st, err := os.Stat("/proc/" + strings.TrimSpace(string(pid)) + "/root/dev/kvm"); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				out = append(out, Check{"libvirt kvm", "warn", "libvirtd sees the kvm_pvm /dev/kvm: libvirt 9 then discards its QEMU capabilities on most calls and re-probes QEMU (domain defines take minutes)",
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
