package image

import "testing"

func TestInputsHash(t *testing.T) {
	base := BuildOptions{Name: "bookworm-cloud", Suite: "bookworm", Mirror: "http://m/debian",
		SecurityMirror: "http://m/debian-security", Kernel: KernelCloud, DiskSize: DefaultDiskSize}
	pkgs := []string{"a", "b", "c"}
	h0, err := InputsHash(base, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(h0) != 64 {
		t.Fatalf("hash %q is not sha256 hex", h0)
	}
	same := []struct {
		name string
		o    BuildOptions
		pkgs []string
	}{
		{"identical", base, pkgs},
		{"package order", base, []string{"c", "a", "b"}},
		{"force is not an input", func() BuildOptions { o := base; o.Force = true; return o }(), pkgs},
	}
	for _, tt := range same {
		if h, _ := InputsHash(tt.o, tt.pkgs); h != h0 {
			t.Errorf("%s: hash changed", tt.name)
		}
	}
	differ := []struct {
		name string
		mod  func(*BuildOptions)
		pkgs []string
	}{
		{"name", func(o *BuildOptions) { o.Name = "x" }, pkgs},
		{"suite", func(o *BuildOptions) { o.Suite = "trixie" }, pkgs},
		{"mirror", func(o *BuildOptions) { o.Mirror = "http://other/debian" }, pkgs},
		{"security mirror", func(o *BuildOptions) { o.SecurityMirror = "" }, pkgs},
		{"kernel", func(o *BuildOptions) { o.Kernel = KernelGeneric }, pkgs},
		{"disk size", func(o *BuildOptions) { o.DiskSize = 8 << 30 }, pkgs},
		{"trimming", func(o *BuildOptions) { o.NoTrim = true }, pkgs},
		{"packages", func(o *BuildOptions) {}, []string{"a", "b", "c", "d"}},
	}
	for _, tt := range differ {
		o := base
		tt.mod(&o)
		if h, _ := InputsHash(o, tt.pkgs); h == h0 {
			t.Errorf("changing %s did not change the hash", tt.name)
		}
	}
}

func TestCmdline(t *testing.T) {
	if got := Cmdline(false); got != "root=/dev/vda rw console=ttyS0" {
		t.Errorf("untrimmed cmdline %q", got)
	}
	if got := Cmdline(true); !containsStr(got, "root=/dev/vda rw console=ttyS0 ") || !containsStr(got, "quiet") {
		t.Errorf("trimmed cmdline %q", got)
	}
}

func TestTrimmedImagesCarryTheInitStageMarker(t *testing.T) {
	if _, err := rootfsFiles.ReadFile("rootfs/trim" + InitStageOnlyMarker); err != nil {
		t.Errorf("rootfs/trim lacks %s: %v", InitStageOnlyMarker, err)
	}
}
