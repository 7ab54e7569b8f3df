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

func TestCrmMonRunningOn(t *testing.T) {
	started, err := ParseCrmMon(read(t, "crm_mon-started.xml"))
	if err != nil {
		t.Fatal(err)
	}
	failed, err := ParseCrmMon(read(t, "crm_mon-ldirectord-failed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	moving := CrmMon{Resources: []CrmResource{
		{ID: "p_vip", Active: true, Nodes: []string{"a"}},
		{ID: "p_ld", Active: true, Nodes: []string{"b"}},
		{ID: "p_gw"},
	}}
	for _, c := range []struct {
		name      string
		m         CrmMon
		node      string // argument of Misplaced
		misplaced []string
		on        string
	}{
		{"started", started, "", nil, "director-1"},
		{"started, wanted elsewhere", started, "director-2", []string{"p_www_vip on director-1", "p_www_gateway on director-1", "p_ldirectord on director-1"}, "director-1"},
		{"failed", failed, "", []string{"p_ldirectord failed"}, ""},
		{"moving", moving, "", []string{"p_ld on b", "p_gw stopped"}, ""},
		{"none", CrmMon{}, "", nil, ""},
	} {
		if got := c.m.Misplaced(c.node); !cmp.Equal(got, c.misplaced) {
			t.Errorf("%s: Misplaced(%q) = %q, want %q", c.name, c.node, got, c.misplaced)
		}
		if got := c.m.RunningOn(); got != c.on {
			t.Errorf("%s: RunningOn() = %q, want %q", c.name, got, c.on)
		}
	}
}
