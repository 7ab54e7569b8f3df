package guestout

import (
	"encoding/xml"
	"fmt"
)

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
