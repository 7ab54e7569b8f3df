package roles

import "testing"

func TestReplaceBlock(t *testing.T) {
	base := "UUID=1 / ext4 defaults 0 1\n"
	s := replaceBlock([]byte(base), "raid data", []byte("/dev/md/data /srv/raid ext4 defaults,nofail 0 2\n"))
	s = replaceBlock(s, "nfs", []byte("10.0.10.20:/srv /mnt nfs _netdev 0 0"))
	want := base +
		"# BEGIN labctl raid data\n/dev/md/data /srv/raid ext4 defaults,nofail 0 2\n# END labctl raid data\n" +
		"# BEGIN labctl nfs\n10.0.10.20:/srv /mnt nfs _netdev 0 0\n# END labctl nfs\n"
	if string(s) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", s, want)
	}
	// Re-applying either block in any order changes nothing (the real-VM
	// run caught blocks swapping places on every run).
	for i := 0; i < 2; i++ {
		s = replaceBlock(s, "raid data", []byte("/dev/md/data /srv/raid ext4 defaults,nofail 0 2\n"))
		s = replaceBlock(s, "nfs", []byte("10.0.10.20:/srv /mnt nfs _netdev 0 0\n"))
	}
	if string(s) != want {
		t.Fatalf("not idempotent:\n%s", s)
	}
	s = replaceBlock(s, "raid data", []byte("/dev/md/data /data xfs defaults,nofail 0 2\n"))
	if want2 := base + "# BEGIN labctl raid data\n/dev/md/data /data xfs defaults,nofail 0 2\n# END labctl raid data\n" +
		"# BEGIN labctl nfs\n10.0.10.20:/srv /mnt nfs _netdev 0 0\n# END labctl nfs\n"; string(s) != want2 {
		t.Fatalf("in-place update:\n%s", s)
	}
	if s = replaceBlock(s, "nfs", nil); string(s) != base+"# BEGIN labctl raid data\n/dev/md/data /data xfs defaults,nofail 0 2\n# END labctl raid data\n" {
		t.Fatalf("removal:\n%s", s)
	}
	if got := replaceBlock([]byte("no newline at end"), "x", []byte("a")); string(got) != "no newline at end\n# BEGIN labctl x\na\n# END labctl x\n" {
		t.Fatalf("no trailing newline: %q", got)
	}
}
