package libvirt

import (
	"encoding/json"
	"strings"
	"testing"
)

// The guest agent's answers, as QEMU's agent writes them.
func TestAgentReplies(t *testing.T) {
	var pid struct {
		PID int `json:"pid"`
	}
	if err := qgaReply(`{"return":{"pid":309}}`, &pid); err != nil || pid.PID != 309 {
		t.Errorf("guest-exec answer: pid %d, %v", pid.PID, err)
	}
	if err := qgaReply(`{"return":{}}`, nil); err != nil {
		t.Errorf("guest-ping answer: %v", err)
	}
	err := qgaReply(`{"error":{"class":"GenericError","desc":"Guest agent command failed, error was 'Failed to execute child process'"}}`, nil)
	if err == nil || !strings.Contains(err.Error(), "Failed to execute child process' (GenericError)") {
		t.Errorf("error answer: %v", err)
	}
	if err := qgaReply(`not json`, nil); err == nil {
		t.Error("garbage accepted")
	}
	var st qgaExecStatus
	if err := qgaReply(`{"return":{"exitcode":1,"err-data":"aXA6IGNhbm5vdCBmaW5kIGRldmljZQo=","exited":true}}`, &st); err != nil {
		t.Fatal(err)
	}
	r, err := execResult(st)
	if err != nil || r.ExitCode != 1 || string(r.Stderr) != "ip: cannot find device\n" || len(r.Stdout) != 0 {
		t.Errorf("exec status: %+v, %v", r, err)
	}
	if r, _ := execResult(qgaExecStatus{Exited: true, Signal: 9}); r.ExitCode != 137 {
		t.Errorf("killed command: exit %d", r.ExitCode)
	}
}

// Requests are JSON built from structs: argv values stay data.
func TestAgentExecRequest(t *testing.T) {
	b, err := json.Marshal(qgaRequest{Execute: "guest-exec", Arguments: qgaExec{Path: "/bin/sh", Arg: []string{"-c", `echo "$1"`, "x", "a'b"}, CaptureOutput: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","echo \"$1\"","x","a'b"],"capture-output":true}}`
	if string(b) != want {
		t.Errorf("request\n%s\nwant\n%s", b, want)
	}
}
