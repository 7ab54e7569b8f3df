package libvirt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-libvirt/socket"
	labssh "github.com/labctl/labctl/provision/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultRemoteSocket is libvirtd's read-write socket on the far side of a
// qemu+ssh URI unless ?socket= says otherwise.
const DefaultRemoteSocket = "/var/run/libvirt/libvirt-sock"

const (
	defaultSSHTimeout   = 20 * time.Second
	sshKeepAliveEvery   = 30 * time.Second
	defaultSSHPortValue = "22"
)

// defaultKeyNames are tried in ~/.ssh, in OpenSSH's order of preference.
var defaultKeyNames = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// SSHDialer reaches libvirtd's unix socket on another host through SSH
// (golang.org/x/crypto/ssh), as libvirt's qemu+ssh transport does, but
// without running ssh or nc there: it opens a direct-streamlocal channel
// to the socket. The host key is always checked against known_hosts.
type SSHDialer struct {
	User       string
	Host       string // name or IP, without brackets
	Port       string
	Socket     string   // libvirtd socket on the remote host
	KeyFiles   []string // private keys offered after the agent's
	KnownHosts string
	// AgentSocket is ssh-agent's socket ("" = no agent).
	AgentSocket string
	// Timeout bounds the TCP connect, the SSH handshake and opening the
	// socket channel (0 = 20 s).
	Timeout time.Duration
}

// ParseSSHURI reads a [driver]+ssh://[user@]host[:port]/path libvirt URI.
// Defaults: the current user, port 22, DefaultRemoteSocket, the agent at
// $SSH_AUTH_SOCK plus whichever of ~/.ssh/id_ed25519, id_ecdsa, id_rsa
// exist, and ~/.ssh/known_hosts. Query parameters socket=, keyfile= and
// known_hosts= override them; other libvirt parameters (name=, mode=, ...)
// are left to the caller or do not apply to this transport.
func ParseSSHURI(u *url.URL) (*SSHDialer, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("libvirt URI %q: %s", u.Redacted(), fmt.Sprintf(format, a...))
	}
	if !strings.HasSuffix(u.Scheme, "+ssh") {
		return nil, bad("scheme %q is not an ssh transport", u.Scheme)
	}
	d := &SSHDialer{Host: u.Hostname(), Port: u.Port(), AgentSocket: os.Getenv("SSH_AUTH_SOCK")}
	if d.Host == "" {
		return nil, bad("no host")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return nil, bad("passwords in the URI are not supported; use an SSH key or ssh-agent")
		}
		d.User = u.User.Username()
	}
	if d.User == "" {
		cur, err := user.Current()
		if err != nil {
			return nil, bad("no user given and the current user is unknown: %v", err)
		}
		d.User = cur.Username
	}
	if d.Port == "" {
		d.Port = defaultSSHPortValue
	}
	if p, err := strconv.Atoi(d.Port); err != nil || p < 1 || p > 65535 {
		return nil, bad("invalid port %q", d.Port)
	}

	q := u.Query()
	if v := q.Get("no_verify"); v != "" && v != "0" {
		return nil, bad("no_verify=%s: labctl always verifies SSH host keys; add the host to known_hosts instead", v)
	}
	if v := q.Get("known_hosts_verify"); v != "" && v != "normal" {
		return nil, bad("known_hosts_verify=%s: labctl always verifies SSH host keys; add the host to known_hosts instead", v)
	}
	home, homeErr := os.UserHomeDir()
	expand := func(p string) string {
		if rest, ok := strings.CutPrefix(p, "~/"); ok && homeErr == nil {
			return filepath.Join(home, rest)
		}
		return p
	}

	d.Socket = q.Get("socket")
	switch {
	case d.Socket == "" && strings.TrimSuffix(u.Path, "/") == "/session":
		return nil, bad("the remote session daemon's socket depends on the remote user: give it with ?socket=")
	case d.Socket == "":
		d.Socket = DefaultRemoteSocket
	case !strings.HasPrefix(d.Socket, "/"):
		return nil, bad("socket=%s is not an absolute path", d.Socket)
	}

	if k := q.Get("keyfile"); k != "" {
		d.KeyFiles = []string{expand(k)}
	} else if homeErr == nil {
		for _, name := range defaultKeyNames {
			if p := filepath.Join(home, ".ssh", name); fileExists(p) {
				d.KeyFiles = append(d.KeyFiles, p)
			}
		}
	}
	if err := d.sshAuthParam(q.Get("sshauth")); err != nil {
		return nil, bad("%v", err)
	}

	d.KnownHosts = expand(q.Get("known_hosts"))
	if d.KnownHosts == "" {
		if homeErr != nil {
			return nil, bad("no known_hosts= given and no home directory: %v", homeErr)
		}
		d.KnownHosts = filepath.Join(home, ".ssh", "known_hosts")
	}
	return d, nil
}

// sshAuthParam applies libvirt's sshauth=agent,privkey list; password and
// keyboard-interactive logins are not supported.
func (d *SSHDialer) sshAuthParam(v string) error {
	if v == "" {
		return nil
	}
	agentOK, keysOK := false, false
	for _, m := range strings.Split(v, ",") {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "agent":
			agentOK = true
		case "privkey":
			keysOK = true
		default:
			return fmt.Errorf("sshauth=%s: only agent and privkey are supported", v)
		}
	}
	if !agentOK {
		d.AgentSocket = ""
	}
	if !keysOK {
		d.KeyFiles = nil
	}
	return nil
}

// WithContext adapts d to go-libvirt's socket.Dialer, whose Dial takes no
// context: the dial and handshake stop when ctx ends.
func (d *SSHDialer) WithContext(ctx context.Context) socket.Dialer {
	return ctxDialer{ctx: ctx, d: d}
}

type ctxDialer struct {
	ctx context.Context
	d   *SSHDialer
}

func (c ctxDialer) Dial() (net.Conn, error) { return c.d.DialContext(c.ctx) }

// String is user@host:port, as used in error messages.
func (d *SSHDialer) String() string {
	return d.User + "@" + net.JoinHostPort(d.Host, d.Port)
}

// DialContext logs in over SSH and connects to the remote libvirtd socket.
// Closing the returned conn also closes the SSH connection. An unknown or
// changed host key gives a *SSHHostKeyError.
func (d *SSHDialer) DialContext(ctx context.Context) (net.Conn, error) {
	timeout := d.timeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client, err := d.login(ctx, dctx, timeout)
	if err != nil {
		return nil, err
	}
	ch, err := client.DialContext(dctx, "unix", d.Socket)
	if err != nil {
		client.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("ssh to %s: open libvirt socket %s there (is libvirtd running, and may %s use that socket?): %w",
			d, d.Socket, d.User, err)
	}
	go labssh.KeepAlive(client, sshKeepAliveEvery)
	return &sshConn{Conn: ch, client: client, via: d.String()}, nil
}

// Stream runs cmd on the libvirt host and copies its output to w until it
// exits or ctx ends: how `labctl console` follows a serial log that lives
// on another host. It returns ctx.Err() when ctx ended first.
func (d *SSHDialer) Stream(ctx context.Context, cmd string, w io.Writer) error {
	timeout := d.timeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	client, err := d.login(ctx, dctx, timeout)
	cancel()
	if err != nil {
		return err
	}
	defer client.Close()
	go labssh.KeepAlive(client, sshKeepAliveEvery)
	sess, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("ssh to %s: %w", d, err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stdout, sess.Stderr = w, &stderr
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("on %s: %s: %w: %s", d, cmd, err, strings.TrimSpace(stderr.String()))
		}
		return nil
	case <-ctx.Done():
		client.Close() // ends the remote command's channel and sess.Run
		<-done
		return ctx.Err()
	}
}

func (d *SSHDialer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return defaultSSHTimeout
}

// login opens an SSH connection to the host: dctx bounds the dial and
// handshake, ctx tells a caller's cancellation from that deadline.
func (d *SSHDialer) login(ctx, dctx context.Context, timeout time.Duration) (*ssh.Client, error) {
	addr := net.JoinHostPort(d.Host, d.Port)
	hostKey, algos, err := d.hostKeyCheck(addr)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", d, err)
	}
	signers, notes, closeAgent := d.signers()
	defer closeAgent()
	if len(signers) == 0 {
		return nil, fmt.Errorf("ssh to %s: no SSH key to log in with (%s); start ssh-agent with your key, create ~/.ssh/id_ed25519, or add ?keyfile=PATH to the URI",
			d, strings.Join(notes, "; "))
	}

	nc, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", d, err)
	}
	// The handshake takes no ctx: bound it with the deadline, and move the
	// deadline into the past when ctx is cancelled early.
	if dl, ok := dctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(dctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, &ssh.ClientConfig{
		User:              d.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback:   hostKey,
		HostKeyAlgorithms: algos,
		Timeout:           timeout,
	})
	stopped := stop()
	if err != nil {
		nc.Close()
		return nil, d.handshakeError(ctx, dctx, timeout, err, notes)
	}
	if !stopped { // ctx ended right after the handshake: the deadline is poisoned
		c.Close()
		return nil, fmt.Errorf("ssh to %s: %w", d, dctx.Err())
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

func (d *SSHDialer) handshakeError(ctx, dctx context.Context, timeout time.Duration, err error, notes []string) error {
	var hk *SSHHostKeyError
	switch {
	case errors.As(err, &hk):
		return hk
	case ctx.Err() != nil:
		return fmt.Errorf("ssh to %s: %w", d, ctx.Err())
	case dctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("ssh to %s: no SSH handshake within %s", d, timeout)
	case strings.Contains(err.Error(), "no common algorithm for host key"):
		return fmt.Errorf("ssh to %s: the server offers none of the host key types %s lists for it, so it is not the host recorded there (reinstalled?); if you trust the change, remove the old entry with: ssh-keygen -R '%s' -f %s: %w",
			d, d.KnownHosts, knownhosts.Normalize(net.JoinHostPort(d.Host, d.Port)), d.KnownHosts, err)
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("ssh to %s: the server accepted none of our keys (%s); add your public key to ~%s/.ssh/authorized_keys there: %w",
			d, strings.Join(notes, "; "), d.User, err)
	}
	return fmt.Errorf("ssh to %s: %w", d, err)
}

// signers collects the agent's keys and the key files. notes says what was
// offered (or skipped and why) for error messages.
func (d *SSHDialer) signers() (signers []ssh.Signer, notes []string, closeAgent func()) {
	closeAgent = func() {}
	if d.AgentSocket == "" {
		notes = append(notes, "no ssh-agent (SSH_AUTH_SOCK unset)")
	} else if conn, err := net.Dial("unix", d.AgentSocket); err != nil {
		notes = append(notes, fmt.Sprintf("ssh-agent %s: %v", d.AgentSocket, err))
	} else {
		closeAgent = func() { conn.Close() }
		ss, err := agent.NewClient(conn).Signers()
		if err != nil {
			notes = append(notes, fmt.Sprintf("ssh-agent %s: %v", d.AgentSocket, err))
		} else {
			notes = append(notes, fmt.Sprintf("ssh-agent: %d keys", len(ss)))
			signers = append(signers, ss...)
		}
	}
	if len(d.KeyFiles) == 0 {
		notes = append(notes, "no key files")
	}
	for _, p := range d.KeyFiles {
		s, err := readSigner(p)
		if err != nil {
			notes = append(notes, err.Error())
			continue
		}
		notes = append(notes, p)
		signers = append(signers, s)
	}
	return signers, notes, closeAgent
}

func readSigner(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	s, err := ssh.ParsePrivateKey(b)
	var pp *ssh.PassphraseMissingError
	if errors.As(err, &pp) {
		return nil, fmt.Errorf("key %s is passphrase-protected: load it into ssh-agent", path)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return s, nil
}

// SSHHostKeyError says the server's host key is not the one known_hosts
// records for it (Want empty: the host is not there at all).
type SSHHostKeyError struct {
	Addr       string // host:port as dialed
	KnownHosts string
	Key        ssh.PublicKey // the key the server offered
	Want       []knownhosts.KnownKey
}

func (e *SSHHostKeyError) Error() string {
	host, port, _ := net.SplitHostPort(e.Addr)
	fp := e.Key.Type() + " " + ssh.FingerprintSHA256(e.Key)
	if len(e.Want) == 0 {
		scan := "ssh-keyscan " + host
		if port != defaultSSHPortValue {
			scan = "ssh-keyscan -p " + port + " " + host
		}
		return fmt.Sprintf("host key of %s is unknown: it is not in %s (the server offers %s); "+
			"after checking that fingerprint with the server's admin, add it with: %s >> %s (or log in once with ssh)",
			e.Addr, e.KnownHosts, fp, scan, e.KnownHosts)
	}
	var have []string
	for _, w := range e.Want {
		have = append(have, fmt.Sprintf("%s:%d %s %s", w.Filename, w.Line, w.Key.Type(), ssh.FingerprintSHA256(w.Key)))
	}
	return fmt.Sprintf("host key of %s does not match known_hosts: the server offers %s, known_hosts has %s; "+
		"someone may be intercepting the connection. If the server was reinstalled, remove the old entry with: ssh-keygen -R '%s' -f %s",
		e.Addr, fp, strings.Join(have, ", "), knownhosts.Normalize(e.Addr), e.KnownHosts)
}

// hostKeyCheck returns the known_hosts callback and the host key
// algorithms of the keys recorded for addr, so the server is asked for a
// key type we can check (otherwise a host with an ed25519 line could
// offer its ecdsa key and fail as a mismatch).
func (d *SSHDialer) hostKeyCheck(addr string) (ssh.HostKeyCallback, []string, error) {
	db, err := knownhosts.New(d.KnownHosts)
	if errors.Is(err, fs.ErrNotExist) {
		unknown := func(_ string, _ net.Addr, key ssh.PublicKey) error {
			return &SSHHostKeyError{Addr: addr, KnownHosts: d.KnownHosts, Key: key}
		}
		return unknown, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("known_hosts %s: %w", d.KnownHosts, err)
	}
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := db(hostname, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			return &SSHHostKeyError{Addr: addr, KnownHosts: d.KnownHosts, Key: key, Want: ke.Want}
		}
		var re *knownhosts.RevokedError
		if errors.As(err, &re) {
			return fmt.Errorf("host key of %s is marked @revoked in %s: %w", addr, re.Revoked.Filename, err)
		}
		return err
	}
	// A probe key matches no line, so the KeyError lists every key known for addr.
	var algos []string
	var ke *knownhosts.KeyError
	if errors.As(db(addr, &net.TCPAddr{}, probeKey{}), &ke) {
		seen := map[string]bool{}
		for _, w := range ke.Want {
			for _, a := range keyAlgorithms(w.Key.Type()) {
				if !seen[a] {
					seen[a] = true
					algos = append(algos, a)
				}
			}
		}
	}
	return check, algos, nil
}

func keyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// probeKey is a public key no known_hosts line can hold.
type probeKey struct{}

func (probeKey) Type() string                        { return "labctl-probe" }
func (probeKey) Marshal() []byte                     { return []byte("\x00\x00\x00\x0clabctl-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

// sshConn is the channel to libvirtd; closing it also ends the SSH
// connection it runs over.
type sshConn struct {
	net.Conn
	client *ssh.Client
	via    string // user@host:port, for errors
	once   sync.Once
	err    error
}

func (c *sshConn) Close() error {
	c.once.Do(func() {
		c.err = c.Conn.Close()
		if err := c.client.Close(); c.err == nil && err != nil && !errors.Is(err, net.ErrClosed) {
			c.err = err
		}
	})
	return c.err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
