package image

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// fakeRunner records commands and answers them from a handler.
type fakeRunner struct {
	mu      sync.Mutex
	calls   []string
	handler func(name string, args []string) ([]byte, error)
}

func (f *fakeRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	f.mu.Unlock()
	if f.handler == nil {
		return nil, nil
	}
	return f.handler(name, args)
}

func (f *fakeRunner) ran(prefix string) bool {
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

// lookPathExcept finds every tool but the given ones.
func lookPathExcept(missing ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		for _, m := range missing {
			if m == name {
				return "", errors.New("not found")
			}
		}
		return "/usr/bin/" + name, nil
	}
}
