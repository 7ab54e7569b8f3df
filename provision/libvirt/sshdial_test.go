package libvirt

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

func TestParseSSHURI(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "/tmp/agent.sock")
	if err := os.Mkdir(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id_rsa", "id_ed25519"} { // id_ecdsa missing
		if err := os.WriteFile(filepath.Join(home, ".ssh", k), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	defKeys := []string{filepath.Join(home, ".ssh/id_ed25519"), filepath.Join(home, ".ssh/id_rsa")}
	defKnown := filepath.Join(home, ".ssh/known_hosts")

	tests := []struct {
		uri  string
		want SSHDialer
	}{
		{"qemu+ssh://lab.example/system", SSHDialer{
			User: cur.Username, Host: "lab.example", Port: "22", Socket: DefaultRemoteSocket,
			KeyFiles: defKeys, KnownHosts: defKnown, AgentSocket: "/tmp/agent.sock"}},
		{"qemu+ssh://teacher@lab.example:2200/system", SSHDialer{
			User: "teacher", Host: "lab.example", Port: "2200", Socket: DefaultRemoteSocket,
			KeyFiles: defKeys, KnownHosts: defKnown, AgentSocket: "/tmp/agent.sock"}},
		{"qemu+ssh://root@[fd00::1]:22/system?socket=/run/libvirt/virtqemud-sock&keyfile=/keys/lab&known_hosts=/etc/labctl/known_hosts", SSHDialer{
			User: "root", Host: "fd00::1", Port: "22", Socket: "/run/libvirt/virtqemud-sock",
			KeyFiles: []string{"/keys/lab"}, KnownHosts: "/etc/labctl/known_hosts", AgentSocket: "/tmp/agent.sock"}},
		{"qemu+ssh://u@h/system?keyfile=~/k&known_hosts=~/kh&no_verify=0&known_hosts_verify=normal&mode=legacy", SSHDialer{
			User: "u", Host: "h", Port: "22", Socket: DefaultRemoteSocket,
			KeyFiles: []string{filepath.Join(home, "k")}, KnownHosts: filepath.Join(home, "kh"), AgentSocket: "/tmp/agent.sock"}},
		{"qemu+ssh://u@h/system?sshauth=privkey", SSHDialer{
			User: "u", Host: "h", Port: "22", Socket: DefaultRemoteSocket, KeyFiles: defKeys, KnownHosts: defKnown}},
		{"qemu+ssh://u@h/system?sshauth=agent", SSHDialer{
			User: "u", Host: "h", Port: "22", Socket: DefaultRemoteSocket, KnownHosts: defKnown, AgentSocket: "/tmp/agent.sock"}},
		{"qemu+ssh://u@h/session?socket=/run/user/1000/libvirt/libvirt-sock", SSHDialer{
			User: "u", Host: "h", Port: "22", Socket: "/run/user/1000/libvirt/libvirt-sock",
			KeyFiles: defKeys, KnownHosts: defKnown, AgentSocket: "/tmp/agent.sock"}},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSSHURI(u)
		if err != nil {
			t.Errorf("ParseSSHURI(%s): %v", tt.uri, err)
			continue
		}
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("ParseSSHURI(%s)\n got %+v\nwant %+v", tt.uri, *got, tt.want)
		}
	}
}

func TestParseSSHURIErrors(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	tests := []struct{ uri, want string }{
		{"qemu+tcp://h/system", `scheme "qemu+tcp" is not an ssh transport`},
		{"qemu+ssh:///system", "no host"},
		{"qemu+ssh://u:secret@h/system", "passwords in the URI are not supported"},
		{"qemu+ssh://h:0/system", `invalid port "0"`},
		{"qemu+ssh://h:99999/system", `invalid port "99999"`},
		{"qemu+ssh://h/system?no_verify=1", "labctl always verifies SSH host keys"},
		{"qemu+ssh://h/system?known_hosts_verify=ignore", "known_hosts_verify=ignore"},
		{"qemu+ssh://h/system?socket=relative/sock", "not an absolute path"},
		{"qemu+ssh://h/session", "give it with ?socket="},
		{"qemu+ssh://h/system?sshauth=password", "only agent and privkey"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseSSHURI(u)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSSHURI(%s) = %v, want error containing %q", tt.uri, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// --- dialing an in-process SSH server on loopback ---

func TestSSHDialEcho(t *testing.T) {
	client := newKey(t)
	srv := startServer(t, client.Signer.PublicKey(), newKey(t).Signer)
	d := srv.dialer(t, client)
	d.Socket = startEcho(t)

	conn, err := d.WithContext(context.Background()).Dial()
	if err != nil {
		t.Fatal(err)
	}
	echoed(t, conn, "hello libvirt")
	if n := srv.live.Load(); n != 1 {
		t.Errorf("%d live SSH connections, want 1", n)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	srv.waitLive(t, 0) // closing the libvirt conn ended the SSH connection
}

func TestSSHDialUnknownHost(t *testing.T) {
	client, host := newKey(t), newKey(t)
	srv := startServer(t, client.Signer.PublicKey(), host.Signer)
	_, port, _ := net.SplitHostPort(srv.addr)
	for _, known := range []string{"missing", "empty"} {
		d := srv.dialer(t, client)
		d.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
		if known == "empty" {
			writeFile(t, d.KnownHosts, "# nothing yet\n")
		}
		_, err := d.DialContext(context.Background())
		var hk *SSHHostKeyError
		if !errors.As(err, &hk) || len(hk.Want) != 0 {
			t.Fatalf("%s known_hosts: err = %v, want unknown-host *SSHHostKeyError", known, err)
		}
		for _, want := range []string{
			"host key of 127.0.0.1:" + port + " is unknown",
			ssh.FingerprintSHA256(host.Signer.PublicKey()),
			"ssh-keyscan -p " + port + " 127.0.0.1 >> " + d.KnownHosts,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s known_hosts: error %q lacks %q", known, err, want)
			}
		}
	}
	if n := srv.live.Load(); n != 0 {
		t.Errorf("%d SSH connections left open", n)
	}
}

func TestSSHDialWrongHostKey(t *testing.T) {
	client, host, old := newKey(t), newKey(t), newKey(t)
	srv := startServer(t, client.Signer.PublicKey(), host.Signer)
	d := srv.dialer(t, client)
	writeFile(t, d.KnownHosts, "other.example "+string(ssh.MarshalAuthorizedKey(host.Signer.PublicKey()))+
		knownhosts.Line([]string{srv.addr}, old.Signer.PublicKey())+"\n")

	_, err := d.DialContext(context.Background())
	var hk *SSHHostKeyError
	if !errors.As(err, &hk) || len(hk.Want) != 1 {
		t.Fatalf("err = %v, want mismatch *SSHHostKeyError", err)
	}
	_, port, _ := net.SplitHostPort(srv.addr)
	for _, want := range []string{
		"does not match known_hosts",
		"the server offers ssh-ed25519 " + ssh.FingerprintSHA256(host.Signer.PublicKey()),
		d.KnownHosts + ":2 ssh-ed25519 " + ssh.FingerprintSHA256(old.Signer.PublicKey()),
		"ssh-keygen -R '[127.0.0.1]:" + port + "' -f " + d.KnownHosts,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A server with ecdsa and ed25519 host keys, of which known_hosts lists
// only ed25519: x/crypto prefers ecdsa, so without HostKeyAlgorithms this
// would fail as a mismatch.
func TestSSHDialAsksForKnownKeyType(t *testing.T) {
	client, ed := newKey(t), newKey(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ssh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, client.Signer.PublicKey(), ec, ed.Signer)
	d := srv.dialer(t, client)
	writeFile(t, d.KnownHosts, knownhosts.Line([]string{srv.addr}, ed.Signer.PublicKey())+"\n")
	d.Socket = startEcho(t)
	conn, err := d.DialContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	echoed(t, conn, "ed25519 wins")
	conn.Close()

	// A server that lost the known key type is not silently accepted.
	srv2 := startServer(t, client.Signer.PublicKey(), ec)
	d2 := srv2.dialer(t, client)
	writeFile(t, d2.KnownHosts, knownhosts.Line([]string{srv2.addr}, ed.Signer.PublicKey())+"\n")
	_, err = d2.DialContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "offers none of the host key types") {
		t.Errorf("server without the known key type: %v", err)
	}
}

func TestSSHDialAuthRefused(t *testing.T) {
	client, stranger := newKey(t), newKey(t)
	srv := startServer(t, client.Signer.PublicKey(), newKey(t).Signer)
	d := srv.dialer(t, stranger)
	_, err := d.DialContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "accepted none of our keys ("+
		"no ssh-agent (SSH_AUTH_SOCK unset); "+stranger.Path+")") ||
		!strings.Contains(err.Error(), "authorized_keys") {
		t.Errorf("err = %v", err)
	}
}

func TestSSHDialNoKeys(t *testing.T) {
	d := &SSHDialer{User: "u", Host: "127.0.0.1", Port: "1", KeyFiles: []string{filepath.Join(t.TempDir(), "absent")},
		KnownHosts: filepath.Join(t.TempDir(), "known_hosts")}
	_, err := d.DialContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no SSH key to log in with") || !strings.Contains(err.Error(), "absent") {
		t.Errorf("err = %v", err)
	}
}

func TestSSHDialAgent(t *testing.T) {
	client := newKey(t)
	srv := startServer(t, client.Signer.PublicKey(), newKey(t).Signer)
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: client.Private}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	d := srv.dialer(t, client)
	d.KeyFiles, d.AgentSocket = nil, sock
	d.Socket = startEcho(t)
	conn, err := d.DialContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	echoed(t, conn, "via agent")
	conn.Close()
}

func TestSSHDialMissingSocket(t *testing.T) {
	client := newKey(t)
	srv := startServer(t, client.Signer.PublicKey(), newKey(t).Signer)
	d := srv.dialer(t, client)
	d.Socket = "/nonexistent/libvirt-sock"
	_, err := d.DialContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "open libvirt socket /nonexistent/libvirt-sock there") {
		t.Errorf("err = %v", err)
	}
	srv.waitLive(t, 0)
}

// A server that accepts TCP but never speaks SSH: the timeout and ctx end the dial.
func TestSSHDialTimeoutAndCancel(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	client := newKey(t)
	srv := &server{addr: l.Addr().String()}
	d := srv.dialer(t, client)
	d.Timeout = 300 * time.Millisecond
	t0 := time.Now()
	_, err = d.DialContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no SSH handshake within 300ms") {
		t.Errorf("timeout: err = %v", err)
	}
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("timeout took %s", el)
	}

	d.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = d.WithContext(ctx).Dial()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: err = %v", err)
	}
}

// --- helpers ---

type testKey struct {
	Private ed25519.PrivateKey
	Signer  ssh.Signer
	Path    string // OpenSSH private key file, 0600
}

func newKey(t *testing.T) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return testKey{Private: priv, Signer: s, Path: p}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// echoed writes msg to conn and checks it comes back.
func echoed(t *testing.T, conn net.Conn, msg string) {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != msg {
		t.Fatalf("echo = %q, %v", got, err)
	}
}

// startEcho serves a unix socket that echoes what it reads.
func startEcho(t *testing.T) string {
	t.Helper()
	return serveEcho(t, "unix", filepath.Join(t.TempDir(), "echo.sock"))
}

// startTCPEcho is a guest's port on the libvirt host's side.
func startTCPEcho(t *testing.T) string {
	t.Helper()
	return serveEcho(t, "tcp", "127.0.0.1:0")
}

// serveEcho listens on network/addr, echoes what every connection sends
// and returns the address it listens on.
func serveEcho(t *testing.T, network, addr string) string {
	t.Helper()
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	return l.Addr().String()
}

// server is a small x/crypto SSH server that accepts one client key and
// forwards direct-streamlocal channels, as sshd does.
type server struct {
	addr     string
	hostKeys []ssh.PublicKey
	live     atomic.Int32 // SSH connections past the handshake, not yet closed
}

func startServer(t *testing.T, authorized ssh.PublicKey, hostKeys ...ssh.Signer) *server {
	t.Helper()
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), authorized.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("not authorized")
		},
	}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: l.Addr().String()}
	for _, k := range hostKeys {
		s.hostKeys = append(s.hostKeys, k.PublicKey())
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(nc, cfg) }()
		}
	}()
	return s
}

func (s *server) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	defer nc.Close()
	conn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	s.live.Add(1)
	defer s.live.Add(-1)
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		network, addr, err := forwardTarget(nch)
		if err != nil {
			_ = nch.Reject(ssh.UnknownChannelType, err.Error())
			continue
		}
		uc, err := net.Dial(network, addr)
		if err != nil {
			_ = nch.Reject(ssh.ConnectionFailed, err.Error())
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			uc.Close()
			continue
		}
		go ssh.DiscardRequests(creqs)
		go func() { _, _ = io.Copy(uc, ch); uc.Close() }()
		go func() { _, _ = io.Copy(ch, uc); ch.Close() }()
	}
	_ = conn.Wait()
}

// forwardTarget reads where a direct-streamlocal (libvirt's socket) or
// direct-tcpip (a guest, through the jump) channel goes.
func forwardTarget(nch ssh.NewChannel) (network, addr string, err error) {
	switch nch.ChannelType() {
	case "direct-streamlocal@openssh.com":
		var msg struct {
			Path      string
			Reserved0 string
			Reserved1 uint32
		}
		err = ssh.Unmarshal(nch.ExtraData(), &msg)
		return "unix", msg.Path, err
	case "direct-tcpip":
		var msg struct {
			Host     string
			Port     uint32
			OrigHost string
			OrigPort uint32
		}
		err = ssh.Unmarshal(nch.ExtraData(), &msg)
		return "tcp", net.JoinHostPort(msg.Host, fmt.Sprint(msg.Port)), err
	}
	return "", "", fmt.Errorf("channel type %s not served", nch.ChannelType())
}

// dialer returns a dialer for s that logs in with key and whose
// known_hosts file lists s's host keys.
func (s *server) dialer(t *testing.T, key testKey) *SSHDialer {
	host, port, _ := net.SplitHostPort(s.addr)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	var lines string
	for _, k := range s.hostKeys {
		lines += knownhosts.Line([]string{s.addr}, k) + "\n"
	}
	writeFile(t, kh, lines)
	return &SSHDialer{User: "tester", Host: host, Port: port, Socket: DefaultRemoteSocket,
		KeyFiles: []string{key.Path}, KnownHosts: kh, Timeout: 10 * time.Second}
}

func (s *server) waitLive(t *testing.T, n int32) {
	t.Helper()
	for i := 0; i < 100 && s.live.Load() != n; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.live.Load(); got != n {
		t.Errorf("%d live SSH connections, want %d", got, n)
	}
}

// --- real OpenSSH sshd in a private network namespace ---

const sshdialNetns = "labctl-sshdial-test"

// TestSSHDialRealSSHD checks the dialer against OpenSSH's sshd on
// 127.0.0.1:2222 inside the network namespace labctl-sshdial-test: the
// test creates the namespace, re-runs itself in it with `ip netns exec`,
// and removes it. Needs root and /usr/sbin/sshd (or $LABCTL_SSHD).
func TestSSHDialRealSSHD(t *testing.T) {
	if os.Getenv("LABCTL_SSHDIAL_NETNS") == sshdialNetns {
		realSSHD(t)
		return
	}
	if testing.Short() {
		t.Skip("-short: skipping the real sshd test")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespace " + sshdialNetns)
	}
	sshd := os.Getenv("LABCTL_SSHD")
	if sshd == "" {
		sshd = "/usr/sbin/sshd"
	}
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("no OpenSSH sshd at %s (apt-get install -y openssh-server, or set LABCTL_SSHD)", sshd)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip(8) to create a network namespace")
	}
	_ = exec.Command("ip", "netns", "del", sshdialNetns).Run() // left by a killed run
	for _, args := range [][]string{{"netns", "add", sshdialNetns}, {"-n", sshdialNetns, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", sshdialNetns).Run() })
	}
	cmd := exec.Command("ip", "netns", "exec", sshdialNetns, os.Args[0],
		"-test.run=^TestSSHDialRealSSHD$", "-test.v", "-test.count=1", "-test.timeout=3m")
	cmd.Env = append(os.Environ(), "LABCTL_SSHDIAL_NETNS="+sshdialNetns, "LABCTL_SSHD="+sshd)
	out, err := cmd.CombinedOutput()
	t.Logf("inside netns %s:\n%s", sshdialNetns, out)
	if err != nil {
		t.Fatalf("test inside the namespace: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestSSHDialRealSSHD") {
		t.Fatal("the test inside the namespace did not pass")
	}
}

func realSSHD(t *testing.T) {
	// Refuse to run sshd anywhere but in our namespace.
	self, err1 := os.Stat("/proc/self/ns/net")
	ns, err2 := os.Stat("/run/netns/" + sshdialNetns)
	if err1 != nil || err2 != nil || !os.SameFile(self, ns) {
		t.Fatalf("not inside network namespace %s (%v, %v)", sshdialNetns, err1, err2)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	home := t.TempDir() // no ~/.ssh keys: each case names its key
	t.Setenv("HOME", home)
	const addr = "127.0.0.1:2222"
	dir := t.TempDir()
	host, client := newKey(t), newKey(t)
	authorized := filepath.Join(dir, "authorized_keys")
	writeFile(t, authorized, string(ssh.MarshalAuthorizedKey(client.Signer.PublicKey())))
	conf := filepath.Join(dir, "sshd_config")
	writeFile(t, conf, "ListenAddress "+addr+"\nHostKey "+host.Path+"\nAuthorizedKeysFile "+authorized+`
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
PermitRootLogin prohibit-password
AllowStreamLocalForwarding yes
LogLevel VERBOSE
`)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation directory
		t.Fatal(err)
	}
	sshd := exec.Command(os.Getenv("LABCTL_SSHD"), "-D", "-e", "-f", conf)
	var log bytes.Buffer
	var logMu sync.Mutex
	sshd.Stdout = writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return log.Write(p) })
	sshd.Stderr = sshd.Stdout
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sshd.Process.Kill()
		_ = sshd.Wait()
		if t.Failed() {
			logMu.Lock()
			t.Logf("sshd log:\n%s", log.String())
			logMu.Unlock()
		}
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("sshd does not listen on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	writeFile(t, knownHosts, knownhosts.Line([]string{addr}, host.Signer.PublicKey())+"\n")
	echo := startEcho(t)
	ctx := context.Background()
	dial := func(rawURI string) (net.Conn, error) {
		u, err := url.Parse(rawURI)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseSSHURI(u)
		if err != nil {
			t.Fatal(err)
		}
		return d.WithContext(ctx).Dial()
	}
	base := "qemu+ssh://root@" + addr + "/system?socket=" + echo

	t.Run("echo", func(t *testing.T) {
		t0 := time.Now()
		conn, err := dial(base + "&keyfile=" + client.Path + "&known_hosts=" + knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("login + socket channel took %s", time.Since(t0).Round(time.Millisecond))
		echoed(t, conn, "hello through OpenSSH")
		if n := established(t, 2222); n != 1 {
			t.Errorf("%d TCP connections to sshd, want 1", n)
		}
		conn.Close()
		for i := 0; i < 100 && established(t, 2222) != 0; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if n := established(t, 2222); n != 0 {
			t.Errorf("%d TCP connections to sshd left after Close", n)
		}
	})

	t.Run("unknown host, then ssh-keyscan as the error says", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		_, err := dial(base + "&keyfile=" + client.Path + "&known_hosts=" + kh)
		var hk *SSHHostKeyError
		if !errors.As(err, &hk) || len(hk.Want) != 0 {
			t.Fatalf("err = %v, want unknown host", err)
		}
		t.Logf("error: %v", err)
		hint := "ssh-keyscan -p 2222 127.0.0.1 >> " + kh
		if !strings.Contains(err.Error(), hint) {
			t.Fatalf("error lacks %q", hint)
		}
		if _, err := exec.LookPath("ssh-keyscan"); err != nil {
			t.Skip("no ssh-keyscan")
		}
		if out, err := exec.Command("sh", "-c", hint).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", hint, err, out)
		}
		conn, err := dial(base + "&keyfile=" + client.Path + "&known_hosts=" + kh)
		if err != nil {
			t.Fatalf("after ssh-keyscan: %v", err)
		}
		echoed(t, conn, "known now")
		conn.Close()
	})

	t.Run("wrong host key", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		writeFile(t, kh, knownhosts.Line([]string{addr}, newKey(t).Signer.PublicKey())+"\n")
		_, err := dial(base + "&keyfile=" + client.Path + "&known_hosts=" + kh)
		var hk *SSHHostKeyError
		if !errors.As(err, &hk) || len(hk.Want) != 1 || !strings.Contains(err.Error(), "ssh-keygen -R '[127.0.0.1]:2222'") {
			t.Fatalf("err = %v, want mismatch", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("key not authorized", func(t *testing.T) {
		_, err := dial(base + "&keyfile=" + newKey(t).Path + "&known_hosts=" + knownHosts)
		if err == nil || !strings.Contains(err.Error(), "accepted none of our keys") {
			t.Fatalf("err = %v", err)
		}
		t.Logf("error: %v", err)
	})

	t.Run("ssh-agent", func(t *testing.T) {
		if _, err := exec.LookPath("ssh-agent"); err != nil {
			t.Skip("no ssh-agent")
		}
		sock := filepath.Join(t.TempDir(), "agent.sock")
		ag := exec.Command("ssh-agent", "-D", "-a", sock)
		if err := ag.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ag.Process.Kill(); _ = ag.Wait() })
		for i := 0; i < 100 && !fileExists(sock); i++ {
			time.Sleep(20 * time.Millisecond)
		}
		add := exec.Command("ssh-add", client.Path)
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add: %v\n%s", err, out)
		}
		t.Setenv("SSH_AUTH_SOCK", sock)
		conn, err := dial(base + "&known_hosts=" + knownHosts) // no keyfile, no ~/.ssh keys
		if err != nil {
			t.Fatal(err)
		}
		echoed(t, conn, "agent key")
		conn.Close()
	})

	t.Run("stream a log: cat, then follow until cancelled", func(t *testing.T) {
		u, err := url.Parse(base + "&keyfile=" + client.Path + "&known_hosts=" + knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseSSHURI(u)
		if err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, "console.log")
		writeFile(t, logPath, "first line\n")
		var got bytes.Buffer
		if err := d.Stream(ctx, "cat -- "+logPath, &got); err != nil || got.String() != "first line\n" {
			t.Fatalf("cat: %v, %q", err, got.String())
		}
		if err := d.Stream(ctx, "cat -- /nonexistent", io.Discard); err == nil || !strings.Contains(err.Error(), "No such file") {
			t.Errorf("cat of a missing file: %v", err)
		}
		fctx, cancel := context.WithCancel(ctx)
		var mu sync.Mutex
		var followed bytes.Buffer
		w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return followed.Write(p) })
		done := make(chan error, 1)
		go func() { done <- d.Stream(fctx, "tail -n +1 -F -- "+logPath, w) }()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 100; i++ {
			mu.Lock()
			n := followed.Len()
			mu.Unlock()
			if n > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		_, _ = f.WriteString("appended line\n")
		f.Close()
		for i := 0; i < 100; i++ {
			mu.Lock()
			s := followed.String()
			mu.Unlock()
			if s == "first line\nappended line\n" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("follow ended with %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("follow did not stop after cancel")
		}
		mu.Lock()
		defer mu.Unlock()
		if followed.String() != "first line\nappended line\n" {
			t.Errorf("followed %q", followed.String())
		}
	})

	t.Run("jump to a guest port over the libvirt connection", func(t *testing.T) {
		u, err := url.Parse(base + "&keyfile=" + client.Path + "&known_hosts=" + knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseSSHURI(u)
		if err != nil {
			t.Fatal(err)
		}
		rd := &recordingDialer{ctx: ctx, d: d}
		lc, err := rd.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer lc.Close()
		c := &Conn{jump: rd.conn()}
		g, err := c.DialGuest(ctx, "tcp", startTCPEcho(t))
		if err != nil {
			t.Fatal(err)
		}
		echoed(t, g, "guest through sshd")
		echoed(t, lc, "libvirt socket alongside")
		if n := established(t, 2222); n != 1 {
			t.Errorf("%d TCP connections to sshd, want 1", n)
		}
		g.Close()
		if _, err := c.DialGuest(ctx, "tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "through libvirt host root@"+addr) {
			t.Errorf("closed guest port: err = %v", err)
		}
	})

	t.Run("libvirtd over qemu+ssh", func(t *testing.T) {
		if c, err := net.Dial("unix", DefaultRemoteSocket); err != nil {
			t.Skipf("no libvirtd at %s: %v", DefaultRemoteSocket, err)
		} else {
			c.Close()
		}
		local, err := Dial(ctx, "qemu:///system")
		if err != nil {
			t.Fatal(err)
		}
		defer local.Close()
		t0 := time.Now()
		remote, err := Dial(ctx, "qemu+ssh://root@"+addr+"/system?keyfile="+client.Path+"&known_hosts="+knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("Dial(qemu+ssh) took %s", time.Since(t0).Round(time.Millisecond))
		want, err := local.l.ConnectGetLibVersion()
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.l.ConnectGetLibVersion()
		if err != nil || got != want {
			t.Fatalf("ConnectGetLibVersion over qemu+ssh = %d, %v; locally %d", got, err, want)
		}
		wantHost, _ := local.l.ConnectGetHostname()
		gotHost, err := remote.l.ConnectGetHostname()
		if err != nil || gotHost != wantHost {
			t.Errorf("ConnectGetHostname over qemu+ssh = %q, %v; locally %q", gotHost, err, wantHost)
		}
		t.Logf("libvirt %d.%d.%d on %q over qemu+ssh", got/1000000, got/1000%1000, got%1000, gotHost)
		g, err := remote.DialGuest(ctx, "tcp", startTCPEcho(t))
		if err != nil {
			t.Fatal(err)
		}
		echoed(t, g, "guest next to libvirt")
		g.Close()
		if n := established(t, 2222); n != 1 {
			t.Errorf("%d TCP connections to sshd, want 1", n)
		}
		if err := remote.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for i := 0; i < 100 && established(t, 2222) != 0; i++ {
			time.Sleep(20 * time.Millisecond)
		}
		if n := established(t, 2222); n != 0 {
			t.Errorf("%d TCP connections to sshd left after Close", n)
		}
	})
}

// established counts ESTABLISHED TCP connections to port in this network
// namespace (from /proc/net/tcp).
func established(t *testing.T, port int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	suffix := fmt.Sprintf(":%04X", port)
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[2], suffix) && f[3] == "01" {
			n++
		}
	}
	return n
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
