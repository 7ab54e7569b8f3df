package engine

import (
	"bytes"
	"testing"

	"github.com/kdomanski/iso9660"

	"github.com/labctl/labctl/provision/keys"
)

// The labctl/ directory is on the seed only for images with labctl's
// first-boot path; other images keep the exact seed they had.
func TestSeederLabctlDirOnlyForFirstboot(t *testing.T) {
	ks, err := keys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lab := testLab("lab1")
	seed := Seeder(lab, ks)
	for _, firstboot := range []bool{false, true} {
		iso, err := seed(lab.VMs[0], firstboot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := iso9660.OpenImage(bytes.NewReader(iso))
		if err != nil {
			t.Fatal(err)
		}
		root, err := img.RootDir()
		if err != nil {
			t.Fatal(err)
		}
		children, err := root.GetChildren()
		if err != nil {
			t.Fatal(err)
		}
		has := false
		for _, c := range children {
			has = has || (c.IsDir() && c.Name() == "labctl")
		}
		if has != firstboot {
			t.Errorf("firstboot=%t: labctl/ on the seed = %t", firstboot, has)
		}
	}
}
