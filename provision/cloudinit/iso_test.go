package cloudinit

import (
	"bytes"
	"io"
	"testing"

	"github.com/kdomanski/iso9660"
)

func TestWriteISOReadBack(t *testing.T) {
	files, err := Render(testSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteISO(&a, files); err != nil {
		t.Fatal(err)
	}
	if err := WriteISO(&b, files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of the same seed differ")
	}

	img, err := iso9660.OpenImage(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	label, err := img.Label()
	if err != nil {
		t.Fatal(err)
	}
	if label != "cidata" {
		t.Errorf("label %q, want cidata", label)
	}
	root, err := img.RootDir()
	if err != nil {
		t.Fatal(err)
	}
	children, err := root.GetChildren()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{
		"meta-data":      files.MetaData,
		"user-data":      files.UserData,
		"network-config": files.NetworkConfig,
	}
	for _, f := range files.Labctl {
		want[LabctlDir+"/"+f.Name] = f.Data
	}
	got := map[string][]byte{}
	readFiles(t, children, "", got)
	if len(got) != len(want) {
		t.Errorf("ISO holds %d files, want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s on ISO differs from rendered file (%d vs %d bytes)", name, len(got[name]), len(data))
		}
	}
}

func TestWriteISOEmpty(t *testing.T) {
	if err := WriteISO(io.Discard, Files{MetaData: []byte("x")}); err == nil {
		t.Error("WriteISO accepted a seed without user-data")
	}
}

func BenchmarkRenderAndWriteISO(b *testing.B) {
	s := testSeed(b)
	for b.Loop() {
		f, err := Render(s)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteISO(io.Discard, f); err != nil {
			b.Fatal(err)
		}
	}
}

// readFiles reads the ISO tree into got, keyed by path as Linux shows it;
// the names must survive ISO 9660 mangling unchanged.
func readFiles(t *testing.T, files []*iso9660.File, dir string, got map[string][]byte) {
	t.Helper()
	for _, c := range files {
		if c.IsDir() {
			sub, err := c.GetChildren()
			if err != nil {
				t.Fatal(err)
			}
			readFiles(t, sub, dir+c.Name()+"/", got)
			continue
		}
		data, err := io.ReadAll(c.Reader())
		if err != nil {
			t.Fatal(err)
		}
		got[dir+c.Name()] = data
	}
}
