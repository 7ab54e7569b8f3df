package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"
)

// Pool holds one Client per VM, dialled on first use and shared by every
// step that talks to that VM.
type Pool struct {
	mu      sync.Mutex
	entries map[string]*poolEntry
	closed  bool
}

type poolEntry struct {
	mu     sync.Mutex // held while dialling, so one VM is dialled once
	cfg    Config
	client *Client
}

// NewPool returns a pool knowing how to reach cfgs.
func NewPool(cfgs ...Config) *Pool {
	p := &Pool{entries: map[string]*poolEntry{}}
	for _, c := range cfgs {
		p.entries[c.Host] = &poolEntry{cfg: c}
	}
	return p
}

// Add sets how to reach cfg.Host, closing a client dialled with an older
// configuration.
func (p *Pool) Add(cfg Config) {
	p.mu.Lock()
	old := p.entries[cfg.Host]
	p.entries[cfg.Host] = &poolEntry{cfg: cfg}
	p.mu.Unlock()
	if old != nil {
		old.mu.Lock()
		if old.client != nil {
			_ = old.client.Close()
		}
		old.mu.Unlock()
	}
}

func (p *Pool) entry(vm string) (*poolEntry, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("ssh to %s: pool closed", vm)
	}
	e, ok := p.entries[vm]
	if !ok {
		return nil, fmt.Errorf("ssh to %s: unknown VM", vm)
	}
	return e, nil
}

// Get returns vm's client, dialling it (once, no retries) if needed.
func (p *Pool) Get(ctx context.Context, vm string) (*Client, error) {
	return p.get(ctx, vm, func(ctx context.Context, cfg Config) (*Client, error) { return Dial(ctx, cfg) })
}

// WaitReady is WaitReady for vm; the client is kept in the pool.
func (p *Pool) WaitReady(ctx context.Context, vm string, timeout time.Duration) (*Client, error) {
	return p.get(ctx, vm, func(ctx context.Context, cfg Config) (*Client, error) { return WaitReady(ctx, cfg, timeout) })
}

func (p *Pool) get(ctx context.Context, vm string, dial func(context.Context, Config) (*Client, error)) (*Client, error) {
	e, err := p.entry(vm)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		return e.client, nil
	}
	c, err := dial(ctx, e.cfg)
	if err != nil {
		return nil, err
	}
	// Close may have run while we dialled.
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		c.Close()
		return nil, fmt.Errorf("ssh to %s: pool closed", vm)
	}
	e.client = c
	return c, nil
}

// Runner returns a Runner for vm that dials lazily on its first command.
func (p *Pool) Runner(vm string) Runner { return &lazyRunner{pool: p, host: vm} }

// Close closes every client; the pool can't be used afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := p.entries
	p.entries = map[string]*poolEntry{}
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		e.mu.Lock()
		if e.client != nil {
			errs = append(errs, e.client.Close())
			e.client = nil
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

type lazyRunner struct {
	pool *Pool
	host string
}

func (r *lazyRunner) Host() string { return r.host }

func (r *lazyRunner) Run(ctx context.Context, cmd string) (Result, error) {
	c, err := r.pool.Get(ctx, r.host)
	if err != nil {
		return Result{ExitCode: -1}, err
	}
	return c.Run(ctx, cmd)
}

// Exec implements Streamer.
func (r *lazyRunner) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c, err := r.pool.Get(ctx, r.host)
	if err != nil {
		return -1, err
	}
	return c.Exec(ctx, cmd, stdin, stdout, stderr)
}

func (r *lazyRunner) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	c, err := r.pool.Get(ctx, r.host)
	if err != nil {
		return err
	}
	return c.WriteFile(ctx, path, data, mode)
}

func (r *lazyRunner) ReadFile(ctx context.Context, path string) ([]byte, error) {
	c, err := r.pool.Get(ctx, r.host)
	if err != nil {
		return nil, err
	}
	return c.ReadFile(ctx, path)
}
