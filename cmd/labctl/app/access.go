package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/access"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/spf13/cobra"
)

// accessOptions are access's own flags.
type accessOptions struct {
	out       string // bundle directory
	jump      string // ProxyJump, "" = none
	overwrite bool   // replace the bundle in a non-empty directory
}

func newAccessCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	var o accessOptions
	cmd := &cobra.Command{
		Use:   "access [DIR|FILE] --out DIR",
		Short: "Write a student's access bundle: the lab's key, pinned host keys and an OpenSSH config",
		Long: `access writes into --out what one student needs to reach this lab's VMs and
no other lab's: the lab user's private key (0600), a known_hosts file with the
host keys labctl generated and pinned, an ssh_config with one Host entry per VM,
and a README. The student runs: ssh -F OUT/ssh_config VM. For a class with
several copies (and no single --copy) it writes one bundle per copy into
OUT/<copy>.`,
		Example: `  labctl access labs/lvs-nat-ha --copy alice --out /srv/class/alice
  labctl access labs/classroom --out /srv/class      # /srv/class/1, /2, /3
  labctl access labs/lvs-nat-ha --out alice --jump alice@lab1.example.org`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.out == "" {
				return errors.New("access: --out DIR is required")
			}
			if o.jump != "" {
				if _, err := access.ParseJump(o.jump); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			copies, err := a.selectCopies(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			// One bundle in --out, or with several copies one per copy in
			// --out/<copy>, to hand out to each student.
			out := o.out
			return a.eachCopy(copies, f, false, func(f lifecycleFlags) error {
				if len(copies) > 1 {
					o.out = filepath.Join(out, f.copy)
				}
				s, err := a.openSession(ctx, argOr(args), f)
				if err != nil {
					return err
				}
				defer s.Close()
				dir, err := writeAccess(ctx, s, o)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.IO.Out, "access bundle for lab %s in %s: ssh -F %s VM\n", s.Lab.Name, dir, filepath.Join(dir, access.ConfigFile))
				if o.jump == "" && libvirt.IsSSHURI(s.Opts.URI) && !a.Quiet {
					// The management networks are on the libvirt host, not here.
					fmt.Fprintf(a.IO.Err, "note: lab %s runs on %s: students not on that host need --jump USER@HOST\n", s.Lab.Name, s.Opts.URI)
				}
				return nil
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&o.out, "out", "", "bundle directory (created 0700; must be empty or missing)")
	cmd.Flags().StringVar(&o.jump, "jump", "", "reach the VMs through USER@HOST[:PORT] (ssh ProxyJump), e.g. the lab server")
	cmd.Flags().BoolVar(&o.overwrite, "overwrite", false, "replace the bundle's files in a non-empty --out")
	return cmd
}

// writeAccess writes the bundle of the lab s opened into o.out and returns
// its absolute directory. The lab must be up: every VM defined in libvirt
// and its host key in the lab's key store.
func writeAccess(ctx context.Context, s *provision.Session, o accessOptions) (string, error) {
	b, err := accessBundle(ctx, s, o.jump)
	if err != nil {
		return "", err
	}
	return access.Write(o.out, b, o.overwrite)
}

// accessBundle collects the bundle from the lab's live VMs and key store,
// after the same holder check as `labctl ssh`.
func accessBundle(ctx context.Context, s *provision.Session, jump string) (*access.Bundle, error) {
	if err := s.CheckHolder(ctx); err != nil {
		return nil, err
	}
	live, err := engine.Observe(ctx, s.HV, s.Lab.Name, engine.LabPoolName(s.Lab))
	if err != nil {
		return nil, err
	}
	st, err := s.Machines()
	if err != nil {
		return nil, err
	}
	// Checked before SSHConfig, which would create a user key for a lab
	// that was never brought up.
	key, err := os.ReadFile(s.Keys.UserKeyPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lab %s is not up: no user key in %s (run `labctl up` first)", s.Lab.Name, s.Keys.Dir())
	} else if err != nil {
		return nil, fmt.Errorf("lab %s: user key: %w", s.Lab.Name, err)
	}
	b := &access.Bundle{Lab: s.Lab.Name, Class: s.Lab.Class, Copy: s.Lab.Copy, User: s.Lab.SSHUser, Jump: jump, UserKey: key}
	for _, vm := range st.VMs {
		if _, ok := live.Domains[vm.LibvirtName]; !ok {
			return nil, fmt.Errorf("lab %s is not up: VM %s (%s) is not defined in libvirt (run `labctl up` first)", s.Lab.Name, vm.Name, vm.LibvirtName)
		}
		cfg, err := s.SSHConfig(vm, false)
		if err != nil {
			return nil, fmt.Errorf("lab %s: %w", s.Lab.Name, err)
		}
		host, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("lab %s: VM %s: address %q: %w", s.Lab.Name, vm.Name, cfg.Addr, err)
		}
		h := access.Host{Name: vm.Name, Address: host, HostKey: cfg.HostKey}
		if h.Port, err = strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("lab %s: VM %s: port %q: %w", s.Lab.Name, vm.Name, port, err)
		}
		if tv := s.Lab.VM(vm.Name); tv != nil {
			for _, r := range tv.Roles {
				h.Roles = append(h.Roles, string(r))
			}
		}
		b.Hosts = append(b.Hosts, h)
	}
	return b, nil
}
