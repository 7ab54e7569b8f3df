package topology

import (
	"github.com/hashicorp/hcl/v2"
)

// Static schemas: hclsyntax rejects anything else with "did you mean".

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "lab", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "network", LabelNames: []string{"name"}},
	{Type: "template", LabelNames: []string{"name"}},
	{Type: "vm", LabelNames: []string{"name"}},
	{Type: "nfs", LabelNames: []string{"name"}},
	{Type: "web", LabelNames: []string{"name"}},
	{Type: "lvs", LabelNames: []string{"name"}},
	{Type: "experiment", LabelNames: []string{"name"}},
	{Type: "exercise", LabelNames: []string{"name"}},
}}

func attrs(names ...string) []hcl.AttributeSchema {
	out := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl.AttributeSchema{Name: n}
	}
	return out
}

func required(s []hcl.AttributeSchema, names ...string) []hcl.AttributeSchema {
	for i := range s {
		for _, n := range names {
			if s[i].Name == n {
				s[i].Required = true
			}
		}
	}
	return s
}

var schemas = map[string]*hcl.BodySchema{
	"lab":      {Attributes: attrs("uri", "pool", "shared_pool", "pool_path", "image", "accel", "ssh_user", "management_cidr", "copies")},
	"variable": {Attributes: attrs("type", "default", "description")},
	"network":  {Attributes: required(attrs("mode", "cidr", "host_ip", "dhcp", "mtu", "domain", "bridge"), "cidr")},
	"vm": {
		Attributes: attrs("count", "from", "vcpus", "memory", "cpu", "image", "hostname", "roles"),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "nic", LabelNames: []string{"network"}},
			{Type: "disk", LabelNames: []string{"name"}},
			{Type: "raid", LabelNames: []string{"name"}},
		},
	},
	"nic":          {Attributes: attrs("ip", "gateway", "mac", "model", "mtu")},
	"disk":         {Attributes: required(attrs("size", "bus", "format", "cache"), "size")},
	"raid":         {Attributes: required(attrs("level", "members", "member_size", "spares", "chunk", "bus", "format", "cache", "filesystem", "mount"), "level", "members", "member_size")},
	"nfs":          {Attributes: required(attrs("server", "path", "allow", "options", "clients", "mount", "mount_options"), "server", "path")},
	"web":          {Attributes: required(attrs("servers", "content", "docroot", "health_path"), "servers")},
	"persistence":  {Attributes: attrs("timeout", "netmask")},
	"health_check": {Attributes: attrs("type", "path", "status", "interval", "timeout", "retries")},
	"lvs": {
		Attributes: required(attrs("vip", "gateway_vip", "port", "protocol", "mode", "scheduler", "directors", "backends", "weights", "sorry_server", "router_id", "stack", "migration_threshold", "failure_timeout"), "vip", "directors", "backends"),
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "persistence"},
			{Type: "health_check"},
		},
	},
	"experiment": {
		Attributes: required(attrs("service", "client", "tool", "concurrency", "requests", "duration", "rate", "repeat", "real_servers", "schedulers"), "service"),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "fault", LabelNames: []string{"kind"}}},
	},
	"fault":    {Attributes: required(attrs("target", "after"), "target")},
	"exercise": {Attributes: attrs("roles", "vms", "points")},
}

// Allowed values of enumerations (schedulers, load tools, fault kinds and
// roles are in kinds.go).
var (
	accels       = []string{"auto", "kvm", "tcg"}
	netModes     = []string{"nat", "isolated", "routed", "bridge"}
	buses        = []string{"virtio", "sata", "scsi", "ide"}
	nicModels    = []string{"virtio", "e1000", "rtl8139"}
	diskFormats  = []string{"qcow2", "raw"}
	diskCaches   = []string{"default", "none", "writeback", "writethrough", "unsafe", "directsync"}
	filesystems  = []string{"ext4", "xfs"}
	lvsModes     = []string{"nat", "dr", "tun"}
	protocols    = []string{"tcp", "udp"}
	healthTypes  = []string{"http", "tcp"}
	cpuModes     = []string{"host-passthrough", "host-model", "maximum"}
	raidLevels   = map[int]int{0: 2, 1: 2, 5: 3, 6: 4, 10: 4} // level → minimum members
	referRoots   = []string{"var", "local", "network", "template", "vm", "nfs", "lvs", "web", "count"}
	referKinds   = []string{"network", "template", "vm", "nfs", "lvs", "web"}
	reservedNets = []string{"mgmt"}
)
