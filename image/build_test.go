package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// testBuilder is a Builder whose host is fake: every tool present, root,
// the deb822 test host, and apt-cache answering from known.
// quietBuilder is a testBuilder whose commands all succeed with no output,
// apt-cache excepted: a build then runs every step up to inspect.
func quietBuilder(t *testing.T) (*Builder, *fakeRunner) {
	b, fr := testBuilder(t, "*")
	aptCache := fr.handler
	fr.handler = func(name string, args []string) ([]byte, error) {
		if name == "apt-cache" {
			return aptCache(name, args)
		}
		return nil, nil
	}
	return b, fr
}

func testBuilder(t *testing.T, known ...string) (*Builder, *fakeRunner) {
	t.Helper()
	fr := &fakeRunner{handler: func(name string, args []string) ([]byte, error) {
		if name != "apt-cache" {
			return nil, fmt.Errorf("unexpected command %s", name)
		}
		var b strings.Builder
		for _, p := range args[1:] {
			for _, k := range known {
				if p == k || k == "*" {
					fmt.Fprintf(&b, "%s:\n  Installed: (none)\n  Candidate: 1.0\n  Version table:\n", p)
				}
			}
		}
		return []byte(b.String()), nil
	}}
	return &Builder{
		Store:    Store{Dir: t.TempDir()},
		Run:      fr,
		LookPath: lookPathExcept(),
		Euid:     func() int { return 0 },
		HostRoot: os.DirFS("testdata/hostroot-deb822"),
		Now:      time.Now,
	}, fr
}

func TestBuildNeedsRoot(t *testing.T) {
	b, fr := testBuilder(t, "*")
	b.Euid = func() int { return 1000 }
	_, err := b.Build(context.Background(), BuildOptions{})
	if !errors.Is(err, ErrNotRoot) || !containsStr(err.Error(), "needs root") {
		t.Fatalf("got %v, want ErrNotRoot", err)
	}
	if len(fr.calls) != 0 {
		t.Errorf("ran commands before failing: %v", fr.calls)
	}
}

func TestBuildMissingToolsNamesPackages(t *testing.T) {
	b, fr := testBuilder(t, "*")
	b.LookPath = lookPathExcept("qemu-img", "mkfs.ext4", "debootstrap")
	_, err := b.Build(context.Background(), BuildOptions{})
	var mt *MissingToolsError
	if !errors.As(err, &mt) {
		t.Fatalf("got %v, want MissingToolsError", err)
	}
	want := "missing host tools: debootstrap, mkfs.ext4, qemu-img (install with: apt-get install debootstrap e2fsprogs qemu-utils)"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err, want)
	}
	if len(fr.calls) != 0 {
		t.Errorf("ran commands before failing: %v", fr.calls)
	}
}

func TestBuildUnknownPackageFailsBeforeDebootstrap(t *testing.T) {
	all, err := Packages(KernelCloud, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, fr := testBuilder(t, all...)
	_, err = b.Build(context.Background(), BuildOptions{Packages: []string{"htop", "no-such-pkg"}})
	var up *UnknownPackagesError
	if !errors.As(err, &up) {
		t.Fatalf("got %v, want UnknownPackagesError", err)
	}
	if !containsStr(err.Error(), "htop, no-such-pkg") || !containsStr(err.Error(), "bookworm") {
		t.Errorf("error %q should name both packages and the suite", err)
	}
	if fr.ran("debootstrap") {
		t.Error("debootstrap ran although a package is unknown")
	}
	if entries, _ := os.ReadDir(b.Store.Dir); len(entries) != 0 {
		t.Errorf("store touched: %v", entries)
	}
}

func TestBuildCachedWhenInputsMatch(t *testing.T) {
	b, fr := testBuilder(t, "*")
	o := b.Defaults(BuildOptions{})
	if o.Name != "bookworm-cloud" || o.Mirror != "http://deb.debian.org/debian" || o.SecurityMirror != "http://security.example/debian-security" {
		t.Fatalf("defaults: %+v", o)
	}
	pkgs, err := Packages(o.Kernel, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := InputsHash(o, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	putImage(t, b.Store, Manifest{Name: o.Name, Kind: KindBuilt, InputsHash: hash})
	res, err := b.Build(context.Background(), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Cached || res.Image.Manifest.InputsHash != hash {
		t.Errorf("want cached image, got %+v", res)
	}
	if len(fr.calls) != 0 {
		t.Errorf("cached build ran commands: %v", fr.calls)
	}
	// Other options under the same name: refuse without --force.
	_, err = b.Build(context.Background(), BuildOptions{Packages: []string{"htop"}})
	if err == nil || !containsStr(err.Error(), "--force") {
		t.Errorf("got %v, want a hint to use --force", err)
	}
}

func TestBuildReplacesImageOfAnOlderRecipe(t *testing.T) {
	b, fr := testBuilder(t, "*")
	o := b.Defaults(BuildOptions{})
	putImage(t, b.Store, Manifest{Name: o.Name, Kind: KindBuilt, InputsHash: "older-recipe",
		Suite: o.Suite, Mirror: o.Mirror, SecurityMirror: o.SecurityMirror, KernelFlavour: o.Kernel,
		Trimmed: true, VirtualSizeBytes: o.DiskSize})
	_, _ = b.Build(context.Background(), BuildOptions{})
	if len(fr.calls) == 0 {
		t.Error("an image of an older recipe with the same options was not rebuilt")
	}
}

func TestParsePolicy(t *testing.T) {
	out := `curl:
  Installed: 7.88.1-10+deb12u14
  Candidate: 7.88.1-10+deb12u15
  Version table:
 *** 7.88.1-10+deb12u14 100
        100 /var/lib/dpkg/status
mail-transport-agent:
  Installed: (none)
  Candidate: (none)
  Version table:
`
	got := parsePolicy(out)
	if got["curl"] != "7.88.1-10+deb12u15" || got["mail-transport-agent"] != "(none)" || len(got) != 2 {
		t.Errorf("parsePolicy = %v", got)
	}
}

func TestParseDpkgQuery(t *testing.T) {
	pkgs, broken := parseDpkgQuery("zsh\t5.9\tii \nadduser\t3.134\tii \npython3-cryptography\t38.0.4-3\tiU \nold\t1\trc \n")
	if len(pkgs) != 2 || pkgs[0] != (Package{"adduser", "3.134"}) || pkgs[1].Name != "zsh" {
		t.Errorf("packages = %v", pkgs)
	}
	if len(broken) != 1 || broken[0] != "python3-cryptography (iU)" {
		t.Errorf("broken = %v", broken)
	}
}

func TestSourcesList(t *testing.T) {
	got := sourcesList(BuildOptions{Suite: "bookworm", Mirror: "http://m/debian", SecurityMirror: "http://s/debian-security"})
	want := "deb http://m/debian bookworm main\ndeb http://m/debian bookworm-updates main\ndeb http://s/debian-security bookworm-security main\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
