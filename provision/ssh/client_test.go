package ssh

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

type fixture struct {
	srv  *testServer
	cfg  Config
	host ssh.Signer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	host, user := newSigner(t), newSigner(t)
	srv := startServer(t, "127.0.0.1:0", host, user.PublicKey())
	return &fixture{srv: srv, host: host, cfg: Config{
		Host: "web-1", Addr: srv.Addr(), User: "labctl",
		Signer: user, HostKey: host.PublicKey(), Timeout: 5 * time.Second,
	}}
}

func dial(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRun(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.cfg)
	ctx := context.Background()

	res, err := c.Run(ctx, `printf '%s|' "it's" 'a $b'; echo "$((1+2))"`)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Stdout); got != "it's|a $b|3\n" {
		t.Errorf("stdout %q", got)
	}
	if res.ExitCode != 0 {
		t.Errorf("exit code %d", res.ExitCode)
	}

	res, err = c.Run(ctx, "echo out; echo oops >&2; exit 3")
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CommandError", err)
	}
	if ce.ExitCode != 3 || ce.Host != "web-1" || strings.TrimSpace(string(ce.Stderr)) != "oops" {
		t.Errorf("CommandError = %+v", ce)
	}
	if res.ExitCode != 3 || string(res.Stdout) != "out\n" {
		t.Errorf("result = %+v", res)
	}
	if !strings.Contains(err.Error(), "web-1") || !strings.Contains(err.Error(), "exited 3") || !strings.Contains(err.Error(), "oops") {
		t.Errorf("error text %q", err)
	}
}

func TestRunSudo(t *testing.T) {
	f := newFixture(t)
	plain := dial(t, f.cfg)
	cfg := f.cfg
	cfg.Sudo = true
	root := dial(t, cfg)
	ctx := context.Background()
	cmd := `echo "sudo=${LABCTL_TEST_SUDO:-0} '$1'"`
	for _, tc := range []struct {
		c    *Client
		want string
	}{{plain, "sudo=0 ''\n"}, {root, "sudo=1 ''\n"}} {
		res, err := tc.c.Run(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Stdout) != tc.want {
			t.Errorf("sudo=%v: stdout %q, want %q", tc.c.cfg.Sudo, res.Stdout, tc.want)
		}
	}
	if err := root.WriteFile(ctx, filepath.Join(f.srv.dir, "root-file"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestWriteReadFile(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.cfg)
	ctx := context.Background()
	dir := filepath.Join(f.srv.dir, "etc dir", "sub")
	p := filepath.Join(dir, "it's.conf")
	data := []byte("line1\n$HOME `x` 'q'\x00\xff\n")

	for _, mode := range []fs.FileMode{0o640, 0o755} {
		if err := c.WriteFile(ctx, p, data, mode); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("mode %04o, want %04o", fi.Mode().Perm(), mode)
		}
		local, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(local, data) {
			t.Errorf("file content %q, want %q", local, data)
		}
	}
	got, err := c.ReadFile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("ReadFile %q, want %q", got, data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}

	_, err = c.ReadFile(ctx, filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want fs.ErrNotExist", err)
	}
	_, err = c.ReadFile(ctx, dir)
	var ce *CommandError
	if !errors.As(err, &ce) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(dir) = %v, want CommandError", err)
	}
	if err := c.WriteFile(ctx, "relative/path", data, 0o644); err == nil {
		t.Error("WriteFile accepted a relative path")
	}
	// A failing write names the file and leaves nothing behind.
	if err := os.WriteFile(filepath.Join(f.srv.dir, "blocker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = c.WriteFile(ctx, filepath.Join(f.srv.dir, "blocker", "x"), data, 0o644)
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "blocker/x") {
		t.Errorf("WriteFile under a file = %v", err)
	}
}

func TestHostKeyMismatchNotRetried(t *testing.T) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.HostKey = newSigner(t).PublicKey() // not the server's key
	start := time.Now()
	_, err := WaitReady(context.Background(), cfg, 30*time.Second)
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("err = %v, want *HostKeyError", err)
	}
	if n := f.srv.conns.Load(); n != 1 {
		t.Errorf("server saw %d connections, want 1 (mismatch must not be retried)", n)
	}
	msg := err.Error()
	for _, want := range []string{"web-1", ssh.FingerprintSHA256(cfg.HostKey), ssh.FingerprintSHA256(f.host.PublicKey()), "MISMATCH"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	t.Logf("mismatch reported after %s: %v", time.Since(start), err)
}

func TestWrongUserKey(t *testing.T) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.Signer = newSigner(t)
	_, err := WaitReady(context.Background(), cfg, 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("err = %v, want authentication failure", err)
	}
	if n := f.srv.conns.Load(); n != maxAuthRetries {
		t.Errorf("server saw %d connections, want %d", n, maxAuthRetries)
	}
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestWaitReadyUntilServerAppears(t *testing.T) {
	host, user := newSigner(t), newSigner(t)
	addr := freeAddr(t)
	cfg := Config{Host: "db", Addr: addr, User: "labctl", Signer: user, HostKey: host.PublicKey()}
	type result struct {
		c   *Client
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := WaitReady(context.Background(), cfg, 30*time.Second)
		done <- result{c, err}
	}()
	time.Sleep(1500 * time.Millisecond) // at least two refused attempts
	select {
	case r := <-done:
		t.Fatalf("WaitReady returned before the server started: %v", r.err)
	default:
	}
	srv := startServer(t, addr, host, user.PublicKey())
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.c.Close()
	res, err := r.c.Run(context.Background(), "echo ready")
	if err != nil || string(res.Stdout) != "ready\n" {
		t.Fatalf("Run after WaitReady = %q, %v", res.Stdout, err)
	}
	if srv.conns.Load() != 1 {
		t.Errorf("server saw %d connections, want 1", srv.conns.Load())
	}
}

func TestWaitReadyCancel(t *testing.T) {
	cfg := Config{Host: "db", Addr: freeAddr(t), User: "labctl", Signer: newSigner(t), HostKey: newSigner(t).PublicKey()}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := WaitReady(ctx, cfg, time.Minute)
	elapsed := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not say what the last failure was", err)
	}
	// Generous bound: "promptly" means not waiting for the next backoff step.
	if elapsed > 2*time.Second {
		t.Errorf("WaitReady took %s to notice the cancel", elapsed)
	}
}

func TestWaitReadyTimeout(t *testing.T) {
	cfg := Config{Host: "db", Addr: freeAddr(t), User: "labctl", Signer: newSigner(t), HostKey: newSigner(t).PublicKey()}
	_, err := WaitReady(context.Background(), cfg, 1200*time.Millisecond)
	var nr *NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("err = %v, want *NotReadyError", err)
	}
	if nr.Attempts < 2 || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "db") {
		t.Errorf("NotReadyError = %v (attempts %d)", err, nr.Attempts)
	}
}

func TestReconnectAfterConnectionDied(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.cfg)
	ctx := context.Background()
	if _, err := c.Run(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	f.srv.dropConnections()
	// Let the client notice the closed TCP connection.
	time.Sleep(100 * time.Millisecond)
	res, err := c.Run(ctx, "echo again")
	if err != nil || string(res.Stdout) != "again\n" {
		t.Fatalf("Run after drop = %q, %v", res.Stdout, err)
	}
	if n := f.srv.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want 2", n)
	}
	// A server that is gone for good gives a clear error, not a hang.
	f.srv.Close()
	time.Sleep(100 * time.Millisecond)
	if _, err := c.Run(ctx, "true"); err == nil || !strings.Contains(err.Error(), "reconnect") {
		t.Errorf("Run with server gone = %v, want reconnect error", err)
	}
}

func TestKeepAliveDropsDeadConnection(t *testing.T) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.KeepAlive = 100 * time.Millisecond
	c := dial(t, cfg)
	f.srv.stall.Store(true)
	// Two probe intervals: one to send, one to time out.
	time.Sleep(400 * time.Millisecond)
	f.srv.stall.Store(false)
	res, err := c.Run(context.Background(), "echo alive")
	if err != nil || string(res.Stdout) != "alive\n" {
		t.Fatalf("Run after keepalive timeout = %q, %v", res.Stdout, err)
	}
	if n := f.srv.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want 2 (keepalive should have dropped the first)", n)
	}
}

func BenchmarkRun(b *testing.B) {
	f := newFixture(b)
	c, err := Dial(context.Background(), f.cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if _, err := c.Run(context.Background(), "true"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDial(b *testing.B) {
	f := newFixture(b)
	for b.Loop() {
		c, err := Dial(context.Background(), f.cfg)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

func TestRunCancel(t *testing.T) {
	f := newFixture(t)
	c := dial(t, f.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "sleep 30")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled command returned after %s", d)
	}
	// The connection is still usable.
	if _, err := c.Run(context.Background(), "true"); err != nil {
		t.Fatal(err)
	}
}

func TestExec(t *testing.T) {
	f := newFixture(t)
	var out, errOut bytes.Buffer
	code, err := Exec(context.Background(), f.cfg, "tr a-z A-Z; echo warn >&2; exit 7", strings.NewReader("hello\n"), &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if code != 7 || out.String() != "HELLO\n" || errOut.String() != "warn\n" {
		t.Errorf("Exec = %d, %q, %q", code, out.String(), errOut.String())
	}
}

func TestInteractiveWithoutTerminal(t *testing.T) {
	f := newFixture(t)
	var out bytes.Buffer // one buffer for both streams, as callers do
	code, err := Interactive(context.Background(), f.cfg, strings.NewReader("echo from-shell\nexit 4\n"), &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	if code != 4 || out.String() != "from-shell\n" {
		t.Errorf("Interactive = %d, %q", code, out.String())
	}
}

func TestPool(t *testing.T) {
	f := newFixture(t)
	other := f.cfg
	other.Host = "web-2"
	p := NewPool(f.cfg, other)
	ctx := context.Background()

	r := p.Runner("web-2")
	if r.Host() != "web-2" {
		t.Errorf("Host() = %q", r.Host())
	}
	if n := f.srv.conns.Load(); n != 0 {
		t.Errorf("pool dialled eagerly: %d connections", n)
	}
	if err := r.WriteFile(ctx, filepath.Join(f.srv.dir, "p"), []byte("v"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadFile(ctx, filepath.Join(f.srv.dir, "p")); err != nil || string(b) != "v" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	c1, err := p.Get(ctx, "web-2")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := p.WaitReady(ctx, "web-2", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Error("pool returned two clients for one VM")
	}
	if _, err := p.Get(ctx, "web-1"); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want one per VM (2)", n)
	}
	if _, err := p.Get(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "unknown VM") {
		t.Errorf("Get(unknown) = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, "true"); err == nil {
		t.Error("Run after pool Close succeeded")
	}
}

func TestConfigCheck(t *testing.T) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.HostKey = nil
	if _, err := Dial(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no pinned host key") {
		t.Errorf("Dial without host key = %v", err)
	}
	cfg = f.cfg
	cfg.Addr = "10.0.0.1" // no port; never dialled
	if _, err := Dial(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "address") {
		t.Errorf("Dial with bad address = %v", err)
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":       "''",
		"abc":    "'abc'",
		"it's":   `'it'\''s'`,
		"$x `y`": "'$x `y`'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := commandLine("echo 'a'", true); got != `sudo -n sh -c 'echo '\''a'\'''` {
		t.Errorf("commandLine = %s", got)
	}
}

func TestUnreachableNamesTheVM(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never speaks SSH
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for name, addr := range map[string]string{"closed port": freeAddr(t), "silent port": silent.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Host: "web-1", Addr: addr, User: "labctl", Signer: newSigner(t), HostKey: newSigner(t).PublicKey(), Timeout: 300 * time.Millisecond}
			_, err := Dial(context.Background(), cfg)
			var ue *UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want an UnreachableError", err)
			}
			for _, s := range []string{"web-1", addr, "labctl status"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q lacks %q", err, s)
				}
			}
		})
	}
}
