package cloudinit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealCloudInit checks the rendered seed with Debian's own cloud-init
// (schema validation and the systemd-networkd renderer). It needs the
// cloud-init Python package, e.g. extracted without installing:
//
//	apt-get download cloud-init python3-configobj python3-netifaces
//	for d in *.deb; do dpkg-deb -x $d root; done
//	LABCTL_CLOUDINIT_PYTHONPATH=$PWD/root/usr/lib/python3/dist-packages go test ./provision/cloudinit -run RealCloudInit -v
func TestRealCloudInit(t *testing.T) {
	pypath := os.Getenv("LABCTL_CLOUDINIT_PYTHONPATH")
	if pypath == "" {
		t.Skip("LABCTL_CLOUDINIT_PYTHONPATH not set")
	}
	f, err := Render(testSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"user-data": f.UserData, "network-config": f.NetworkConfig} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cloudInit := func(args ...string) string {
		cmd := exec.Command("python3", append([]string{"-m", "cloudinit.cmd.main"}, args...)...)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+pypath)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cloud-init %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := cloudInit("schema", "--config-file", filepath.Join(dir, "user-data")); !strings.Contains(out, "Valid cloud-config") {
		t.Errorf("schema check: %s", out)
	}
	outDir := filepath.Join(dir, "out")
	cloudInit("devel", "net-convert", "-p", filepath.Join(dir, "network-config"), "-k", "yaml", "-d", outDir, "-D", "debian", "-O", "networkd")
	eth0, err := os.ReadFile(filepath.Join(outDir, "etc/systemd/network/10-cloud-init-eth0.network"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MACAddress=52:54:00:aa:bb:01", "Address=10.0.10.11/24", "Gateway=10.0.10.1", "MTUBytes=9000", "DHCP=no"} {
		if !strings.Contains(string(eth0), want) {
			t.Errorf("networkd eth0 lacks %q:\n%s", want, eth0)
		}
	}
	eth1, err := os.ReadFile(filepath.Join(outDir, "etc/systemd/network/10-cloud-init-eth1.network"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(eth1), "DHCP=ipv4") {
		t.Errorf("networkd eth1 is not DHCP:\n%s", eth1)
	}
}
