package guestout

import (
	"encoding/xml"
	"fmt"
)

// CrmMonCmd prints what ParseCrmMon reads.
const CrmMonCmd = "crm_mon -1 --output-as=xml"

// CrmMon is what `crm_mon -1 --output-as=xml` (Pacemaker 2.1) says of a
// cluster: quorum, nodes and where each resource runs.
type CrmMon struct {
	DC        string // the designated controller's node name ("" = none)
	Quorate   bool
	Nodes     []CrmNode
	Resources []CrmResource // group members flattened, in order
}

// CrmNode is one cluster node.
type CrmNode struct {
	Name    string
	Online  bool
	Standby bool
}

// CrmResource is one primitive and the nodes it is active on.
type CrmResource struct {
	ID, Group, Agent, Role string
	Active, Failed         bool
	Nodes                  []string
}

type crmMonXML struct {
	DC struct {
		Present    bool   `xml:"present,attr"`
		Name       string `xml:"name,attr"`
		WithQuorum bool   `xml:"with_quorum,attr"`
	} `xml:"summary>current_dc"`
	Nodes []struct {
		Name    string `xml:"name,attr"`
		Online  bool   `xml:"online,attr"`
		Standby bool   `xml:"standby,attr"`
	} `xml:"nodes>node"`
	Groups []struct {
		ID        string           `xml:"id,attr"`
		Resources []crmResourceXML `xml:"resource"`
	} `xml:"resources>group"`
	Resources []crmResourceXML `xml:"resources>resource"`
}

type crmResourceXML struct {
	ID     string `xml:"id,attr"`
	Agent  string `xml:"resource_agent,attr"`
	Role   string `xml:"role,attr"`
	Active bool   `xml:"active,attr"`
	Failed bool   `xml:"failed,attr"`
	Nodes  []struct {
		Name string `xml:"name,attr"`
	} `xml:"node"`
}

// ParseCrmMon parses crm_mon's XML output.
func ParseCrmMon(out string) (CrmMon, error) {
	var x crmMonXML
	if err := xml.Unmarshal([]byte(out), &x); err != nil {
		return CrmMon{}, fmt.Errorf("parse crm_mon XML: %w", err)
	}
	m := CrmMon{Quorate: x.DC.WithQuorum}
	if x.DC.Present {
		m.DC = x.DC.Name
	}
	for _, n := range x.Nodes {
		m.Nodes = append(m.Nodes, CrmNode{Name: n.Name, Online: n.Online, Standby: n.Standby})
	}
	add := func(group string, r crmResourceXML) {
		cr := CrmResource{ID: r.ID, Group: group, Agent: r.Agent, Role: r.Role, Active: r.Active, Failed: r.Failed}
		for _, n := range r.Nodes {
			cr.Nodes = append(cr.Nodes, n.Name)
		}
		m.Resources = append(m.Resources, cr)
	}
	for _, g := range x.Groups {
		for _, r := range g.Resources {
			add(g.ID, r)
		}
	}
	for _, r := range x.Resources {
		add("", r)
	}
	return m, nil
}

// Online lists the nodes that are online and not in standby.
func (m CrmMon) Online() []string {
	var out []string
	for _, n := range m.Nodes {
		if n.Online && !n.Standby {
			out = append(out, n.Name)
		}
	}
	return out
}

// Misplaced says why the resources do not all run, healthy, on node alone:
// "<id> stopped", "<id> on 2 nodes", "<id> on <other node>", "<id> failed".
// With node "", the node of the first running resource is the one wanted.
// No resources at all is not misplaced; callers decide what that means.
func (m CrmMon) Misplaced(node string) []string {
	if node == "" {
		for _, r := range m.Resources {
			if r.Active && len(r.Nodes) == 1 {
				node = r.Nodes[0]
				break
			}
		}
	}
	var bad []string
	for _, r := range m.Resources {
		switch {
		case !r.Active || len(r.Nodes) == 0:
			bad = append(bad, r.ID+" stopped")
		case len(r.Nodes) > 1:
			bad = append(bad, fmt.Sprintf("%s on %d nodes", r.ID, len(r.Nodes)))
		case r.Nodes[0] != node:
			bad = append(bad, r.ID+" on "+r.Nodes[0])
		case r.Failed:
			bad = append(bad, r.ID+" failed")
		}
	}
	return bad
}

// RunningOn returns the node every resource runs on, healthy, or "" while
// there are none or they are stopped, failed, moving or spread over nodes.
func (m CrmMon) RunningOn() string {
	if len(m.Resources) == 0 || len(m.Misplaced("")) > 0 {
		return ""
	}
	return m.Resources[0].Nodes[0]
}
