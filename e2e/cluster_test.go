//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// clusterCase is one lab of labs/ brought up under another name.
type clusterCase struct {
	src    string // directory under labs/
	name   string // lab name used by the test
	faults bool   // also show the fault messages on this lab
	bench  bool   // also run the thesis experiments with labctl bench
	// roleChange: also change the scheduler in the lab file and check
	// that up re-applies the roles of the directors only.
	roleChange bool
	// exercise names a lab under labs/ whose exercise block is added to
	// src: up leaves the student's roles out, grade scores that low,
	// provision --solution configures them before the other checks, and
	// at the end a half-done and the full cluster are graded.
	exercise string
	// pacemaker: also run the thesis' Prueba 4 (kill ldirectord until the
	// group moves) on this Pacemaker-stack lab.
	pacemaker bool
}

// TestClusters brings each shipped LVS lab up with one `labctl up`, checks
// it with `labctl verify`, fetches pages through the VIP from the client
// VM, re-runs `labctl provision` (every step unchanged) and takes it down
// again, one lab at a time (a 7-VM TCG cluster is all a 2-core CI host
// carries). Select one with E2E_RUN=TestClusters/lvs-dr.
func TestClusters(t *testing.T) {
	for _, c := range []clusterCase{
		{src: "lvs-nat-ha", name: "e2enat", faults: true, bench: true, exercise: "lvs-nat-ha-exercise"},
		{src: "lvs-dr", name: "e2edr", roleChange: true},
		{src: "lvs-tun", name: "e2etun"},
		{src: "thesis-pacemaker", name: "e2epcm", pacemaker: true},
	} {
		t.Run(c.src, func(t *testing.T) { testCluster(t, c) })
	}
}

func testCluster(t *testing.T, c clusterCase) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	l := copyLab(t, c)
	lab := loadLab(t, l.dir)
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, _ = labctl(t, dctx, "down", "--name", l.name)
	})
	mustLabctl(t, ctx, "down", "--name", l.name) // leftovers of an aborted run

	t.Run("up", func(t *testing.T) {
		res := up(t, ctx, l)
		if res.NoOp || len(res.VMs) != len(lab.VMs) {
			t.Fatalf("up made %d VMs (no-op %v), want %d", len(res.VMs), res.NoOp, len(lab.VMs))
		}
		boot := 0.0
		for _, vm := range res.VMs {
			t.Logf("FIGURE %s boot-to-ssh %s %.1fs", c.src, vm.Name, vm.BootSeconds)
			boot = max(boot, vm.Seconds)
		}
		// VMResult.Seconds ends when the VM answers SSH; roles run after the last.
		t.Logf("FIGURE %s up wall %.1fs: boot (all VMs SSH-ready) %.1fs, provisioning %.1fs",
			c.src, res.Seconds, boot, res.Seconds-boot)
	})
	if t.Failed() {
		return
	}
	if c.exercise != "" {
		t.Run("exercise: grade scores the unconfigured cluster low", func(t *testing.T) { gradeUnconfigured(t, ctx, l, lab) })
		t.Run("exercise: provision --solution", func(t *testing.T) { solution(t, ctx, l) })
	}

	t.Run("verify", func(t *testing.T) { verifyLab(t, ctx, l, lab) })
	t.Run("pages through the VIP", func(t *testing.T) { pagesThroughVIP(t, ctx, l, lab) })

	t.Run("provision again changes nothing", func(t *testing.T) {
		start := time.Now()
		out, err := labctl(t, ctx, "provision", "-l", l.dir, "-o", "json")
		if err != nil {
			t.Fatalf("provision: %v", err)
		}
		t.Logf("FIGURE %s provision re-run %.1fs", c.src, time.Since(start).Seconds())
		var rep roles.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("provision output is not JSON: %v\n%s", err, out)
		}
		if want := len(roles.Steps(lab, false)); len(rep.Steps) != want {
			t.Errorf("provision ran %d steps, want %d", len(rep.Steps), want)
		}
		for _, s := range rep.Steps {
			if s.Status != roles.StatusUnchanged {
				t.Errorf("[%s] %s/%s: %s %s", s.VM, s.Role, s.Step, s.Status, s.Error)
			}
		}
	})

	if c.roleChange {
		t.Run("up applies a role change", func(t *testing.T) { roleChange(t, ctx, l, lab) })
	}
	if c.faults {
		t.Run("faults are clear", func(t *testing.T) { faults(t, ctx, l, lab) })
	}
	if c.bench {
		t.Run("thesis experiments", func(t *testing.T) { thesisBench(t, ctx, l) })
	}
	if c.pacemaker && os.Getenv("E2E_PACEMAKER_DRILLS") != "" {
		// make e2e-thesis, not make test: three kills take ~13 min under
		// TCG (each waits for a 30 s monitor, then Perl stop and start).
		t.Run("Prueba 4: ldirectord killed until the group moves", func(t *testing.T) { ldirectordKills(t, ctx, l, lab) })
		t.Run("verify passes on the other director", func(t *testing.T) { verifyLab(t, ctx, l, lab) })
	}
	if c.exercise != "" {
		t.Run("exercise: a half-done cluster scores in between", func(t *testing.T) { gradeHalfDone(t, ctx, l, lab) })
		t.Run("exercise: the model answer gets full marks, drills included", func(t *testing.T) { gradeFull(t, ctx, l, lab) })
		t.Run("exercise: verify passes after the drills", func(t *testing.T) { verifyLab(t, ctx, l, lab) })
	}

	t.Run("down removes everything", func(t *testing.T) {
		start := time.Now()
		mustLabctl(t, ctx, "down", l.dir)
		t.Logf("FIGURE %s down wall %.1fs", c.src, time.Since(start).Seconds())
		assertGone(t, l.name, false)
		if _, err := os.Stat(filepath.Join(e.stateDir, l.name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("state dir of %s left behind: %v", l.name, err)
		}
	})
}

var (
	labLabel   = regexp.MustCompile(`(?m)^lab "[^"]+" \{`)
	imageAttr  = regexp.MustCompile(`(?m)^(\s*image\s*=\s*)"bookworm-cloud"`)
	labDefault = regexp.MustCompile(`(?m)^lab "[^"]+" \{\n`)
	lanSubnet  = regexp.MustCompile(`\b192\.168\.(\d+)\.0/24\b`)
	intSubnet  = regexp.MustCompile(`\b10\.0\.(\d+)\.0/24\b`)
)

// renumber moves the lab's /24 networks into 10.250.0.0/15, which only the
// suite uses: a copy of labs/lvs-nat-ha must not overlap the lab itself when
// someone has it up on the same host (seen: CI on a host where `make demo`
// had left it running failed with a subnet clash).
func renumber(src string) string {
	src = lanSubnet.ReplaceAllString(src, "10.250.${1}.0/24")
	return intSubnet.ReplaceAllString(src, "10.251.${1}.0/24")
}

// copyLab copies labs/<src>/lab.hcl into a temporary directory, renamed
// to c.name (labctl has no name override, and libvirt object names derive
// from the lab name), using the suite's base image.
func copyLab(t *testing.T, c clusterCase) *lab {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labsDir(t), c.src, "lab.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	if len(labLabel.FindAllString(src, -1)) != 1 {
		t.Fatalf("labs/%s/lab.hcl: want exactly one lab block", c.src)
	}
	if c.exercise != "" {
		src += "\n" + exerciseBlock(t, c.exercise)
	}
	src = labDefault.ReplaceAllString(src, fmt.Sprintf("lab %q {\n  image = %q\n", c.name, e.image))
	src = imageAttr.ReplaceAllString(src, fmt.Sprintf("${1}%q", e.image))
	return writeLab(t, c.name, renumber(src))
}

// labsDir finds the repository's labs/: `go test` runs in e2e/,
// sandbox/e2e.sh runs the compiled test from the repository root.
func labsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("LABCTL_E2E_LABS"); d != "" {
		return d
	}
	for _, d := range []string{"labs", filepath.Join("..", "labs")} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	t.Fatal("labs/ not found from the working directory (set LABCTL_E2E_LABS)")
	return ""
}

func loadLab(t *testing.T, dir string) *topology.Lab {
	t.Helper()
	lab, _, diags := topology.Load(dir, topology.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", dir, diags.Error())
	}
	return lab
}

// verifyLab runs `labctl verify -o json` and checks that it passed and
// that the checks that matter for this lab are there and ok.
func verifyLab(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	start := time.Now()
	out, err := labctl(t, ctx, "verify", "-o", "json", "--requests", "30", l.dir)
	t.Logf("FIGURE %s verify %.1fs", lab.Name, time.Since(start).Seconds())
	var res verify.Result
	if jerr := json.Unmarshal([]byte(out), &res); jerr != nil {
		t.Fatalf("verify output is not JSON (%v): %v\n%s", err, jerr, out)
	}
	if err != nil || !res.OK() {
		t.Errorf("verify failed (%v): %d of %d checks", err, res.Failed(), len(res.Checks))
	}
	seen := map[string]int{}
	for _, c := range res.Checks {
		key := checkKind(c.Name)
		seen[key]++
		if !c.OK {
			t.Errorf("check %q on %s: expected %q, observed %q", c.Name, c.VM, c.Expected, c.Observed)
		}
	}
	want := map[string]int{"VIP answers HTTP": 0, "IPVS real server": 0}
	for _, s := range lab.LVS {
		want["VIP answers HTTP"]++
		if s.Stack == topology.StackPacemaker {
			want["corosync and pacemaker running"] += len(s.Directors)
			want["cluster nodes online"]++
			want["cluster resources"]++
		} else {
			want["keepalived running"] += len(s.Directors)
		}
		want["IPVS real server"] += len(s.Backends)
	}
	for _, vm := range lab.VMs {
		if vm.RAID != nil {
			want["RAID"]++
		}
	}
	for _, n := range lab.NFS {
		want["NFS mounted"] += len(n.Clients)
	}
	for k, n := range want {
		if seen[k] < n {
			t.Errorf("verify reported %d %q checks, want %d", seen[k], k, n)
		}
	}
	if seen["responses from every real server"]+seen["responses from a real server"] == 0 {
		t.Error("verify did not check the spread over real servers")
	}
}

// checkKind strips the object from a check name ("RAID /dev/md/data" →
// "RAID", "NFS mounted on /var/www/html" → "NFS mounted").
func checkKind(name string) string {
	for _, p := range []string{"IPVS real server", "IPVS service", "RAID", "NFS mounted", "export"} {
		if strings.HasPrefix(name, p) {
			return p
		}
	}
	return name
}

var schedulerAttr = regexp.MustCompile(`(?m)^(\s*scheduler\s*=\s*)"[a-z]+"`)

// roleChange edits the lvs block's scheduler in the lab file: libvirt has
// nothing to do, yet up must re-run the roles of the directors (and only
// theirs) and IPVS must use the new scheduler; then it changes it back.
func roleChange(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	svc := lab.LVS[0]
	b, err := os.ReadFile(filepath.Join(l.dir, "lab.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	orig := string(b)
	if len(schedulerAttr.FindAllString(orig, -1)) != 1 {
		t.Fatalf("want exactly one scheduler attribute in %s", l.dir)
	}
	var directors []string
	for _, d := range svc.Directors {
		directors = append(directors, d.Name)
	}
	upText := func() string {
		b, err := labctlCmd(ctx, "up", "--yes", l.dir).CombinedOutput()
		t.Logf("labctl up:\n%s", indent(string(b)))
		if err != nil {
			t.Fatalf("up: %v", err)
		}
		return string(b)
	}
	// labctl provision has just run every role: nothing to do.
	if out := upText(); !strings.Contains(out, "nothing to do") {
		t.Errorf("up after provision was not a no-op")
	}
	for _, sched := range []string{"sh", string(svc.Scheduler)} {
		l.rewrite(t, schedulerAttr.ReplaceAllString(orig, fmt.Sprintf("${1}%q", sched)))
		out := upText()
		if want := "roles of " + strings.Join(directors, ", ") + " changed"; !strings.Contains(out, want) {
			t.Errorf("up output lacks %q", want)
		}
		for _, b := range svc.Backends {
			if strings.Contains(out, "["+b.VM.Name+"]") {
				t.Errorf("up re-ran the roles of %s, whose configuration did not change", b.VM.Name)
			}
		}
		// keepalived applies a reload asynchronously: allow it a moment.
		for _, d := range directors {
			got := ""
			for deadline := time.Now().Add(20 * time.Second); got != sched && time.Now().Before(deadline); {
				ipvs := mustLabctl(t, ctx, "ssh", "--root", "-l", l.dir, d, "--", "ipvsadm -Ln")
				for _, s := range guestout.ParseIPVS(ipvs) {
					got = s.Scheduler
				}
			}
			if got != sched {
				t.Errorf("%s: IPVS scheduler %q after up, want %q", d, got, sched)
			}
		}
	}
}

var backendRE = regexp.MustCompile(`Served by <b id="backend">([^<]+)</b>`)

// pagesThroughVIP fetches the page N times from the client VM through
// each VIP and checks which backends served it: all of them, or one with
// persistence.
func pagesThroughVIP(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	client := ""
	for _, vm := range lab.VMs {
		if vm.HasRole(topology.RoleClient) {
			client = vm.Name
		}
	}
	if client == "" {
		t.Fatal("lab has no client VM")
	}
	const n = 12
	for _, s := range lab.LVS {
		url := fmt.Sprintf("http://%s:%d/", s.VIP, s.Port)
		// Separate curl processes: a new connection (and source port) each.
		cmd := fmt.Sprintf(`for i in $(seq %d); do curl -sS --max-time 5 %s || echo "curl failed: $?"; done`, n, url)
		out := mustLabctl(t, ctx, "ssh", "-l", l.dir, client, "--", cmd)
		got := map[string]int{}
		for _, m := range backendRE.FindAllStringSubmatch(out, -1) {
			got[m[1]]++
		}
		total := 0
		for _, k := range got {
			total += k
		}
		t.Logf("%s: %d pages from %s: %v", lab.Name, n, url, got)
		if total != n {
			t.Errorf("%d of %d pages from %s named a backend:\n%s", total, n, url, out)
		}
		var want []string
		for _, b := range s.Backends {
			name := b.VM.Hostname
			if name == "" {
				name = b.VM.Name
			}
			want = append(want, name)
		}
		for name := range got {
			if !slices.Contains(want, name) {
				t.Errorf("page from unknown backend %q", name)
			}
		}
		if s.Persistence != nil {
			if len(got) != 1 {
				t.Errorf("persistent service %s: pages from %d backends, want 1: %v", url, len(got), got)
			}
			continue
		}
		for _, w := range want {
			if got[w] == 0 {
				t.Errorf("backend %s served none of %d pages through %s: %v", w, n, url, got)
			}
		}
	}
}

// faults shows, on the real lab, the errors a user gets for a wrong host
// key and for a failing command, and that a config Apache rejects is
// rolled back with Apache still serving.
func faults(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	web := lab.LVS[0].Backends[0].VM.Name
	ks, err := keys.Open(filepath.Join(e.stateDir, l.name))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("wrong host key", func(t *testing.T) {
		err := swapHostKey(ks.HostKeyPath(web), func() error {
			b, err := labctlCmd(ctx, "provision", "-l", l.dir, web).CombinedOutput()
			msg := string(b)
			t.Logf("provision with a wrong pinned host key (%v):\n%s", err, indent(msg))
			if err == nil {
				return errors.New("provision accepted a host key that is not the pinned one")
			}
			for _, s := range []string{web, "HOST KEY MISMATCH"} {
				if !strings.Contains(msg, s) {
					return fmt.Errorf("message lacks %q", s)
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	})

	t.Run("failed command", func(t *testing.T) {
		// A stray broken Apache config plus a missing site file: the site
		// step rewrites the site, `apache2ctl configtest` fails, the new
		// file is removed again and Apache is not reloaded.
		broken := "/etc/apache2/conf-enabled/zz-e2e-broken.conf"
		site := "/etc/apache2/sites-available/labctl-" + lab.Web[0].Name + ".conf"
		mustLabctl(t, ctx, "ssh", "--root", "-l", l.dir, web, "--",
			fmt.Sprintf("echo 'E2EBrokenDirective on' > %s && mv %s %s.e2e", broken, site, site))
		restore := func() {
			_, _ = labctl(t, context.WithoutCancel(ctx), "ssh", "--root", "-l", l.dir, web, "--",
				fmt.Sprintf("rm -f %s; test -e %s || mv %s.e2e %s", broken, site, site, site))
		}
		cmd := labctlCmd(ctx, "provision", "-l", l.dir, web)
		b, err := cmd.CombinedOutput()
		msg := string(b)
		t.Logf("provision with a broken Apache config (%v):\n%s", err, indent(msg))
		if err == nil {
			restore()
			t.Fatal("provision passed with a broken Apache config")
		}
		for _, s := range []string{web, "site", "apache2ctl configtest", "exited 1", "E2EBrokenDirective"} {
			if !strings.Contains(msg, s) {
				t.Errorf("message lacks %q", s)
			}
		}
		// Rolled back: no new site file, and Apache still serves the old config.
		out, _ := labctl(t, ctx, "ssh", "--root", "-l", l.dir, web, "--",
			fmt.Sprintf("test -e %s && echo site-present; systemctl is-active apache2; curl -s -o /dev/null -w '%%{http_code}' http://127.0.0.1%s", site, lab.Web[0].HealthPath))
		t.Logf("after the failed step: %s", out)
		if strings.Contains(out, "site-present") || !strings.Contains(out, "active") || !strings.HasSuffix(strings.TrimSpace(out), "200") {
			t.Errorf("after the failed step: want no site file and Apache active and serving 200, got %q", out)
		}
		restore()
		// The next run converges again.
		mustLabctl(t, ctx, "provision", "-l", l.dir, web)
	})
}

// thesisBench runs the lab's thesis experiments with labctl bench, cut
// short for CI (about 8 minutes under TCG): load at 1, 2 and 3 real
// servers (scaling_siege with the built-in generator, 3 s, one repeat),
// the master director powered off through libvirt three times
// (master_failover with --repeat 3: three outages, their mean and 95 %
// CI, MTTR and availability) and a failed RAID 6 member
// (raid_member_failure); then labctl report.
func thesisBench(t *testing.T, ctx context.Context, l *lab) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	cli := quietCLI(t, func(args ...string) *exec.Cmd { return labctlCmd(ctx, args...) })
	results := t.TempDir()
	start := time.Now()
	short := []string{"--tool", "builtin", "--duration", "3s", "--concurrency", "4",
		"--fault-hold", "5s", "--fault-after", "3s", "--results", results}
	runs := runBench(t, cli, append([]string{"bench", l.dir, "scaling_siege", "raid_member_failure", "--repeat", "1"}, short...)...)
	t.Logf("FIGURE lvs-nat-ha bench wall %.1fs (scaling_siege, raid_member_failure)", time.Since(start).Seconds())
	start = time.Now()
	runs = append(runs, runBench(t, cli, append([]string{"bench", l.dir, "master_failover", "--repeat", "3"}, short...)...)...)
	t.Logf("FIGURE lvs-nat-ha bench wall %.1fs (master_failover, 3 repetitions)", time.Since(start).Seconds())
	byName := map[string]benchRun{}
	for _, r := range runs {
		byName[r.Run.Experiment.Name] = r
	}
	scaling, failover, raid := byName["scaling_siege"], byName["master_failover"], byName["raid_member_failure"]
	if scaling.Run == nil || failover.Run == nil || raid.Run == nil {
		t.Fatalf("runs %v, want scaling_siege, master_failover and raid_member_failure", slices.Collect(maps.Keys(byName)))
	}
	for _, r := range runs {
		checkPoints(t, r.Run)
		checkProvenance(t, r.Run)
	}
	if n := len(scaling.Run.Points); n != 3 {
		t.Errorf("scaling: %d points, want 3 (1, 2, 3 real servers)", n)
	}

	t.Run("master failover", func(t *testing.T) {
		if n := len(failover.Run.Faults); n != 3 {
			t.Fatalf("run %s: %d fault results, want 3 repetitions", failover.Dir, n)
		}
		for i := range failover.Run.Faults {
			f := &failover.Run.Faults[i]
			if f.Index != 1 || f.Repeat != i+1 {
				t.Errorf("fault result %d: index %d repeat %d, want 1 and %d", i+1, f.Index, f.Repeat, i+1)
			}
			checkFailover(t, f, readFaultReport(t, failover.Dir, i+1))
		}
		checkFaultStats(t, failover, 3)
	})

	t.Run("RAID member failure", func(t *testing.T) {
		f, rep := onlyFault(t, raid)
		phases := raidPhases(rep)
		t.Logf("FIGURE lvs-nat-ha raid: %s %s, phases %v, rebuild %ss, %d probes, %d failed",
			rep.Notes["method"], rep.Notes["device"], phases, rep.Notes["rebuild_sec"], len(f.Probes), f.During.Failed+f.During.BaselineFailed)
		if !rebuiltInOrder(phases, rep.Notes["recovery_seen_at"] != "") {
			t.Errorf("/proc/mdstat went %v (recovery seen by the injector: %q), want degraded → recovery → clean", phases, rep.Notes["recovery_seen_at"])
		}
		// The service answered throughout: NFS is mounted hard, so a
		// degraded or rebuilding array can only make answers slow. Under
		// TCG the rebuild's I/O may push some past the 1 s probe timeout
		// (0 of 875, 6 of 791, and 32 of 954 on a busier host, all after
		// the revert, i.e. during the rebuild); anything else, more than
		// 10 % slow or an outage over a second is a failure.
		var slow int
		var other []string
		for _, p := range f.Probes {
			switch {
			case p.OK:
			case isTimeout(p.Err):
				slow++
			default:
				other = append(other, fmt.Sprintf("%s status %d %s", p.At.Format("15:04:05.000"), p.Status, p.Err))
			}
		}
		t.Logf("FIGURE lvs-nat-ha raid: %d of %d probes timed out", slow, len(f.Probes))
		if len(f.Probes) == 0 || len(other) > 0 || slow > len(f.Probes)/10 {
			t.Errorf("%d probes: %d timed out, %d failed otherwise: %v", len(f.Probes), slow, len(other), other)
		}
		if f.During.Outage > 1 || (f.Revert != nil && f.Revert.Outage > 1) {
			t.Errorf("outage %.2fs during the fault, %+v after the revert", f.During.Outage, f.Revert)
		}
	})

	// A real server's backend link cut in libvirt: keepalived's health
	// check drops it from the pool and takes it back after link up. The
	// hold covers the check's worst case with room for a busy host (2 s
	// interval + 3 attempts of 1 s timeout and 1 s retry delay ≈ 7 s); the
	// watch after the revert lasts until the pool is whole again.
	var link benchRun
	t.Run("backend link down", func(t *testing.T) {
		runs := runBench(t, cli, "bench", l.dir, "--adhoc", "--real-servers", "3", "--repeat", "1", "--duration", "2s",
			"--concurrency", "4", "--fault", "link_down:web-3", "--fault-hold", "15s", "--fault-after", "5s", "--verify=false",
			"--results", results)
		if len(runs) != 1 {
			t.Fatalf("runs %+v", runs)
		}
		link = runs[0]
		f, rep := onlyFault(t, link)
		c := rep.Cluster
		t.Logf("FIGURE lvs-nat-ha link_down web-3: %s %s, outage %.2fs (%d failed probes), pool → %v after %.2fs, restored %.2fs after revert",
			rep.Notes["method"], rep.Notes["device"], f.During.Outage, f.During.Failed, c.PoolDuring, c.PoolChangedSec, c.RestoredSec)
		if rep.Notes["method"] != testbed.MethodLink {
			t.Errorf("link cut by %q, want %q", rep.Notes["method"], testbed.MethodLink)
		}
		if !c.PoolChanged || slices.Contains(c.PoolDuring, "web-3") || len(c.PoolDuring) != 2 || !c.Restored {
			t.Errorf("pool during link_down of web-3: %+v\nevents %+v\nwatched: %s", c, f.Events, strings.Join(stateChanges(rep), "; "))
		}
	})

	dirs := []string{scaling.Dir, failover.Dir, raid.Dir}
	if link.Dir != "" {
		dirs = append(dirs, link.Dir)
	}
	md, html := checkReport(t, cli, dirs...)
	for _, want := range []string{"rs=1", "rs=2", "rs=3", "destroy_director", "fail_raid_member"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown report lacks %q", want)
		}
	}
	checkFaultStatsReport(t, md, html, failover, 3)
}
