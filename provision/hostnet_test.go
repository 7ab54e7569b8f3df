package provision

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHostRoutes(t *testing.T) {
	f := filepath.Join(t.TempDir(), "route")
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"lcbr0\t000010AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
	if err := os.WriteFile(f, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := hostRoutes(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(r["eth0"]) != 1 || r["eth0"][0].String() != "192.0.2.0/24" || len(r["lcbr0"]) != 1 || r["lcbr0"][0].String() != "172.16.0.0/16" {
		t.Errorf("routes = %v (the default route must be left out)", r)
	}
}
