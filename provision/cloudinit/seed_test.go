package cloudinit

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testUserKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrPAvhIy/7lx8B9NhVJUgovwnNAmkBREW3SCnwqBKdl test-user@labctl"

// testSeed is a VM with a static NIC with gateway/MTU/DNS, a DHCP NIC and
// a file; the host key is a test-only key kept in testdata.
func testSeed(t testing.TB) Seed {
	t.Helper()
	pemBytes, err := os.ReadFile("testdata/test_host_ed25519")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return Seed{
		Hostname:       "web-1",
		FQDN:           "web-1.lab.test",
		User:           "labctl",
		AuthorizedKeys: []string{testUserKey},
		HostKeyPEM:     pemBytes,
		HostKey:        signer.PublicKey(),
		NICs: []NIC{
			{
				MAC: "52:54:00:AA:BB:01", Name: "eth0",
				Address:     netip.MustParsePrefix("10.0.10.11/24"),
				Gateway:     netip.MustParseAddr("10.0.10.1"),
				MTU:         9000,
				Nameservers: []netip.Addr{netip.MustParseAddr("10.0.10.1")},
				Search:      []string{"lab.test"},
			},
			{MAC: "52:54:00:aa:bb:02", Name: "eth1", DHCP: true},
		},
		Files: []File{{Path: "/etc/labctl/role", Content: []byte("web\n\"quoted\": yes\n"), Mode: 0o600}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, d)
	}
}

func TestRenderGolden(t *testing.T) {
	f, err := Render(testSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "web-1.meta-data", f.MetaData)
	golden(t, "web-1.user-data", f.UserData)
	golden(t, "web-1.network-config", f.NetworkConfig)
}

func TestRenderSafety(t *testing.T) {
	f, err := Render(testSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	ud := string(f.UserData)
	if !strings.HasPrefix(ud, "#cloud-config\n") {
		t.Error("user-data does not start with #cloud-config")
	}
	for _, want := range []string{"ssh_deletekeys: true", `locale: "false"`, "lock_passwd: true", "ssh_pwauth: false", "disable_root: true", `sudo: "ALL=(ALL) NOPASSWD:ALL"`} {
		if !strings.Contains(ud, want) {
			t.Errorf("user-data lacks %q", want)
		}
	}
	for _, bad := range []string{"passwd:", "plain_text_passwd", "chpasswd", "password"} {
		if strings.Contains(strings.ReplaceAll(ud, "lock_passwd", ""), bad) {
			t.Errorf("user-data mentions %q", bad)
		}
	}
	// The private key is one quoted scalar, so it can't break the YAML.
	if strings.Contains(ud, "\n-----BEGIN") {
		t.Error("private key PEM is not quoted")
	}
}

func TestInstanceID(t *testing.T) {
	s := testSeed(t)
	a, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.MetaData, b.MetaData) {
		t.Error("derived instance-id is not stable")
	}
	s.NICs[0].MTU = 1500
	c, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.MetaData, c.MetaData) {
		t.Error("instance-id did not change with the network config")
	}
	s.InstanceID = "iid-fixed"
	d, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d.MetaData), `instance-id: "iid-fixed"`) {
		t.Errorf("explicit instance-id ignored:\n%s", d.MetaData)
	}
}

func TestRenderRejects(t *testing.T) {
	other, err := os.ReadFile("testdata/test_host_ed25519")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Seed)
		want string
	}{
		{"bad hostname", func(s *Seed) { s.Hostname = "web_1\nx: y" }, "hostname"},
		{"root user", func(s *Seed) { s.User = "root" }, "user"},
		{"no keys", func(s *Seed) { s.AuthorizedKeys = nil }, "authorized key"},
		{"two-line key", func(s *Seed) { s.AuthorizedKeys = []string{testUserKey + "\n" + testUserKey} }, "authorized key"},
		{"no host key", func(s *Seed) { s.HostKey = nil }, "host key"},
		{"mismatched host key", func(s *Seed) {
			pub, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(testUserKey))
			s.HostKey = pub
			s.HostKeyPEM = other
		}, "do not match"},
		{"bad mac", func(s *Seed) { s.NICs[0].MAC = "52:54:00" }, "MAC"},
		{"dup mac", func(s *Seed) { s.NICs[1].MAC = "52:54:00:aa:bb:01" }, "duplicate"},
		{"long ifname", func(s *Seed) { s.NICs[0].Name = "eth0123456789012" }, "interface name"},
		{"static and dhcp", func(s *Seed) { s.NICs[0].DHCP = true }, "DHCP"},
		{"gateway family", func(s *Seed) { s.NICs[0].Gateway = netip.MustParseAddr("fe80::1") }, "famil"},
		{"two gateways", func(s *Seed) {
			s.NICs[1] = NIC{MAC: "52:54:00:aa:bb:02", Name: "eth1", Address: netip.MustParsePrefix("10.0.20.2/24"), Gateway: netip.MustParseAddr("10.0.20.1")}
		}, "more than one"},
		{"bad mtu", func(s *Seed) { s.NICs[0].MTU = 10 }, "MTU"},
		{"relative file", func(s *Seed) { s.Files[0].Path = "etc/x" }, "absolute"},
		{"file path with newline", func(s *Seed) { s.Files[0].Path = "/etc/x\n/etc/y" }, "control characters"},
		{"bad owner", func(s *Seed) { s.Files[0].Owner = "a b" }, "owner"},
		{"invalid utf8", func(s *Seed) { s.NICs[0].Search = []string{"a\xffb"} }, "search domain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSeed(t)
			tc.edit(&s)
			_, err := Render(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        `"plain"`,
		"a: b # c":     `"a: b # c"`,
		"line1\nline2": `"line1\nline2"`,
		`back\slash"`:  `"back\\slash\""`,
		"tab\there":    `"tab\there"`,
		"née":          `"née"`,
	} {
		got, err := quote(in)
		if err != nil || got != want {
			t.Errorf("quote(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := quote("bad\xff"); err == nil {
		t.Error("quote accepted invalid UTF-8")
	}
}
