package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/keys"
)

// TestRealSSHD runs the client against OpenSSH's sshd with keys from
// provision/keys. testdata/real-sshd.sh sets it up in private mount and
// network namespaces (it needs root and an sshd binary).
func TestRealSSHD(t *testing.T) {
	sshd := os.Getenv("LABCTL_SSHD")
	if sshd == "" {
		t.Skip("LABCTL_SSHD not set; run provision/ssh/testdata/real-sshd.sh")
	}
	user, home := os.Getenv("LABCTL_SSHD_USER"), os.Getenv("LABCTL_SSHD_HOME")
	ctx := context.Background()

	store, err := keys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signer, authorized, err := store.UserKey()
	if err != nil {
		t.Fatal(err)
	}
	_, hostPub, err := store.HostKey("realvm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "authorized_keys"), []byte(authorized+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`ListenAddress 127.0.0.1:2222
HostKey %s
AuthorizedKeysFile %s/.ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
`, store.HostKeyPath("realvm"), home)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Host: "realvm", Addr: "127.0.0.1:2222", User: user, Signer: signer, HostKey: hostPub}

	// Start waiting before sshd listens, as labctl does while a VM boots.
	type result struct {
		c   *Client
		err error
	}
	ready := make(chan result, 1)
	start := time.Now()
	go func() {
		c, err := WaitReady(ctx, cfg, 30*time.Second)
		ready <- result{c, err}
	}()
	time.Sleep(time.Second)
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", log.String())
		}
	})
	r := <-ready
	if r.err != nil {
		t.Fatal(r.err)
	}
	c := r.c
	defer c.Close()
	t.Logf("WaitReady succeeded after %s", time.Since(start).Round(time.Millisecond))

	res, err := c.Run(ctx, `id -un; printf '%s\n' "it's $((6*7))"`)
	if err != nil || string(res.Stdout) != user+"\nit's 42\n" {
		t.Errorf("Run = %q, %v", res.Stdout, err)
	}
	_, err = c.Run(ctx, "echo bad >&2; exit 5")
	var ce *CommandError
	if !errors.As(err, &ce) || ce.ExitCode != 5 || string(ce.Stderr) != "bad\n" {
		t.Errorf("failing Run = %v", err)
	}

	p := filepath.Join(home, "conf.d", "x.conf")
	data := []byte("a'b\n\x00\xfe")
	if err := c.WriteFile(ctx, p, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("stat = %v, %v", fi, err)
	}
	if got, err := c.ReadFile(ctx, p); err != nil || !bytes.Equal(got, data) {
		t.Errorf("ReadFile = %q, %v", got, err)
	}
	if _, err := c.ReadFile(ctx, p+".missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v", err)
	}

	var out bytes.Buffer
	code, err := c.Exec(ctx, "cat; exit 3", strings.NewReader("stdin-data"), &out, &out)
	if err != nil || code != 3 || out.String() != "stdin-data" {
		t.Errorf("Exec = %d, %q, %v", code, out.String(), err)
	}

	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := c.Run(cctx, "sleep 31.77"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled Run = %v", err)
	}
	t.Logf("cancelled command returned after %s", time.Since(t0).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond)
	if res, err := c.Run(ctx, "pgrep -f '^sleep 31.77' || true"); err != nil || len(res.Stdout) != 0 {
		t.Errorf("cancelled command still running: %q, %v", res.Stdout, err)
	}

	if os.Getenv("LABCTL_SSHD_SUDO") == "1" {
		realSudo(t, cfg)
	}

	// Another key pinned: rejected on the first attempt.
	other, err := keys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, wrong, err := other.HostKey("realvm")
	if err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.HostKey = wrong
	t0 = time.Now()
	_, err = WaitReady(ctx, bad, 30*time.Second)
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("wrong pin = %v", err)
	}
	t.Logf("mismatch after %s: %v", time.Since(t0).Round(time.Millisecond), err)
}

// realSudo checks the Sudo option against Debian's sudo with the rule
// cloud-init writes (and Debian's use_pty default).
func realSudo(t *testing.T, cfg Config) {
	ctx := context.Background()
	cfg.Sudo = true
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Run(ctx, `id -u; echo "$SUDO_USER"`)
	if err != nil || string(res.Stdout) != "0\n"+cfg.User+"\n" {
		t.Errorf("sudo Run = %q, %v", res.Stdout, err)
	}
	p := "/etc/labctl-test/it's.conf"
	if err := c.WriteFile(ctx, p, []byte("root data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("sudo WriteFile: mode %v owner %v", fi.Mode(), fi.Sys())
	}
	if got, err := c.ReadFile(ctx, p); err != nil || string(got) != "root data\n" {
		t.Errorf("sudo ReadFile = %q, %v", got, err)
	}
	_, err = c.Run(ctx, "exit 9")
	var ce *CommandError
	if !errors.As(err, &ce) || ce.ExitCode != 9 {
		t.Errorf("sudo exit code: %v", err)
	}

	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := c.Run(cctx, "sleep 32.77"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled sudo Run = %v", err)
	}
	t.Logf("cancelled sudo command returned after %s", time.Since(t0).Round(time.Millisecond))
	// Known limitation (see cancelGrace): sshd signals as the login user,
	// so the root command is not killed; clean it up for the next run.
	if res, err := c.Run(ctx, "pkill -f '^sleep 32.77' && echo survived || true"); err == nil {
		t.Logf("root command after cancel: %q", strings.TrimSpace(string(res.Stdout)))
	}
}
