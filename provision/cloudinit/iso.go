package cloudinit

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/kdomanski/iso9660"
)

// VolumeLabel is the label cloud-init's NoCloud datasource looks for.
const VolumeLabel = "cidata"

// isoTimestamp replaces the build time the iso9660 writer stamps into the
// primary volume descriptor, so equal seeds give byte-identical ISOs.
var isoTimestamp = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Byte offsets in the image of the primary volume descriptor's creation,
// modification and effective dates (ECMA-119 8.4.26-8.4.29; the PVD is
// sector 16 of 2048 bytes). The expiration date (847) is already zero.
var pvdDateOffsets = []int{16*2048 + 813, 16*2048 + 830, 16*2048 + 864}

// WriteISO writes f as a NoCloud seed ISO (ISO 9660 level 1 names, no
// Joliet or Rock Ridge: the kdomanski/iso9660 writer does not produce
// them, and Linux reads "meta-data" etc. fine without).
func WriteISO(w io.Writer, f Files) error {
	iw, err := iso9660.NewWriter()
	if err != nil {
		return fmt.Errorf("seed ISO: %w", err)
	}
	defer iw.Cleanup()
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"meta-data", f.MetaData},
		{"user-data", f.UserData},
		{"network-config", f.NetworkConfig},
	} {
		if e.data == nil {
			return fmt.Errorf("seed ISO: %s is empty", e.name)
		}
		if err := iw.AddFile(bytes.NewReader(e.data), e.name); err != nil {
			return fmt.Errorf("seed ISO: add %s: %w", e.name, err)
		}
	}
	for _, e := range f.Labctl {
		if err := iw.AddFile(bytes.NewReader(e.Data), LabctlDir+"/"+e.Name); err != nil {
			return fmt.Errorf("seed ISO: add %s: %w", e.Name, err)
		}
	}
	var buf bytes.Buffer
	if err := iw.WriteTo(&buf, VolumeLabel); err != nil {
		return fmt.Errorf("seed ISO: %w", err)
	}
	img := buf.Bytes()
	ts := iso9660.VolumeDescriptorTimestampFromTime(isoTimestamp)
	stamp, err := ts.MarshalBinary()
	if err != nil {
		return fmt.Errorf("seed ISO: %w", err)
	}
	for _, off := range pvdDateOffsets {
		if len(img) < off+len(stamp) {
			return fmt.Errorf("seed ISO: image too short (%d bytes)", len(img))
		}
		copy(img[off:], stamp)
	}
	if _, err := w.Write(img); err != nil {
		return fmt.Errorf("seed ISO: write: %w", err)
	}
	return nil
}
