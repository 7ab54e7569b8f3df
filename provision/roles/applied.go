package roles

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/labctl/labctl/topology"
)

// Fingerprint digests what the roles would configure on vm: the steps they
// run, their packages, every file they render (templates are embedded, so a
// labctl with other templates changes it too) and the RAID layout the array
// step acts on. "" for a VM without roles.
func Fingerprint(lab *topology.Lab, vm *topology.VM) (string, error) {
	if len(vm.Roles) == 0 {
		return "", nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "labctl roles 2\n") // bump when what a step does changes
	for _, st := range plan(lab, []string{vm.Name}, false) {
		r := roleByName(st.role)
		fmt.Fprintf(h, "role %s packages %q\n", r.name, r.packages)
		if st.work[0].withheld {
			// The student's: labctl's part is its packages alone.
			fmt.Fprintf(h, "withheld\n")
			continue
		}
		for _, s := range st.work[0].steps {
			fmt.Fprintf(h, "step %s\n", s.name)
		}
		files, err := r.files(lab, vm)
		if err != nil {
			return "", fmt.Errorf("VM %s: role %s: %w", vm.Name, r.name, err)
		}
		for _, f := range files {
			fmt.Fprintf(h, "file %s %o %d\n", f.path, f.mode, len(f.data))
			h.Write(f.data)
		}
	}
	if vm.RAID != nil {
		fmt.Fprintf(h, "raid %+v\n", *vm.RAID)
	}
	return hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// appliedFile is kept in the lab's state directory (removed by down).
const appliedFile = "roles-applied.json"

// Applied records, per VM, the Fingerprint of the roles last applied to it
// without error. up compares it with the lab file to re-run the roles of
// the VMs whose configuration changed (or never finished) even when libvirt
// has nothing to do.
type Applied struct {
	path string
	VMs  map[string]string `json:"vms"`
}

// LoadApplied reads the record in the state directory dir; a missing file
// is an empty record.
func LoadApplied(dir string) (*Applied, error) {
	a := &Applied{path: filepath.Join(dir, appliedFile), VMs: map[string]string{}}
	b, err := os.ReadFile(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read applied roles: %w", err)
	}
	if err := json.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("read applied roles %s: %w", a.path, err)
	}
	if a.VMs == nil {
		a.VMs = map[string]string{}
	}
	return a, nil
}

// Stale lists, in lab order, the VMs with roles whose Fingerprint differs
// from the record (or that have none recorded).
func (a *Applied) Stale(lab *topology.Lab) ([]string, error) {
	var out []string
	for _, vm := range lab.VMs {
		fp, err := Fingerprint(lab, vm)
		if err != nil {
			return nil, err
		}
		if fp != "" && a.VMs[vm.Name] != fp {
			out = append(out, vm.Name)
		}
	}
	return out, nil
}

// Forget drops the VMs (nil = all) from the record and saves it: called
// before their roles run, so that a run that fails half-way is retried.
func (a *Applied) Forget(vms []string) error {
	for name := range a.VMs {
		if vms == nil || slices.Contains(vms, name) {
			delete(a.VMs, name)
		}
	}
	return a.save()
}

// Record sets the VMs' (nil = all of lab) fingerprints after their roles
// ran without error, and saves the record.
func (a *Applied) Record(lab *topology.Lab, vms []string) error {
	for _, vm := range lab.VMs {
		if vms != nil && !slices.Contains(vms, vm.Name) {
			continue
		}
		fp, err := Fingerprint(lab, vm)
		if err != nil {
			return err
		}
		if fp == "" {
			delete(a.VMs, vm.Name)
		} else {
			a.VMs[vm.Name] = fp
		}
	}
	return a.save()
}

// save replaces the file atomically (a reader never sees half a record).
func (a *Applied) save() error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(a.path), 0o700); err != nil {
		return fmt.Errorf("save applied roles: %w", err)
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save applied roles: %w", err)
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return fmt.Errorf("save applied roles: %w", err)
	}
	return nil
}

// ForgetAll removes the record in the state directory dir (down keeps
// the keys with --keep-keys, but no VM is configured any more).
func ForgetAll(dir string) error {
	if err := os.Remove(filepath.Join(dir, appliedFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forget applied roles: %w", err)
	}
	return nil
}
