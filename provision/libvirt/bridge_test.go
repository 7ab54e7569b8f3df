package libvirt

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocalBridge(t *testing.T) {
	dir := t.TempDir()
	old := sysClassNet
	sysClassNet = dir
	t.Cleanup(func() { sysClassNet = old })
	if err := os.MkdirAll(filepath.Join(dir, "kvmbr0", "bridge"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "eth0"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]BridgeState{
		"kvmbr0": BridgePresent, "eth0": BridgeNotBridge, "nope": BridgeMissing, "../kvmbr0": BridgeMissing, "": BridgeMissing,
	} {
		if got, err := localBridge(name); err != nil || got != want {
			t.Errorf("localBridge(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
}

func TestIsLocalURI(t *testing.T) {
	for uri, want := range map[string]bool{
		"qemu:///system":                    true,
		"qemu:///session":                   true,
		"qemu:///system?socket=/run/x.sock": true,
		"qemu+unix:///system":               true,
		"qemu+ssh://root@host/system":       false,
		"qemu+tcp://host/system":            false,
		"test:///default":                   false,
	} {
		if got := isLocalURI(uri); got != want {
			t.Errorf("isLocalURI(%q) = %v, want %v", uri, got, want)
		}
	}
}
