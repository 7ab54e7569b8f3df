package app

import (
	"strings"
	"testing"
)

func TestOwnerFlags(t *testing.T) {
	if _, err := (ownerFlags{owner: "Bob;x"}).resolve(); err == nil || !strings.Contains(err.Error(), "--owner") {
		t.Errorf("--owner Bob;x: %v", err)
	}
	if o, err := (ownerFlags{}).resolve(); err != nil || o == "" {
		t.Errorf("default owner: %q, %v", o, err)
	}
}

// Under sudo, the owner is the sudo user: --owner naming someone else and
// --force are for root itself only.
func TestOwnerFlagsUnderSudo(t *testing.T) {
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 0 }
	t.Setenv("SUDO_USER", "bob")
	t.Setenv("SUDO_UID", "1001")
	if o, err := (ownerFlags{}).resolve(); err != nil || o != "bob" {
		t.Errorf("default owner under sudo: %q, %v", o, err)
	}
	if o, err := (ownerFlags{owner: "bob"}).resolve(); err != nil || o != "bob" {
		t.Errorf("--owner bob as bob: %q, %v", o, err)
	}
	if _, err := (ownerFlags{owner: "alice"}).resolve(); err == nil || !strings.Contains(err.Error(), "you are bob") {
		t.Errorf("--owner alice as bob: %v", err)
	}
	if err := (ownerFlags{force: true}).checkForce(); err == nil {
		t.Error("--force allowed for a sudo user")
	}

	t.Setenv("SUDO_USER", "")
	t.Setenv("SUDO_UID", "")
	if o, err := (ownerFlags{owner: "alice"}).resolve(); err != nil || o != "alice" {
		t.Errorf("--owner alice as root: %q, %v", o, err)
	}
	if err := (ownerFlags{force: true}).checkForce(); err != nil {
		t.Errorf("--force as root: %v", err)
	}

	geteuid = func() int { return 1000 }
	if err := (ownerFlags{force: true}).checkForce(); err == nil {
		t.Error("--force allowed for a non-root user")
	}
}
