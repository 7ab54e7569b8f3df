package guestout

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Captured on labs/thesis-pacemaker while ldirectord's start timed out
// (the 20 s default under TCG): the VIPs run, ldirectord is failed.
func TestParseCrmMonFailedStart(t *testing.T) {
	got, err := ParseCrmMon(read(t, "crm_mon-ldirectord-failed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := CrmMon{
		DC: "director-1", Quorate: true,
		Nodes: []CrmNode{{Name: "director-1", Online: true}, {Name: "director-2", Online: true}},
		Resources: []CrmResource{
			{ID: "p_www_vip", Group: "g_lvs", Agent: "ocf:heartbeat:IPaddr2", Role: "Started", Active: true, Nodes: []string{"director-1"}},
			{ID: "p_www_gateway", Group: "g_lvs", Agent: "ocf:heartbeat:IPaddr2", Role: "Started", Active: true, Nodes: []string{"director-1"}},
			{ID: "p_ldirectord", Group: "g_lvs", Agent: "ocf:heartbeat:ldirectord", Role: "Stopping", Active: true, Failed: true, Nodes: []string{"director-1"}},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("-want +got:\n%s", d)
	}
	if on := got.Online(); !cmp.Equal(on, []string{"director-1", "director-2"}) {
		t.Errorf("Online() = %v", on)
	}
}

func TestParseCrmMonRejectsText(t *testing.T) {
	if _, err := ParseCrmMon("Cluster Summary:\n  * Stack: corosync\n"); err == nil {
		t.Error("plain text parsed as crm_mon XML")
	}
}
