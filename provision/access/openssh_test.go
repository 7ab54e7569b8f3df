package access

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// vm is an in-process SSH server standing in for one copy's VM: it
// presents host, accepts only user and answers every exec with name.
func vm(t *testing.T, name string, host ssh.Signer, user ssh.PublicKey) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) != string(user.Marshal()) {
			return nil, errors.New("unknown key")
		}
		return nil, nil
	}}
	cfg.AddHostKey(host)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(nc, cfg, name)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func serve(nc net.Conn, cfg *ssh.ServerConfig, name string) {
	defer nc.Close()
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		for req := range chReqs {
			if req.Type != "exec" {
				_ = req.Reply(false, nil)
				continue
			}
			_ = req.Reply(true, nil)
			_, _ = ch.Write([]byte(name + "\n"))
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
			ch.Close()
		}
	}
}

// copyKeys is one copy's user key (PEM and public) and web-1's host key.
func copyKeys(t *testing.T) ([]byte, ssh.PublicKey, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	user, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	_, hpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	host, err := ssh.NewSignerFromKey(hpriv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), user.PublicKey(), host
}

// TestOpenSSHReachesOnlyItsOwnCopy runs the OpenSSH client on bundles
// against two copies' web-1 on loopback: alice's bundle reaches her VM,
// is refused by bob's host key, and alice's key does not open bob's VM.
func TestOpenSSHReachesOnlyItsOwnCopy(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no OpenSSH client")
	}
	aliceKey, alicePub, aliceHost := copyKeys(t)
	bobKey, bobPub, bobHost := copyKeys(t)
	alicePort := vm(t, "alice-web-1", aliceHost, alicePub)
	bobPort := vm(t, "bob-web-1", bobHost, bobPub)
	run := func(key []byte, hostKey ssh.PublicKey, port int) (string, error) {
		b := &Bundle{Lab: "c-alice", User: "labctl", UserKey: key,
			Hosts: []Host{{Name: "web-1", Address: "127.0.0.1", Port: port, HostKey: hostKey}}}
		dir, err := Write(filepath.Join(t.TempDir(), "b"), b, false)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, sshBin, "-F", filepath.Join(dir, ConfigFile), "-o", "BatchMode=yes", "web-1", "hostname")
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"} // no agent, no ~/.ssh
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(aliceKey, aliceHost.PublicKey(), alicePort); err != nil || out != "alice-web-1\n" {
		t.Fatalf("alice's bundle on her web-1: %v\n%s", err, out)
	}
	// Copies share addresses: alice's bundle meeting bob's VM there.
	if out, err := run(aliceKey, aliceHost.PublicKey(), bobPort); err == nil || !strings.Contains(out, "HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("alice's bundle on bob's web-1: %v, want a host key refusal\n%s", err, out)
	}
	if out, err := run(aliceKey, bobHost.PublicKey(), bobPort); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("alice's key on bob's web-1 (host key pinned): %v, want permission denied\n%s", err, out)
	}
	if out, err := run(bobKey, bobHost.PublicKey(), bobPort); err != nil || out != "bob-web-1\n" {
		t.Errorf("bob's bundle on his web-1: %v\n%s", err, out)
	}
}
