package roles

import (
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// hookRunner calls enter before and leave (if set) after every call of
// its VM; enter gets the command or path and may hold the call back.
type hookRunner struct {
	ssh.Runner
	enter func(ctx context.Context, what string) error
	leave func()
}

func (r *hookRunner) around(ctx context.Context, what string, call func() error) error {
	if err := r.enter(ctx, what); err != nil {
		return err
	}
	if r.leave != nil {
		defer r.leave()
	}
	return call()
}

func (r *hookRunner) Run(ctx context.Context, cmd string) (res ssh.Result, err error) {
	err = r.around(ctx, cmd, func() error { res, err = r.Runner.Run(ctx, cmd); return err })
	return res, err
}

func (r *hookRunner) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	return r.around(ctx, p, func() error { return r.Runner.WriteFile(ctx, p, data, mode) })
}

func (r *hookRunner) ReadFile(ctx context.Context, p string) (data []byte, err error) {
	err = r.around(ctx, p, func() error { data, err = r.Runner.ReadFile(ctx, p); return err })
	return data, err
}

// callLog records the calls of every VM in one sequence.
type callLog struct {
	mu    sync.Mutex
	calls []string // VM names, in call order
	what  []string // the command or path of each call
	first map[string]chan struct{}
}

func (l *callLog) add(vm, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, vm)
	l.what = append(l.what, what)
	if ch, ok := l.first[vm]; ok {
		close(ch)
		delete(l.first, vm)
	}
}

// VMs do not wait for each other's stages, except that the NFS clients
// wait for the NFS server and the directors for the web servers: here the
// storage server may not run a command before the client has run one (with
// a stage barrier that would never happen), no web server runs one before
// the storage server is done, and no director before the web servers are.
func TestStagesRunPerVMAndNFSClientsWaitForTheServer(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	log := &callLog{first: map[string]chan struct{}{"client": make(chan struct{})}}
	clientStarted := log.first["client"]
	hosts := func(name string) (ssh.Runner, error) {
		return &hookRunner{Runner: gs[name].Fake, enter: func(ctx context.Context, what string) error {
			if name == "storage" { // held back until the client has run a command
				select {
				case <-clientStarted:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			log.add(name, what)
			return nil
		}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Apply(ctx, lab, hosts, Options{}); err != nil {
		t.Fatalf("Apply: %v (storage waited for the client's stage?)", err)
	}
	first, last := map[string]int{}, map[string]int{}
	for i, vm := range log.calls {
		if _, ok := first[vm]; !ok {
			first[vm] = i
		}
		last[vm] = i
	}
	if len(first) != len(lab.VMs) {
		t.Fatalf("not every VM ran a command: %v", log.calls)
	}
	for _, web := range []string{"web-1", "web-2", "web-3"} {
		if first[web] < last["storage"] {
			t.Errorf("%s ran call %d before the storage server's last (%d): %v", web, first[web], last["storage"], log.calls)
		}
	}
	// The web stage's last call names apache2 (the service is started);
	// the real_server stage after it does not.
	lastApache := -1
	for i, w := range log.what {
		if strings.HasPrefix(log.calls[i], "web-") && strings.Contains(w, "apache2") {
			lastApache = i
		}
	}
	for _, d := range []string{"director-1", "director-2"} {
		if first[d] < lastApache {
			t.Errorf("%s ran call %d before the web servers' last web-stage call (%d)", d, first[d], lastApache)
		}
	}
	if first["client"] > first["storage"] {
		t.Errorf("the storage server ran before the client: %v", log.calls)
	}
}

// --parallel caps VMs at work, not VMs waiting: web-1 (a RAID of its own,
// so first in line) waits for the NFS server without holding the only
// slot, or the storage server would never run.
func TestParallelOneDoesNotDeadlockOnAWaitingVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	storage, web1 := lab.VM("storage"), lab.VM("web-1")
	web1.Roles = append([]topology.Role{topology.RoleRAID}, web1.Roles...)
	raid := *storage.RAID
	web1.RAID = &raid
	// web-1 first in the lab, so first in line for the one slot.
	vms := []*topology.VM{web1}
	for _, vm := range lab.VMs {
		if vm != web1 {
			vms = append(vms, vm)
		}
	}
	lab.VMs = vms
	for _, d := range storage.Disks {
		if d.RAIDMember {
			c := *d
			c.Serial = strings.Replace(d.Serial, "storage", "web-1", 1)
			web1.Disks = append(web1.Disks, &c)
		}
	}
	gs := guests(lab)
	var mu sync.Mutex
	busy, most := map[string]bool{}, 0
	hosts := func(name string) (ssh.Runner, error) {
		return &hookRunner{Runner: gs[name].Fake, enter: func(context.Context, string) error {
			mu.Lock()
			defer mu.Unlock()
			busy[name] = true
			most = max(most, len(busy))
			return nil
		}, leave: func() {
			mu.Lock()
			defer mu.Unlock()
			delete(busy, name)
		}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Apply(ctx, lab, hosts, Options{Parallel: 1}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if most != 1 {
		t.Errorf("%d VMs ran commands at once with Parallel 1", most)
	}
}
