// Package provision is labctl's composition root: up, down, status,
// provision, ssh, verify and bench open a lab through a Session, which ties
// the libvirt engine (provision/engine), the lab's keys, guest SSH and the
// record of which VMs' roles ran. Guests and Connect are its seams for fakes.
package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// EnvURI overrides the libvirt URI of every lab (the --connect flag wins).
const EnvURI = "LABCTL_URI"

// Connector dials libvirt at uri; tests return a fake.
type Connector func(ctx context.Context, uri string) (libvirt.Hypervisor, error)

// OpenOptions say how Open finds the lab and libvirt.
type OpenOptions struct {
	// Load reads the lab file with the host's facts in base; warn says
	// whether to print its warnings (the first, provisional read does not).
	Load  func(base topology.LoadOptions, warn bool) (*topology.Lab, error)
	URI   string // --connect ("" = $LABCTL_URI, the lab's uri, the default)
	Owner string // who the lab's objects are recorded for
	Force bool   // root may change a lab another owner holds
	// Connect dials libvirt (nil = libvirt.Dial).
	Connect Connector
	// Images resolves base images (nil = labctl's image store).
	Images func(name string) (*engine.BaseImage, error)
	// Guests reaches the booted VMs (nil = over SSH).
	Guests Guests
}

// Session is one lab opened on its libvirt host: what up, status,
// provision, verify, ssh and bench share (down needs only Teardown).
// Close releases it.
type Session struct {
	Lab  *topology.Lab
	HV   libvirt.Hypervisor
	Keys *keys.Store
	Opts engine.Options // URI, accelerator, owner, images, seeds
	// Out receives the roles' progress lines (nil = silent).
	Out io.Writer
	// Trace receives every guest command with its duration (nil = none).
	Trace  io.Writer
	force  bool
	guests Guests
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Open loads the lab, connects to libvirt and resolves the accelerator.
// The lab is read twice: first for its name and URI, then with the subnets
// in use on the host, so a derived management subnet avoids them (and an
// existing lab keeps its own).
func Open(ctx context.Context, o OpenOptions) (*Session, error) {
	lab, err := o.Load(topology.LoadOptions{}, false)
	if err != nil {
		return nil, err
	}
	hv, uri, err := connect(ctx, o, lab)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, o, hv, uri, lab)
	if err != nil {
		hv.Close()
		return nil, err
	}
	return s, nil
}

// connect dials the libvirt host of lab.
func connect(ctx context.Context, o OpenOptions, lab *topology.Lab) (libvirt.Hypervisor, string, error) {
	uri := LabURI(o.URI, lab)
	dial := o.Connect
	if dial == nil {
		dial = func(ctx context.Context, uri string) (libvirt.Hypervisor, error) { return libvirt.Dial(ctx, uri) }
	}
	hv, err := dial(ctx, uri)
	if err != nil {
		return nil, "", fmt.Errorf("%w\n(is libvirtd running? try `labctl doctor`)", err)
	}
	return hv, uri, nil
}

func open(ctx context.Context, o OpenOptions, hv libvirt.Hypervisor, uri string, lab *topology.Lab) (*Session, error) {
	avoid, keep, err := subnetsInUse(ctx, hv, lab.Name, IsLocalURI(uri))
	if err != nil {
		return nil, err
	}
	if lab, err = o.Load(topology.LoadOptions{AvoidCIDRs: avoid, ManagementCIDR: keep}, true); err != nil {
		return nil, err
	}
	s := &Session{Lab: lab, HV: hv, force: o.Force, guests: o.Guests}
	if s.guests == nil {
		s.guests = sshGuests{}
	}
	if s.dial, err = guestDialer(uri, hv); err != nil {
		return nil, err
	}
	domType, reason, err := engine.ResolveAccel(lab.Accel, libvirt.HostInfo{}, accelProbe(ctx, hv, uri))
	if err != nil {
		return nil, fmt.Errorf("lab %q: %w", lab.Name, err)
	}
	if s.Keys, err = keys.Open(keys.DefaultDir(lab.Name)); err != nil {
		return nil, err
	}
	images := o.Images
	if images == nil {
		images = StoreImage
	}
	s.Opts = engine.Options{URI: uri, DomainType: domType, AccelReason: reason, Version: version.String(),
		Images: images, Seed: engine.Seeder(lab, s.Keys), Owner: o.Owner}
	if IsLocalURI(uri) {
		s.Opts.ListDir = listDir
	}
	return s, nil
}

// Close releases the libvirt connection (with a qemu+ssh URI, it carries
// the guest SSH connections: close it last).
func (s *Session) Close() error { return s.HV.Close() }

// CheckHolder refuses, naming the owner, a lab held by someone else
// (commands that change guests without going through Up).
func (s *Session) CheckHolder(ctx context.Context) error {
	live, err := engine.Observe(ctx, s.HV, s.Lab.Name, engine.LabPoolName(s.Lab))
	if err != nil {
		return err
	}
	if h := live.Holder(s.Opts.Owner); h != "" && !s.force {
		return &engine.OwnerError{Lab: s.Lab.Name, Owner: h, You: s.Opts.Owner}
	}
	return nil
}

// LabURI picks the libvirt URI: flag, environment, lab file, default.
func LabURI(flag string, lab *topology.Lab) string {
	for _, u := range []string{flag, os.Getenv(EnvURI), lab.URI} {
		if u != "" {
			return u
		}
	}
	return libvirt.DefaultURI
}

// IsLocalURI reports whether uri names a libvirt daemon on this machine,
// so local files (/dev/kvm, console logs) describe the hypervisor host.
func IsLocalURI(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Host == "" || u.Hostname() == "localhost")
}

// accelProbe asks libvirt for its domain types only when needed.
func accelProbe(ctx context.Context, hv libvirt.Hypervisor, uri string) engine.AccelProbe {
	return engine.AccelProbe{Local: IsLocalURI(uri), Host: uri, DomainTypes: func() ([]string, error) {
		c, err := hv.Capabilities(ctx)
		return c.DomainTypes, err
	}}
}

// StoreImage resolves a base image from labctl's image store.
func StoreImage(name string) (*engine.BaseImage, error) {
	img, err := image.DefaultStore().Get(name)
	if err != nil {
		var nf *image.NotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: %v (build it with `labctl image build %s`)", engine.ErrImageMissing, err, name)
		}
		return nil, err
	}
	im, err := engine.LocalImage(name, img.DiskPath(), img.KernelPath(), img.InitrdPath(), img.Manifest.BootCmdline(), img.Manifest.SHA256)
	if err != nil {
		return nil, err
	}
	im.Firstboot = img.Manifest.Firstboot == image.FirstbootLabctl
	im.Agent = im.Firstboot && img.Manifest.HasPackage("qemu-guest-agent")
	return im, nil
}

// guestDialer picks how guest SSH (up's wait, roles, verify, bench, ssh)
// reaches the VMs for uri: directly from this machine (nil) for a local
// daemon, or, for qemu+ssh, through the SSH connection to the libvirt host,
// whose private networks the VMs' management addresses are on. Host keys
// stay pinned either way: the dialer only carries the bytes.
func guestDialer(uri string, hv libvirt.Hypervisor) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	if !libvirt.IsSSHURI(uri) {
		return nil, nil
	}
	g, ok := hv.(libvirt.GuestDialer)
	if !ok {
		return nil, fmt.Errorf("libvirt URI %s: this connection cannot reach the VMs through the libvirt host", uri)
	}
	return g.DialGuest, nil
}
