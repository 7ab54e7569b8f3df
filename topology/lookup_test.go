package topology

import "testing"

func TestLookups(t *testing.T) {
	lab := loadLab(t, "lvs-nat-ha", LoadOptions{})
	if v := lab.VM("web-2"); v == nil || v.Name != "web-2" || v != lab.VMs[5] {
		t.Errorf("VM(web-2) = %+v", v)
	}
	if n := lab.Network("mgmt"); n != lab.Management {
		t.Errorf("Network(mgmt) = %+v, want the management network", n)
	}
	if s := lab.Service(lab.LVS[0].Name); s != lab.LVS[0] {
		t.Errorf("Service(%s) = %+v", lab.LVS[0].Name, s)
	}
	if e := lab.Experiment("scaling_ab"); e == nil || e.Tool != ToolAB {
		t.Errorf("Experiment(scaling_ab) = %+v", e)
	}
	if lab.VM("web-9") != nil || lab.Network("nope") != nil || lab.Service("nope") != nil || lab.Experiment("nope") != nil {
		t.Error("a missing name found something")
	}
	st := lab.VM("storage")
	if !st.HasRole(RoleRAID) || !st.HasRole(RoleNFSServer) || st.HasRole(RoleWeb) {
		t.Errorf("storage roles %v", st.Roles)
	}
}

func TestRoleUnit(t *testing.T) {
	want := map[Role]string{RoleDirector: "keepalived", RolePacemaker: "pacemaker", RoleWeb: "apache2", RoleNFSServer: "nfs-server"}
	for _, r := range RoleOrder {
		if got := r.Unit(); got != want[r] {
			t.Errorf("%s.Unit() = %q, want %q", r, got, want[r])
		}
	}
}
