package app

import (
	"fmt"
	"os"
	"os/user"

	"github.com/labctl/labctl/topology"
)

// ownerFlags say who runs a lab: --owner NAME runs that owner's own copy of
// the lab file (names and subnets derived per owner); --force lets root
// change or remove a lab another owner holds.
type ownerFlags struct {
	owner string
	force bool
}

// geteuid is os.Geteuid, replaced in tests.
var geteuid = os.Geteuid

// realRoot reports whether labctl runs as root itself, not as root through
// sudo for another user: labctl runs under sudo on shared lab servers, so
// euid 0 alone would let every student act for every other one.
func realRoot() bool {
	uid := os.Getenv("SUDO_UID")
	return geteuid() == 0 && (uid == "" || uid == "0")
}

// caller is the Unix user who invoked labctl (SUDO_USER under sudo).
func caller() (string, error) {
	if s := os.Getenv("SUDO_USER"); s != "" && geteuid() == 0 {
		return s, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("who runs labctl: %w", err)
	}
	return u.Username, nil
}

// resolve returns who the lab's objects are recorded for: --owner, else
// the caller. Only root itself may name another owner than the caller:
// the owner is what keeps one student's lab from another's commands.
func (f ownerFlags) resolve() (string, error) {
	if f.owner == "" {
		return caller()
	}
	if err := topology.CheckLabName(f.owner); err != nil || len(f.owner) > 20 {
		return "", fmt.Errorf("--owner %q: want at most 20 characters of a-z, 0-9 and '-' (it becomes part of every libvirt name)", f.owner)
	}
	if !realRoot() {
		me, err := caller()
		if err != nil {
			return "", err
		}
		if me != f.owner {
			return "", fmt.Errorf("--owner %s: you are %s; only root itself (not through sudo) may act for another owner", f.owner, me)
		}
	}
	return f.owner, nil
}

// checkForce allows --force only for root itself.
func (f ownerFlags) checkForce() error {
	if f.force && !realRoot() {
		return fmt.Errorf("--force: only root itself (not through sudo) may change or remove a lab another owner holds")
	}
	return nil
}
