package guestout

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseIPVS(t *testing.T) {
	got := ParseIPVS(read(t, "ipvsadm-dr-persistent.txt"))
	want := []IPVSService{
		{Protocol: "TCP", Addr: "192.168.100.200:80", Scheduler: "wrr", Persistent: 600, Mask: "255.255.255.0", Destinations: []IPVSDest{
			{Addr: "192.168.100.21:80", Forward: "Route", Weight: 1},
			{Addr: "192.168.100.22:80", Forward: "Route", Weight: 1},
			{Addr: "192.168.100.23:80", Forward: "Route", Weight: 1},
		}},
		{Protocol: "UDP", Addr: "192.168.100.200:53", Scheduler: "sh", Flags: "sh-fallback,sh-port", Destinations: []IPVSDest{
			{Addr: "192.168.100.21:53", Forward: "Tunnel", Weight: 3},
		}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("-want +got:\n%s", d)
	}
	nat := ParseIPVS(read(t, "ipvsadm-nat.txt"))
	if len(nat) != 1 || len(nat[0].Destinations) != 3 || nat[0].Destinations[2] != (IPVSDest{Addr: "10.0.10.13:80", Forward: "Masq", Weight: 1, ActiveConn: 1, InActConn: 2}) {
		t.Errorf("nat: %+v", nat)
	}
	if got := ParseIPVS("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"); len(got) != 0 {
		t.Errorf("empty table: %+v", got)
	}
}

func TestParseMdadmDetail(t *testing.T) {
	tests := []struct {
		file string
		want MdadmDetail
	}{
		{"mdadm-detail-raid6-resync.txt", MdadmDetail{Level: "raid6", RaidDevices: 5, TotalDevices: 5, ActiveDevices: 5, WorkingDevices: 5,
			State: "clean, resyncing", SyncAction: "resync", SyncPercent: 41, Name: "storage:data", UUID: "6b2bf3e1:0f3c5d8e:9f2a1c44:7d0e5b21"}},
		{"mdadm-detail-raid6-clean.txt", MdadmDetail{Level: "raid6", RaidDevices: 5, TotalDevices: 5, ActiveDevices: 5, WorkingDevices: 5,
			State: "clean", Name: "storage:data", UUID: "6b2bf3e1:0f3c5d8e:9f2a1c44:7d0e5b21"}},
		{"mdadm-detail-raid6-degraded.txt", MdadmDetail{Level: "raid6", RaidDevices: 5, TotalDevices: 5, ActiveDevices: 4, WorkingDevices: 4,
			FailedDevices: 1, State: "clean, degraded", Name: "storage:data", UUID: "6b2bf3e1:0f3c5d8e:9f2a1c44:7d0e5b21"}},
		{"mdadm-detail-raid5-recovery.txt", MdadmDetail{Level: "raid5", RaidDevices: 4, TotalDevices: 5, ActiveDevices: 3, WorkingDevices: 5,
			SpareDevices: 2, State: "clean, degraded, recovering", SyncAction: "recovery", SyncPercent: 23, Name: "storage:data", UUID: "0a1b2c3d:4e5f6071:8293a4b5:c6d7e8f9"}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, ParseMdadmDetail(read(t, tt.file))); d != "" {
			t.Errorf("%s: -want +got:\n%s", tt.file, d)
		}
	}
}

func TestParseMdstat(t *testing.T) {
	got := ParseMdstat(read(t, "mdstat-raid5-recovery.txt"))
	want := []MdstatArray{
		{Name: "md127", Active: true, Level: "raid5", Want: 4, Have: 3, Map: "UUU_", Action: "recovery", Progress: 23.0, Members: []MdstatMember{
			{Dev: "vde", Slot: 5}, {Dev: "vdf", Slot: 4, Spare: true}, {Dev: "vdd", Slot: 2}, {Dev: "vdc", Slot: 1}, {Dev: "vdb", Slot: 0}}},
		{Name: "md0", Active: true, Level: "raid1", Want: 2, Have: 2, Map: "UU", Members: []MdstatMember{{Dev: "vdh", Slot: 1}, {Dev: "vdg", Slot: 0}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("-want +got:\n%s", d)
	}
	deg := ParseMdstat(read(t, "mdstat-raid6-degraded.txt"))
	if len(deg) != 1 || deg[0].Have != 4 || !deg[0].Members[3].Faulty || deg[0].Action != "" {
		t.Errorf("degraded: %+v", deg)
	}
	rs := ParseMdstat(read(t, "mdstat-raid6-resync.txt"))
	if len(rs) != 1 || rs[0].Action != "resync" || rs[0].Progress != 41.3 {
		t.Errorf("resync: %+v", rs)
	}
	delayed := ParseMdstat("md1 : active raid1 vdc[1] vdb[0]\n      1046528 blocks super 1.2 [2/2] [UU]\n        resync=DELAYED\n\n")
	if len(delayed) != 1 || delayed[0].Action != "resync" {
		t.Errorf("delayed: %+v", delayed)
	}
}
