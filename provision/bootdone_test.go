package provision

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBootDoneFirstboot runs bootDone with sh, its guest paths moved into
// a temp dir: a guest booted without cloud-init is done exactly when
// labctl's first-boot marker exists, whatever cloud-init would say.
func TestBootDoneFirstboot(t *testing.T) {
	tmp := t.TempDir()
	script := strings.NewReplacer("/proc/cmdline", filepath.Join(tmp, "cmdline"), "/run/labctl/", tmp+"/").Replace(bootDone)
	if script == bootDone {
		t.Fatal("bootDone reads neither /proc/cmdline nor /run/labctl")
	}
	bin := filepath.Join(tmp, "bin") // a cloud-init that would fail
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "cloud-init"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (string, error) {
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	write("cmdline", "root=/dev/vda rw quiet cloud-init=disabled\n")
	if out, err := run(); err == nil || !strings.Contains(out, "labctl-firstboot") {
		t.Errorf("no marker: %v %q, want a failure naming the unit", err, out)
	}
	write("failed", "no seed disk labelled cidata\n")
	if out, err := run(); err == nil || !strings.Contains(out, "cidata") {
		t.Errorf("failed marker: %v %q, want its reason", err, out)
	}
	write("booted", "")
	if out, err := run(); err != nil {
		t.Errorf("booted: %v %q, want success", err, out)
	}
	write("cmdline", "root=/dev/vda rw quiet\n") // cloud-init's path: its answer counts
	if _, err := run(); err == nil {
		t.Error("cloud-init boot: succeeded although cloud-init failed")
	}
}
