// Package topologytest holds generated labs shared by tests and benchmarks.
package topologytest

import (
	"fmt"
	"strings"
)

// LargeLab generates a lab of 20 networks and 200 VMs (20 fleets of 10),
// each VM on two networks, plus NFS, web and an LVS service per fleet pair.
func LargeLab() []byte {
	var b strings.Builder
	b.WriteString("lab \"large\" {}\n\ntemplate \"base\" {\n  memory = \"384MiB\"\n}\n\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "network \"n%d\" {\n  mode = \"nat\"\n  cidr = cidrsubnet(\"10.0.0.0/8\", 16, %d)\n}\n\n", i, i)
	}
	for g := 0; g < 20; g++ {
		a, c := g, (g+1)%20
		fmt.Fprintf(&b, `vm "g%d" {
  count = 10
  from  = template.base
  nic "n%d" {
    ip = cidrhost(network.n%d.cidr, 20 + count.index)
  }
  nic "n%d" {}
  disk "data" {
    size = "1GiB"
  }
}

`, g, a, a, c)
	}
	for g := 0; g < 20; g += 2 {
		fmt.Fprintf(&b, `nfs "x%d" {
  server  = vm.g%d[0]
  path    = "/srv/x%d"
  clients = slice(vm.g%d, 1, 10)
}

web "w%d" {
  servers = slice(vm.g%d, 2, 10)
  content = nfs.x%d
  docroot = "/srv/x%d"
}

lvs "s%d" {
  vip       = cidrhost(network.n%d.cidr, 200)
  mode      = "dr"
  directors = slice(vm.g%d, 0, 2)
  backends  = slice(vm.g%d, 2, 10)
}

`, g, g, g, g, g, g, g, g, g, g, g, g)
	}
	return []byte(b.String())
}
