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

// seqRunner records every call of its VM in one sequence shared by all
// VMs, and first waits for gate (if any).
type seqRunner struct {
	ssh.Runner
	log  *callLog
	gate <-chan struct{}
}

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

func (r *seqRunner) wait(ctx context.Context) error {
	if r.gate == nil {
		return nil
	}
	select {
	case <-r.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *seqRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	if err := r.wait(ctx); err != nil {
		return ssh.Result{}, err
	}
	r.log.add(r.Host(), cmd)
	return r.Runner.Run(ctx, cmd)
}

func (r *seqRunner) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := r.wait(ctx); err != nil {
		return err
	}
	r.log.add(r.Host(), p)
	return r.Runner.WriteFile(ctx, p, data, mode)
}

func (r *seqRunner) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := r.wait(ctx); err != nil {
		return nil, err
	}
	r.log.add(r.Host(), p)
	return r.Runner.ReadFile(ctx, p)
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
		r := &seqRunner{Runner: gs[name].Fake, log: log}
		if name == "storage" {
			r.gate = clientStarted
		}
		return r, nil
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
		return &countingRunner{Runner: gs[name].Fake, enter: func() {
			mu.Lock()
			defer mu.Unlock()
			busy[name] = true
			most = max(most, len(busy))
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

// countingRunner calls enter and leave around every call.
type countingRunner struct {
	ssh.Runner
	enter, leave func()
}

func (r *countingRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	r.enter()
	defer r.leave()
	return r.Runner.Run(ctx, cmd)
}

func (r *countingRunner) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	r.enter()
	defer r.leave()
	return r.Runner.WriteFile(ctx, p, data, mode)
}

func (r *countingRunner) ReadFile(ctx context.Context, p string) ([]byte, error) {
	r.enter()
	defer r.leave()
	return r.Runner.ReadFile(ctx, p)
}
