package verify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Storage checks: NFS mounts on the clients, RAID health on the servers.

// nfs checks that every client has the export mounted, and that on a RAID
// server the exported directory lives on the array.
func (v *verifier) nfs(ctx context.Context, e *topology.NFSExport) {
	if e.Server != nil && e.Server.RAID != nil {
		md := "/dev/md/" + e.Server.RAID.Name
		out, err := v.run(ctx, e.Server.Name, "findmnt -n -o SOURCE --target "+ssh.Quote(e.Path)+"; readlink -f "+ssh.Quote(md))
		f := strings.Fields(out)
		obs := strings.Join(f, " ")
		ok := err == nil && len(f) == 2 && f[0] == f[1]
		if err != nil {
			obs = short(err)
		} else if len(f) == 2 {
			obs = f[0]
		}
		want := md
		if len(f) == 2 {
			want = f[1] + " (" + md + ")"
		}
		v.add(Check{Kind: topology.GradeNFS, Name: "export " + e.Path + " on RAID", VM: e.Server.Name, Expected: want, Observed: obs, OK: ok})
	}
	want := e.ServerIP.String() + ":" + e.Path
	for _, c := range e.Clients {
		out, err := v.run(ctx, c.Name, "findmnt -n -o SOURCE,FSTYPE --mountpoint "+ssh.Quote(e.MountPoint)+"; true")
		f := strings.Fields(out)
		obs := "not mounted"
		ok := false
		switch {
		case err != nil:
			obs = short(err)
		case len(f) >= 2:
			obs = f[0] + " (" + f[1] + ")"
			ok = f[0] == want && strings.HasPrefix(f[1], "nfs")
		}
		v.add(Check{Kind: topology.GradeNFS, Name: "NFS mounted on " + e.MountPoint, VM: c.Name, Expected: want + " (nfs)", Observed: obs, OK: ok})
	}
}

// raid checks level, member count and state with `mdadm --detail`, and
// takes the resync progress from /proc/mdstat. A resyncing array is ok.
func (v *verifier) raid(ctx context.Context, vm *topology.VM) {
	r := vm.RAID
	md := "/dev/md/" + r.Name
	exp := fmt.Sprintf("raid%d, %d active, %d spare, clean", r.Level, r.Members, r.Spares)
	out, err := v.run(ctx, vm.Name, "mdadm --detail "+md)
	if err != nil {
		v.add(Check{Kind: topology.GradeRAID, Name: "RAID " + md, VM: vm.Name, Expected: exp, Observed: short(err)})
		return
	}
	d := guestout.ParseMdadmDetail(out)
	var progress float64 = -1
	if d.SyncAction != "" {
		progress = float64(d.SyncPercent)
		if dev, err := v.run(ctx, vm.Name, "readlink -f "+md); err == nil {
			if st, err := v.run(ctx, vm.Name, "cat /proc/mdstat"); err == nil {
				for _, a := range guestout.ParseMdstat(st) {
					if "/dev/"+a.Name == strings.TrimSpace(dev) && a.Action != "" {
						progress = a.Progress
					}
				}
			}
		}
	}
	v.add(raidCheck(vm.Name, md, r, d, progress))
}

func raidCheck(vm, md string, r *topology.RAID, d guestout.MdadmDetail, progress float64) Check {
	exp := fmt.Sprintf("raid%d, %d active, %d spare, clean", r.Level, r.Members, r.Spares)
	syncing := d.SyncAction == "resync" || d.SyncAction == "recovery"
	obs := fmt.Sprintf("%s, %d active, %d spare, %s", d.Level, d.ActiveDevices, d.SpareDevices, d.State)
	ok := d.Level == fmt.Sprintf("raid%d", r.Level) && d.RaidDevices == r.Members && d.FailedDevices == 0
	switch {
	case syncing:
		// The initial sync of a new array: RAID 5 builds it as a recovery
		// onto the last member, which counts as a spare until it is done.
		ok = ok && d.WorkingDevices == r.Members+r.Spares
		obs = fmt.Sprintf("%s, %d/%d working", d.Level, d.WorkingDevices, r.Members+r.Spares)
		if ok {
			obs = fmt.Sprintf("ok (%s %s%%) %s", map[string]string{"resync": "resyncing", "recovery": "recovering"}[d.SyncAction],
				strconv.FormatFloat(progress, 'f', -1, 64), obs)
		}
	default:
		ok = ok && d.ActiveDevices == r.Members && d.SpareDevices == r.Spares &&
			!strings.Contains(d.State, "degraded") && !strings.Contains(d.State, "FAILED") && !strings.Contains(d.State, "inactive")
	}
	return Check{Kind: topology.GradeRAID, Name: "RAID " + md, VM: vm, Expected: exp, Observed: obs, OK: ok}
}
