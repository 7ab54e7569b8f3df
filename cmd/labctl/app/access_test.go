package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/access"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/provisiontest"
)

func TestAccessOnFakes(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	lab := t.TempDir()
	if err := os.WriteFile(filepath.Join(lab, "lab.hcl"), []byte(provisiontest.Lab(512)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "alice")
	hv, g := fake.New(), provisiontest.New("client", "box")
	if _, err := runOnFakes(hv, g, "access", lab, "--out", out); err == nil || !strings.Contains(err.Error(), "lab sess is not up") {
		t.Errorf("access before up: %v, want lab sess is not up", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("access before up created the bundle directory")
	}
	labctlOnFakes(t, hv, g, "up", lab)
	if _, err := runOnFakes(hv, g, "access", lab, "--out", out, "--jump", "alice@lab1 -oProxyCommand=x"); err == nil || !strings.Contains(err.Error(), "--jump") {
		t.Errorf("access with a bad --jump: %v", err)
	}
	if got := labctlOnFakes(t, hv, g, "access", lab, "--out", out, "--jump", "alice@lab1"); !strings.Contains(got, "ssh -F "+out+"/ssh_config VM") {
		t.Errorf("access printed %q", got)
	}

	store, err := keys.Open(keys.DefaultDir("sess"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(store.UserKeyPath())
	if got, _ := os.ReadFile(filepath.Join(out, access.KeyFile)); len(want) == 0 || !bytes.Equal(got, want) {
		t.Error("the bundle's key is not the lab's user key")
	}
	known, _ := os.ReadFile(filepath.Join(out, access.KnownHostsFile))
	cfg, _ := os.ReadFile(filepath.Join(out, access.ConfigFile))
	readme, _ := os.ReadFile(filepath.Join(out, access.ReadmeFile))
	for _, vm := range []string{"box", "client"} {
		pub, err := store.HostPublicKey(vm)
		if err != nil {
			t.Fatal(err)
		}
		if line := "sess-" + vm + " " + keys.AuthorizedKey(pub) + "\n"; !strings.Contains(string(known), line) {
			t.Errorf("known_hosts lacks %q:\n%s", line, known)
		}
		for _, l := range []string{"Host " + vm + "\n", "HostKeyAlias sess-" + vm + "\n"} {
			if !strings.Contains(string(cfg), l) {
				t.Errorf("ssh_config lacks %q:\n%s", l, cfg)
			}
		}
	}
	for _, s := range []string{`IdentityFile "` + out + `/id_ed25519"`, "User labctl\n", "ProxyJump alice@lab1\n"} {
		if !strings.Contains(string(cfg), s) {
			t.Errorf("ssh_config lacks %q:\n%s", s, cfg)
		}
	}
	if !strings.Contains(string(readme), "| client | ") || !strings.Contains(string(readme), "client |\n") {
		t.Errorf("README lacks the client VM and its role:\n%s", readme)
	}
	if _, err := runOnFakes(hv, g, "access", lab, "--out", out); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("access into the same directory again: %v", err)
	}
	labctlOnFakes(t, hv, g, "access", lab, "--out", out, "--overwrite")

	if err := hv.DeleteDomain(context.Background(), "sess-box"); err != nil {
		t.Fatal(err)
	}
	if _, err := runOnFakes(hv, g, "access", lab, "--out", out, "--overwrite"); err == nil || !strings.Contains(err.Error(), "VM box (sess-box) is not defined") {
		t.Errorf("access with box undefined: %v", err)
	}
}
