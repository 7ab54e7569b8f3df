package rolestest

import (
	"fmt"
	"net/netip"

	"github.com/labctl/labctl/topology"
)

// ThesisLab builds by hand the cluster of the thesis, expanded the way the
// loader expands it: two directors, three web servers, one storage VM with
// RAID 6 over five virtio disks, one client; external 192.168.100.0/24
// (nat), internal 10.0.10.0/24 (isolated), a management network last on
// every VM; VIP 192.168.100.200 and, for NAT, gateway VIP 10.0.10.254.
//
// mode picks the LVS forwarding method. For DR and TUN the web servers also
// get an external NIC and are reached there.
func ThesisLab(mode topology.LVSMode) *topology.Lab {
	ext := &topology.Network{Name: "external", LibvirtName: "thesis-external", Mode: topology.NetNAT,
		CIDR: netip.MustParsePrefix("192.168.100.0/24"), HostIP: netip.MustParseAddr("192.168.100.1")}
	in := &topology.Network{Name: "internal", LibvirtName: "thesis-internal", Mode: topology.NetIsolated,
		CIDR: netip.MustParsePrefix("10.0.10.0/24")}
	mgmt := &topology.Network{Name: "mgmt", LibvirtName: "thesis-mgmt", Mode: topology.NetIsolated,
		CIDR: netip.MustParsePrefix("10.254.0.0/24"), Management: true}
	lab := &topology.Lab{Name: "thesis", Image: "debian-12", SSHUser: "labctl",
		Networks: []*topology.Network{ext, in, mgmt}, Management: mgmt}

	mgmtIP := 10
	vm := func(name, group string, index int, roles []topology.Role, nics ...*topology.NIC) *topology.VM {
		mgmtIP++
		nics = append(nics, &topology.NIC{Network: mgmt, IP: netip.AddrFrom4([4]byte{10, 254, 0, byte(mgmtIP)}), Prefix: 24, Management: true})
		for i, n := range nics {
			n.Device = fmt.Sprintf("eth%d", i)
			n.Model = "virtio"
			n.MAC = fmt.Sprintf("52:54:00:00:%02x:%02x", mgmtIP, i)
			if n.Prefix == 0 {
				n.Prefix = 24
			}
		}
		v := &topology.VM{Name: name, Group: group, Index: index, LibvirtName: "thesis-" + name, Hostname: name,
			VCPUs: 1, MemoryMiB: 512, Image: "debian-12", CPUMode: "host-model", NICs: nics, Roles: roles}
		lab.VMs = append(lab.VMs, v)
		return v
	}
	ip := netip.MustParseAddr
	gw := ip("10.0.10.254")
	client := vm("client", "client", 0, []topology.Role{topology.RoleClient},
		&topology.NIC{Network: ext, IP: ip("192.168.100.50"), Gateway: ip("192.168.100.1")})
	d1 := vm("director-1", "director", 0, []topology.Role{topology.RoleDirector},
		&topology.NIC{Network: ext, IP: ip("192.168.100.11"), Gateway: ip("192.168.100.1")},
		&topology.NIC{Network: in, IP: ip("10.0.10.1")})
	d2 := vm("director-2", "director", 1, []topology.Role{topology.RoleDirector},
		&topology.NIC{Network: ext, IP: ip("192.168.100.12"), Gateway: ip("192.168.100.1")},
		&topology.NIC{Network: in, IP: ip("10.0.10.2")})
	storage := vm("storage", "storage", 0, []topology.Role{topology.RoleRAID, topology.RoleNFSServer},
		&topology.NIC{Network: in, IP: ip("10.0.10.20")})
	storage.RAID = &topology.RAID{Name: "data", Level: 6, Members: 5, MemberSize: 1 << 30, ChunkKiB: 512,
		Filesystem: "ext4", Mount: "/srv/raid", Bus: "virtio"}
	for i := range 5 {
		storage.Disks = append(storage.Disks, &topology.Disk{Name: fmt.Sprintf("raid-%d", i), SizeBytes: 1 << 30,
			Bus: "virtio", Format: "qcow2", Target: fmt.Sprintf("vd%c", 'b'+i), Serial: fmt.Sprintf("lab-storage-raid-%d", i), RAIDMember: true})
	}
	var webs []*topology.VM
	var backends []*topology.Backend
	for i := range 3 {
		inIP := netip.AddrFrom4([4]byte{10, 0, 10, byte(11 + i)})
		nics := []*topology.NIC{{Network: in, IP: inIP}}
		backendIP := inIP
		if mode == topology.LVSNAT {
			nics[0].Gateway = gw
		} else {
			extIP := netip.AddrFrom4([4]byte{192, 168, 100, byte(21 + i)})
			nics = append(nics, &topology.NIC{Network: ext, IP: extIP, Gateway: ip("192.168.100.1")})
			backendIP = extIP
		}
		w := vm(fmt.Sprintf("web-%d", i+1), "web", i,
			[]topology.Role{topology.RoleNFSClient, topology.RoleWeb, topology.RoleRealServer}, nics...)
		webs = append(webs, w)
		backends = append(backends, &topology.Backend{VM: w, IP: backendIP, Weight: 1})
	}
	// Sort VMs by name like the loader does.
	lab.VMs = []*topology.VM{client, d1, d2, storage, webs[0], webs[1], webs[2]}

	svc := &topology.LVSService{Name: "www", Stack: topology.StackKeepalived, VIP: ip("192.168.100.200"), VIPNetwork: ext, Port: 80, Protocol: "tcp",
		Mode: mode, Scheduler: "wlc", Directors: []*topology.VM{d1, d2}, Backends: backends, RouterID: 51,
		Health: topology.HealthCheck{Type: "http", Path: "/health.html", Status: 200, IntervalSec: 6, TimeoutSec: 3, Retries: 2}}
	if mode == topology.LVSNAT {
		svc.GatewayVIP, svc.GatewayNet = gw, in
	}
	lab.LVS = []*topology.LVSService{svc}
	export := &topology.NFSExport{Name: "www", Server: storage, ServerIP: ip("10.0.10.20"), Path: "/srv/raid/www",
		Allow: netip.MustParsePrefix("10.0.10.0/24"), Options: []string{"rw", "sync", "no_subtree_check"},
		Clients: webs, MountPoint: "/var/www/nfs", MountOpts: []string{"_netdev", "hard", "vers=4.2"}}
	lab.NFS = []*topology.NFSExport{export}
	lab.Web = []*topology.WebSite{{Name: "www", Servers: webs, Docroot: "/var/www/nfs", Content: export, HealthPath: "/health.html"}}
	lab.Experiments = []*topology.Experiment{{Name: "baseline", Service: "www", Client: client, Tool: "builtin", Concurrency: 10, Requests: 1000, Repeat: 3}}
	return lab
}

// Variants returns the thesis lab in every forwarding mode, with options
// that exercise the other template branches: DR with persistence and a
// sorry server, TUN with a TCP check and weights.
func Variants() map[string]*topology.Lab {
	nat := ThesisLab(topology.LVSNAT)
	dr := ThesisLab(topology.LVSDR)
	dr.Name = "thesis-dr"
	dr.LVS[0].Scheduler = "wrr"
	dr.LVS[0].Persistence = &topology.Persistence{TimeoutSec: 600, Netmask: "255.255.255.0"}
	dr.LVS[0].SorryServer = "192.168.100.99:80"
	tun := ThesisLab(topology.LVSTUN)
	tun.Name = "thesis-tun"
	tun.LVS[0].Scheduler = "sh"
	tun.LVS[0].Health = topology.HealthCheck{Type: "tcp", IntervalSec: 2, TimeoutSec: 1, Retries: 1}
	for i, b := range tun.LVS[0].Backends {
		b.Weight = i + 1
	}
	tun.VMs[3].RAID.Level, tun.VMs[3].RAID.Members, tun.VMs[3].RAID.Spares, tun.VMs[3].RAID.Filesystem = 5, 4, 1, "xfs"
	return map[string]*topology.Lab{"thesis": nat, "thesis-dr": dr, "thesis-tun": tun}
}
