package testbed

import (
	"context"
	"os/exec"
	"strings"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/ssh"
)

// ProvenanceInput is what the caller knows about where the lab runs.
type ProvenanceInput struct {
	HV          libvirt.Hypervisor
	Local       bool   // the libvirt daemon runs on this host (QEMU version via its binary)
	DomainType  string // resolved libvirt domain type: kvm | qemu
	Image       string
	ImageDigest string
	Client      ssh.Runner // client VM, for the tool version; nil = skip
	Tool        string     // builtin | ab | siege
	Version     string     // labctl version, for the builtin tool
}

// hvVersioner reports the hypervisor's (QEMU's) version, when offered.
type hvVersioner interface {
	HypervisorVersion(ctx context.Context) (string, error)
}

// Provenance fills the lab side of result.Provenance; Bench.Run adds the
// host side and the times. Lookups that fail leave their field empty.
func Provenance(ctx context.Context, in ProvenanceInput) result.Provenance {
	p := result.Provenance{Image: in.Image, ImageDigest: in.ImageDigest, Accel: "tcg"}
	if in.DomainType == "kvm" {
		p.Accel = "kvm"
	}
	if in.HV != nil {
		if h, err := in.HV.Host(ctx); err == nil {
			p.LibvirtVersion = h.LibvirtVersion
		}
		if v, ok := in.HV.(hvVersioner); ok {
			p.QEMUVersion, _ = v.HypervisorVersion(ctx)
		} else if in.Local {
			if c, err := in.HV.Capabilities(ctx); err == nil && c.Emulator != "" {
				p.QEMUVersion = emulatorVersion(ctx, c.Emulator)
			}
		}
	}
	if in.Client != nil {
		p.ToolVersion = toolVersion(ctx, in.Client, in.Tool, in.Version)
	}
	return p
}

// emulatorVersion runs `qemu-system-x86_64 --version`: "QEMU emulator
// version 7.2.22 (Debian …)" → "7.2.22 (Debian …)".
func emulatorVersion(ctx context.Context, path string) string {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return ""
	}
	line := firstLine(strings.TrimSpace(string(out)))
	return strings.TrimPrefix(line, "QEMU emulator version ")
}

func toolVersion(ctx context.Context, r ssh.Runner, tool, version string) string {
	var cmd string
	switch tool {
	case "ab":
		cmd = "ab -V 2>&1 | head -n 1"
	case "siege":
		cmd = "siege --version 2>&1 | head -n 1"
	default:
		return "labctl load-agent " + version
	}
	res, err := r.Run(ctx, cmd)
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(res.Stdout))
	s = strings.TrimPrefix(s, "This is ")
	if i := strings.Index(s, " <$Revision"); i >= 0 {
		s = s[:i]
	}
	return s
}
