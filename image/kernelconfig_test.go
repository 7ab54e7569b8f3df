package image

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseKernelConfig(t *testing.T) {
	tests := []struct {
		file string
		want Capabilities
	}{
		// Debian's cloud kernel: no AHCI, no e1000/rtl8139.
		{"testdata/config-cloud", Capabilities{Buses: []string{"virtio", "scsi", "ide"}, NICModels: []string{"virtio"}}},
		{"testdata/config-generic", Capabilities{
			Buses:     []string{"virtio", "scsi", "sata", "ide"},
			NICModels: []string{"virtio", "e1000", "e1000e", "rtl8139"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseKernelConfig(f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseKernelConfigNeedsBothDriverAndDisk(t *testing.T) {
	// AHCI without sd_mod cannot show a disk.
	got, err := ParseKernelConfig(strings.NewReader("CONFIG_SATA_AHCI=y\nCONFIG_8139CP=m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Capabilities{Buses: []string{}, NICModels: []string{"rtl8139"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseKernelConfigEmpty(t *testing.T) {
	if _, err := ParseKernelConfig(strings.NewReader("# nothing\n")); err == nil {
		t.Error("want error for a config with no options")
	}
}
