package roles

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/labctl/labctl/templates"
	"github.com/labctl/labctl/topology"
)

const (
	apacheSites   = "/etc/apache2/sites-available"
	apacheEnabled = "/etc/apache2/sites-enabled"
	apacheDropin  = "/etc/systemd/system/apache2.service.d/labctl.conf"
	healthRoot    = "/var/www/labctl-health"
)

// apacheModules are enabled by the web role: headers for X-Backend, env
// for SetEnv, alias for the health URL.
var apacheModules = []string{"headers", "env", "alias"}

func webRole() *role {
	return &role{
		name:     topology.RoleWeb,
		packages: []string{"apache2", "libapache2-mod-php", "php-cli"},
		files:    webFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			return []step{
				{name: "apache modules", run: webModulesStep},
				{name: "site", writes: filePaths(webFiles(lab, vm)), run: webSiteStep},
				{name: "apache2 service", run: func(ctx context.Context, h *host) (bool, error) {
					return h.ensureService(ctx, topology.RoleWeb.Unit(), "reload")
				}},
			}
		},
	}
}

type siteData struct {
	Lab, VM, Site string
	Hostname      string
	BackendIP     string
	Port          int
	Listen        []int // ports other than 80, which ports.conf already has
	Docroot       string
	OnNFS         bool
	HealthPath    string
	HealthDir     string
	HealthFile    string
}

func webSite(lab *topology.Lab, vm *topology.VM) (*topology.WebSite, error) {
	sites := sitesServedBy(lab, vm)
	switch len(sites) {
	case 0:
		return nil, fmt.Errorf("VM %q has role web but serves no web site", vm.Name)
	case 1:
		return sites[0], nil
	}
	return nil, fmt.Errorf("VM %q serves %d web sites; labctl supports one per VM", vm.Name, len(sites))
}

func webData(lab *topology.Lab, vm *topology.VM) (*siteData, error) {
	w, err := webSite(lab, vm)
	if err != nil {
		return nil, err
	}
	d := &siteData{Lab: lab.HandoutName(), VM: vm.Name, Site: w.Name, Hostname: vm.Hostname, Docroot: w.Docroot, OnNFS: w.Content != nil, Port: 80}
	if d.Hostname == "" {
		d.Hostname = vm.Name
	}
	if d.Docroot == "" {
		return nil, fmt.Errorf("web site %q has no docroot", w.Name)
	}
	for _, s := range servicesServedBy(lab, vm) {
		// DR and TUN cannot remap ports, so Apache listens on the service port.
		d.Port = s.Port
		d.BackendIP = backendOf(s, vm).IP.String()
		break
	}
	if d.BackendIP == "" {
		for _, n := range vm.NICs {
			if !n.Management && n.IP.IsValid() {
				d.BackendIP = n.IP.String()
				break
			}
		}
	}
	if d.Port != 80 {
		d.Listen = []int{d.Port}
	}
	if w.HealthPath != "" {
		if !strings.HasPrefix(w.HealthPath, "/") || strings.ContainsAny(w.HealthPath, " \"'") {
			return nil, fmt.Errorf("web site %q: health path %q must be an absolute URL path", w.Name, w.HealthPath)
		}
		d.HealthPath = w.HealthPath
		d.HealthDir = path.Join(healthRoot, w.Name)
		d.HealthFile = path.Join(d.HealthDir, path.Base(w.HealthPath))
	}
	return d, nil
}

func siteConfPath(site string) string { return path.Join(apacheSites, "labctl-"+site+".conf") }

func webFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	d, err := webData(lab, vm)
	if err != nil {
		return nil, err
	}
	conf, err := templates.Render("apache-site.conf.tmpl", d)
	if err != nil {
		return nil, err
	}
	out := []file{{path: siteConfPath(d.Site), data: conf, mode: 0o644}}
	if d.HealthFile != "" {
		b, err := templates.Render("health.html.tmpl", d)
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: d.HealthFile, data: b, mode: 0o644})
	}
	w, _ := webSite(lab, vm)
	if w.Content != nil {
		b, err := templates.Render("apache-dropin.conf.tmpl", map[string]string{"Lab": lab.HandoutName(), "VM": vm.Name, "Mount": w.Content.MountPoint})
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: apacheDropin, data: b, mode: 0o644})
	} else {
		// Local docroot: the page lives on each server.
		b, err := templates.Render("index.php.tmpl", map[string]string{"Lab": lab.HandoutName(), "Site": w.Name})
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: path.Join(d.Docroot, "index.php"), data: b, mode: 0o644})
	}
	return out, nil
}

func webModulesStep(ctx context.Context, h *host) (bool, error) {
	var checks []string
	for _, m := range apacheModules {
		checks = append(checks, "test -e /etc/apache2/mods-enabled/"+m+".load")
	}
	ok, err := h.tests(ctx, append(checks, "ls /etc/apache2/mods-enabled/ | grep -q '^php.*\\.load$'")...)
	if err != nil {
		return false, err
	}
	var missing []string
	for i, m := range apacheModules {
		if !ok[i] {
			missing = append(missing, m)
		}
	}
	if !ok[len(apacheModules)] {
		return false, fmt.Errorf("Apache's PHP module is not enabled: the image must include libapache2-mod-php (its install enables it)")
	}
	if len(missing) == 0 {
		return false, nil
	}
	// Marked first: a run cut off after a2enmod would find the modules
	// enabled and never reload.
	if err := h.markPending(ctx, topology.RoleWeb.Unit()); err != nil {
		return false, err
	}
	if _, err := h.run(ctx, "a2enmod -q "+strings.Join(missing, " ")); err != nil {
		return true, err
	}
	return true, nil
}

// webSiteStep writes the site and health files, enables the site (and
// disables Debian's default one), and checks the whole Apache config with
// `apache2ctl configtest`; a config Apache rejects is rolled back.
func webSiteStep(ctx context.Context, h *host) (bool, error) {
	d, err := webData(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	files, err := webFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	link := path.Join(apacheEnabled, "labctl-"+d.Site+".conf")
	deflt := path.Join(apacheEnabled, "000-default.conf")
	links, err := h.tests(ctx, "test -L "+link, "test -L "+deflt)
	if err != nil {
		return false, err
	}
	linked, hasDefault := links[0], links[1]
	enable := func(ctx context.Context) error {
		if !linked {
			if _, err := h.run(ctx, "ln -s ../sites-available/labctl-"+d.Site+".conf "+link); err != nil {
				return err
			}
		}
		if hasDefault {
			// The default site would shadow ours on *:80.
			if _, err := h.run(ctx, "rm -f "+deflt); err != nil {
				return err
			}
		}
		return nil
	}
	validate := func(ctx context.Context) error {
		if err := enable(ctx); err != nil {
			return err
		}
		_, err := h.run(ctx, "apache2ctl configtest")
		if err != nil && !linked {
			// Do not leave a link to a file that is about to be removed.
			_, _ = h.run(context.WithoutCancel(ctx), "rm -f "+link)
		}
		return err
	}
	if !slices.ContainsFunc(files, func(f file) bool { return f.path == apacheDropin }) {
		// A site without NFS must not keep an old mount dependency.
		if ok, err := h.exists(ctx, apacheDropin); err != nil {
			return false, err
		} else if ok {
			if err := h.markPending(ctx, topology.RoleWeb.Unit()); err != nil {
				return false, err
			}
			if _, err := h.run(ctx, "rm -f "+apacheDropin); err != nil {
				return true, err
			}
		}
	}
	changed, err := h.ensureUnitFiles(ctx, topology.RoleWeb.Unit(), files, validate)
	if err != nil {
		return changed, err
	}
	if !changed && (!linked || hasDefault) {
		if err := h.markPending(ctx, topology.RoleWeb.Unit()); err != nil {
			return false, err
		}
		if err := validate(ctx); err != nil {
			return true, err
		}
		changed = true
	}
	return changed, nil
}
