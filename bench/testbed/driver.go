package testbed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/tool"
	"github.com/labctl/labctl/provision/ssh"
)

// AgentPath is where labctl installs its own executable on the client VM;
// `AgentPath load-agent …` is the load generator and the prober.
const AgentPath = "/usr/local/bin/labctl-agent"

// InstallAgent copies bin (labctl's static executable) to AgentPath on the
// client unless the same file is already there.
func InstallAgent(ctx context.Context, r ssh.Runner, bin []byte) error {
	sum := sha256.Sum256(bin)
	want := hex.EncodeToString(sum[:])
	res, err := r.Run(ctx, "sha256sum "+AgentPath+" 2>/dev/null || true")
	if err == nil && bytes.HasPrefix(res.Stdout, []byte(want)) {
		return nil
	}
	if err := r.WriteFile(ctx, AgentPath, bin, 0o755); err != nil {
		return fmt.Errorf("install load agent on %s: %w", r.Host(), err)
	}
	return nil
}

// AgentDriver runs the built-in generator on the client VM through the
// installed agent (a bench.Driver).
type AgentDriver struct {
	Runner ssh.Runner
	Path   string // AgentPath unless set
	Config load.Config
}

// Name implements bench.Driver.
func (d *AgentDriver) Name() string { return "builtin" }

// Measure implements bench.Driver.
func (d *AgentDriver) Measure(ctx context.Context) (result.Sample, []byte, error) {
	if err := d.Config.Validate(); err != nil {
		return result.Sample{}, nil, err
	}
	path := d.Path
	if path == "" {
		path = AgentPath
	}
	cmd := tool.ShellJoin(append([]string{path, "load-agent"}, d.Config.Args()...))
	// The run stops by itself; the extra minute covers SSH under TCG.
	ctx, cancel := context.WithTimeout(ctx, d.Config.MaxDuration+time.Minute)
	defer cancel()
	res, err := d.Runner.Run(ctx, cmd)
	if err != nil {
		return result.Sample{}, res.Stdout, fmt.Errorf("load agent on %s: %w", d.Runner.Host(), err)
	}
	var r load.Result
	if err := json.Unmarshal(res.Stdout, &r); err != nil {
		return result.Sample{}, res.Stdout, fmt.Errorf("load agent on %s: parse result: %w", d.Runner.Host(), err)
	}
	if r.Schema != load.ResultSchema {
		return result.Sample{}, res.Stdout, fmt.Errorf("load agent on %s: schema %q, want %q", d.Runner.Host(), r.Schema, load.ResultSchema)
	}
	return result.FromLoad(&r), res.Stdout, nil
}
