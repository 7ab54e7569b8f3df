package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is an in-process SSH server on 127.0.0.1 that runs each exec
// request with `sh -c` in a temp dir. A fake `sudo` on its PATH accepts
// only `sudo -n CMD...` and marks the environment with LABCTL_TEST_SUDO=1.
type testServer struct {
	t     testing.TB
	ln    net.Listener
	dir   string
	conns atomic.Int32 // accepted TCP connections
	// stall makes the server ignore keepalive requests, like a VM that
	// vanished without closing its TCP connections.
	stall atomic.Bool

	mu   sync.Mutex
	open map[net.Conn]bool
}

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t testing.TB, addr string, host ssh.Signer, user ssh.PublicKey) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, ln: ln, dir: t.TempDir(), open: map[net.Conn]bool{}}
	bin := t.TempDir()
	fakeSudo := "#!/bin/sh\n[ \"$1\" = -n ] || { echo 'fake sudo: need -n' >&2; exit 1; }\nshift\nLABCTL_TEST_SUDO=1 exec \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte(fakeSudo), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(user.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(host)
	env := append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.mu.Lock()
			s.open[nc] = true
			s.mu.Unlock()
			go s.handle(nc, cfg, env)
		}
	}()
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) Addr() string { return s.ln.Addr().String() }

// Close stops listening and cuts every connection.
func (s *testServer) Close() {
	s.ln.Close()
	s.dropConnections()
}

func (s *testServer) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.open {
		c.Close()
		delete(s.open, c)
	}
}

func (s *testServer) handle(nc net.Conn, cfg *ssh.ServerConfig, env []string) {
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.open, nc)
		s.mu.Unlock()
	}()
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	go func() {
		for req := range reqs {
			if !s.stall.Load() {
				_ = req.Reply(false, nil)
			}
		}
	}()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, chReqs, env)
	}
}

func (s *testServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, env []string) {
	var (
		mu  sync.Mutex
		cmd *exec.Cmd
	)
	for req := range reqs {
		switch req.Type {
		case "exec", "shell":
			line := "sh"
			if req.Type == "exec" {
				var p struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					_ = req.Reply(false, nil)
					continue
				}
				line = p.Command
			}
			c := exec.Command("sh", "-c", line)
			c.Dir, c.Env = s.dir, env
			c.Stdin, c.Stdout, c.Stderr = ch, ch, ch.Stderr()
			c.WaitDelay = time.Second
			if err := c.Start(); err != nil {
				_ = req.Reply(false, nil)
				continue
			}
			mu.Lock()
			cmd = c
			mu.Unlock()
			_ = req.Reply(true, nil)
			go func() {
				_ = c.Wait()
				ws := c.ProcessState.Sys().(syscall.WaitStatus)
				if ws.Signaled() {
					sig := map[syscall.Signal]string{syscall.SIGKILL: "KILL", syscall.SIGTERM: "TERM"}[ws.Signal()]
					_, _ = ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
						Signal     string
						CoreDumped bool
						Error      string
						Lang       string
					}{Signal: sig}))
				} else {
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(ws.ExitStatus())}))
				}
				ch.Close()
			}()
		case "signal":
			mu.Lock()
			if cmd != nil && cmd.Process != nil {
				_ = cmd.Process.Kill()
			}
			mu.Unlock()
		case "pty-req", "env", "window-change":
			_ = req.Reply(true, nil)
		default:
			_ = req.Reply(false, nil)
		}
	}
}
