package libvirt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// GuestExecResult is what a command run through the guest agent did.
type GuestExecResult struct {
	ExitCode       int
	Stdout, Stderr []byte
}

// agentTimeout bounds one guest agent call (libvirt's own default is 5 s;
// a starved TCG guest answers slower).
const agentTimeout = 30

// qgaRequest is one QEMU guest agent command.
type qgaRequest struct {
	Execute   string `json:"execute"`
	Arguments any    `json:"arguments,omitempty"`
}

type qgaExec struct {
	Path          string   `json:"path"`
	Arg           []string `json:"arg,omitempty"`
	InputData     string   `json:"input-data,omitempty"`
	CaptureOutput bool     `json:"capture-output"`
}

type qgaExecStatus struct {
	Exited   bool   `json:"exited"`
	ExitCode int    `json:"exitcode"`
	OutData  string `json:"out-data"`
	ErrData  string `json:"err-data"`
	Signal   int    `json:"signal"`
}

// qgaReply decodes an agent answer into ret, or its error.
func qgaReply(answer string, ret any) error {
	var r struct {
		Return json.RawMessage `json:"return"`
		Error  *struct {
			Class string `json:"class"`
			Desc  string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(answer), &r); err != nil {
		return fmt.Errorf("guest agent answer %q: %w", answer, err)
	}
	if r.Error != nil {
		return fmt.Errorf("guest agent: %s (%s)", r.Error.Desc, r.Error.Class)
	}
	if ret == nil || len(r.Return) == 0 {
		return nil
	}
	return json.Unmarshal(r.Return, ret)
}

// agent sends one command to the guest agent of an owned domain.
func (c *Conn) agent(ctx context.Context, lab, name string, req qgaRequest, ret any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.ownedDomain(lab, name)
	if err != nil {
		return err
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	out, err := c.l.QEMUDomainAgentCommand(d, string(b), agentTimeout, 0)
	if err != nil {
		return fmt.Errorf("domain %q: %s: %w", name, req.Execute, wrap(err))
	}
	if len(out) == 0 {
		return fmt.Errorf("domain %q: %s: no answer from the guest agent", name, req.Execute)
	}
	if err := qgaReply(out[0], ret); err != nil {
		return fmt.Errorf("domain %q: %s: %w", name, req.Execute, err)
	}
	return nil
}

// GuestPing implements Hypervisor.
func (c *Conn) GuestPing(ctx context.Context, lab, name string) error {
	return c.agent(ctx, lab, name, qgaRequest{Execute: "guest-ping"}, nil)
}

// GuestSetTime implements Hypervisor.
func (c *Conn) GuestSetTime(ctx context.Context, lab, name string, t time.Time) error {
	return c.agent(ctx, lab, name, qgaRequest{Execute: "guest-set-time", Arguments: map[string]int64{"time": t.UnixNano()}}, nil)
}

// GuestExec implements Hypervisor: argv runs as root in the guest, with
// stdin as its input; it returns when the command exits or timeout passes.
func (c *Conn) GuestExec(ctx context.Context, lab, name string, argv []string, stdin []byte, timeout time.Duration) (GuestExecResult, error) {
	if len(argv) == 0 {
		return GuestExecResult{}, fmt.Errorf("domain %q: guest-exec without a command", name)
	}
	req := qgaExec{Path: argv[0], Arg: argv[1:], CaptureOutput: true}
	if stdin != nil {
		req.InputData = base64.StdEncoding.EncodeToString(stdin)
	}
	var started struct {
		PID int `json:"pid"`
	}
	if err := c.agent(ctx, lab, name, qgaRequest{Execute: "guest-exec", Arguments: req}, &started); err != nil {
		return GuestExecResult{}, err
	}
	deadline := time.Now().Add(timeout)
	for {
		var st qgaExecStatus
		if err := c.agent(ctx, lab, name, qgaRequest{Execute: "guest-exec-status", Arguments: map[string]int{"pid": started.PID}}, &st); err != nil {
			return GuestExecResult{}, err
		}
		if st.Exited {
			return execResult(st)
		}
		if time.Now().After(deadline) {
			return GuestExecResult{}, fmt.Errorf("domain %q: %s did not finish in %s", name, strings.Join(argv[:1], " "), timeout)
		}
		select {
		case <-ctx.Done():
			return GuestExecResult{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func execResult(st qgaExecStatus) (GuestExecResult, error) {
	out, err := base64.StdEncoding.DecodeString(st.OutData)
	if err != nil {
		return GuestExecResult{}, fmt.Errorf("guest-exec output: %w", err)
	}
	errb, err := base64.StdEncoding.DecodeString(st.ErrData)
	if err != nil {
		return GuestExecResult{}, fmt.Errorf("guest-exec error output: %w", err)
	}
	r := GuestExecResult{ExitCode: st.ExitCode, Stdout: out, Stderr: errb}
	if st.Signal != 0 {
		r.ExitCode = 128 + st.Signal
	}
	return r, nil
}
