package roles

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// guest simulates the parts of a Debian 12 VM the roles touch, on top of
// rolestest.Fake: md arrays, filesystems, mounts, routes, addresses,
// Apache modules, kernel modules.
type guest struct {
	*rolestest.Fake
	vm         *topology.VM
	arrays     map[string]int    // md name → level
	fs         map[string]string // device → filesystem type
	mounts     map[string]string // mount point → source
	routes     string            // `ip -4 route show default`
	addrs      map[string][]string
	initramfs  int
	creates    int
	mkfs       int
	exportfsRa int
	remounts   map[string]int // mount point → `mount -o remount` calls
}

func newGuest(vm *topology.VM) *guest {
	g := &guest{Fake: rolestest.New(vm.Name), vm: vm, arrays: map[string]int{}, fs: map[string]string{},
		mounts: map[string]string{}, addrs: map[string][]string{}, remounts: map[string]int{}}
	f := g.Fake
	for _, p := range []string{"/etc/apache2/mods-enabled/php8.2.load", "/etc/apache2/mods-enabled/env.load",
		"/etc/apache2/mods-enabled/alias.load", "/etc/apache2/sites-enabled/000-default.conf"} {
		f.SetPath(p, true)
	}
	f.Files["/etc/fstab"] = []byte("# /etc/fstab: static file system information.\nUUID=1234 / ext4 errors=remount-ro 0 1\n")
	for _, n := range vm.NICs {
		if n.Gateway.IsValid() && g.routes == "" {
			g.routes = fmt.Sprintf("default via %s dev %s proto static\n", n.Gateway, n.Device)
		}
	}
	ok := func(s string) ssh.Result { return ssh.Result{Stdout: []byte(s)} }
	fail := func(code int, s string) ssh.Result { return ssh.Result{ExitCode: code, Stderr: []byte(s)} }

	f.Handle(`ls -1 /dev/disk/by-id/`, func(*rolestest.Fake, []string) ssh.Result {
		var b strings.Builder
		b.WriteString("virtio-sys-disk\nvirtio-sys-disk-part1\n")
		for _, d := range vm.Disks {
			fmt.Fprintf(&b, "virtio-%s\n", d.Serial)
		}
		return ok(b.String())
	})
	f.Handle(`mdadm --examine --brief .* 2>/dev/null \|\| true`, func(*rolestest.Fake, []string) ssh.Result { return ok("") })
	f.Handle(`mdadm --create /dev/md/(\S+) --run .*--level=(\d+) .*`, func(f *rolestest.Fake, m []string) ssh.Result {
		var lvl int
		fmt.Sscan(m[2], &lvl)
		g.arrays[m[1]] = lvl
		g.creates++
		f.SetPath("/dev/md/"+m[1], true)
		return ok("")
	})
	f.Handle(`udevadm settle`, func(*rolestest.Fake, []string) ssh.Result { return ok("") })
	f.Handle(`mdadm --detail /dev/md/(\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		lvl, found := g.arrays[m[1]]
		if !found {
			return fail(1, "mdadm: cannot open /dev/md/"+m[1]+": No such file or directory\n")
		}
		return ok(fmt.Sprintf("/dev/md/%s:\n        Raid Level : raid%d\n      Raid Devices : %d\n             State : clean, resyncing\n", m[1], lvl, vm.RAID.Members))
	})
	f.Handle(`mdadm --detail --brief /dev/md/(\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		if _, found := g.arrays[m[1]]; !found {
			return fail(1, "mdadm: cannot open /dev/md/"+m[1]+"\n")
		}
		return ok(fmt.Sprintf("ARRAY /dev/md/%s metadata=1.2 spares=%d name=%s:%s UUID=3aaa0122:29827cfa:5331ad66:ca767371\n", m[1], vm.RAID.Spares, vm.Hostname, m[1]))
	})
	f.Handle(`blkid -o value -s TYPE (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		if t := g.fs[m[1]]; t != "" {
			return ok(t + "\n")
		}
		return fail(2, "")
	})
	f.Handle(`mkfs\.(ext4|xfs) -q (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		g.fs[m[2]] = m[1]
		g.mkfs++
		return ok("")
	})
	f.Handle(`findmnt -n --mountpoint (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		if g.mounts[m[1]] == "" {
			return fail(1, "")
		}
		return ok(m[1] + " " + g.mounts[m[1]] + "\n")
	})
	f.Handle(`findmnt -n -o SOURCE --mountpoint (\S+) \|\| true`, func(_ *rolestest.Fake, m []string) ssh.Result {
		return ok(g.mounts[m[1]] + "\n")
	})
	f.Handle(`mount (\S+)`, func(f *rolestest.Fake, m []string) ssh.Result {
		for _, line := range strings.Split(string(f.Files["/etc/fstab"]), "\n") {
			fl := strings.Fields(line)
			if len(fl) >= 2 && fl[1] == m[1] && !strings.HasPrefix(fl[0], "#") {
				g.mounts[m[1]] = fl[0]
				return ok("")
			}
		}
		return fail(32, "mount: "+m[1]+": can't find in /etc/fstab.\n")
	})
	f.Handle(`mount -o remount (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		if g.mounts[m[1]] == "" {
			return fail(32, "mount: "+m[1]+": not mounted.\n")
		}
		g.remounts[m[1]]++
		return ok("")
	})
	f.Handle(`grep -q BOOT_IMAGE= /proc/cmdline`, func(*rolestest.Fake, []string) ssh.Result { return ok("") })
	f.Handle(`update-initramfs -u`, func(*rolestest.Fake, []string) ssh.Result { g.initramfs++; return ok("") })
	f.Handle(`exportfs -ra`, func(*rolestest.Fake, []string) ssh.Result { g.exportfsRa++; return ok("") })
	f.Handle(`ls /etc/apache2/mods-enabled/ \| grep -q '\^php\.\*\\\.load\$'`, func(f *rolestest.Fake, _ []string) ssh.Result {
		if f.Exists("/etc/apache2/mods-enabled/php8.2.load") {
			return ok("")
		}
		return fail(1, "")
	})
	f.Handle(`a2enmod -q (.+)`, func(f *rolestest.Fake, m []string) ssh.Result {
		for _, mod := range strings.Fields(m[1]) {
			f.SetPath("/etc/apache2/mods-enabled/"+mod+".load", true)
		}
		return ok("")
	})
	f.Handle(`apache2ctl configtest`, func(*rolestest.Fake, []string) ssh.Result { return ssh.Result{Stderr: []byte("Syntax OK\n")} })
	f.Handle(`keepalived -t -f \S+`, func(*rolestest.Fake, []string) ssh.Result { return ok("") })
	f.Handle(`modprobe (\S+)`, func(f *rolestest.Fake, m []string) ssh.Result {
		f.SetPath("/sys/module/"+m[1], true)
		return ok("")
	})
	f.Handle(`ip -4 route show default`, func(*rolestest.Fake, []string) ssh.Result { return ok(g.routes) })
	f.Handle(`ip -4 -o addr show dev (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		if m[1] == "tunl0" && !f.Exists("/sys/module/ipip") {
			return fail(1, "Device \"tunl0\" does not exist.\n")
		}
		var b strings.Builder
		for _, a := range g.addrs[m[1]] {
			fmt.Fprintf(&b, "1: %s    inet %s scope global %s\\       valid_lft forever preferred_lft forever\n", m[1], a, m[1])
		}
		return ok(b.String())
	})
	routeRe := regexp.MustCompile(`^ip -4 route replace default via (\S+) dev (\S+)$`)
	addrRe := regexp.MustCompile(`^ip -4 addr replace (\S+) dev (\S+)$`)
	f.Handle(`/usr/local/sbin/labctl-realserver`, func(f *rolestest.Fake, _ []string) ssh.Result {
		for _, line := range strings.Split(string(f.Files[rsScript]), "\n") {
			if m := routeRe.FindStringSubmatch(line); m != nil {
				g.routes = fmt.Sprintf("default via %s dev %s\n", m[1], m[2])
			}
			if m := addrRe.FindStringSubmatch(line); m != nil && !strings.Contains(strings.Join(g.addrs[m[2]], " "), m[1]) {
				g.addrs[m[2]] = append(g.addrs[m[2]], m[1])
			}
			if line == "modprobe ipip" {
				f.SetPath("/sys/module/ipip", true)
			}
		}
		return ok("")
	})
	return g
}

// guests builds one simulated guest per VM of lab.
func guests(lab *topology.Lab) map[string]*guest {
	out := map[string]*guest{}
	for _, vm := range lab.VMs {
		out[vm.Name] = newGuest(vm)
	}
	return out
}

func hostsOf(gs map[string]*guest) Hosts {
	return func(name string) (ssh.Runner, error) {
		g, ok := gs[name]
		if !ok {
			return nil, fmt.Errorf("no such VM %q", name)
		}
		return g.Fake, nil
	}
}
