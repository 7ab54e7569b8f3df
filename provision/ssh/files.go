package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// exitNotExist is what the ReadFile script exits with for a missing file;
// neither sh, sudo nor cat uses it.
const exitNotExist = 44

func checkPath(p string) error {
	if !path.IsAbs(p) || strings.ContainsRune(p, 0) || strings.HasSuffix(p, "/") {
		return fmt.Errorf("need an absolute file path, got %q", p)
	}
	return nil
}

// WriteFile implements Runner: data goes to a temp file next to path
// (created 0600, then chmod mode) that is renamed over path, so readers
// see the old or the new content, never a mix. Missing parent directories
// are created. The file belongs to the login user, or root with Sudo.
func (c *Client) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("%s: write file: %w", c.cfg.Host, err)
	}
	script := fmt.Sprintf(`set -e
p=%s
mkdir -p -- "$(dirname -- "$p")"
t=$(mktemp "$p.labctl-XXXXXX")
trap 'rm -f -- "$t"' EXIT
cat > "$t"
chmod %04o "$t"
mv -f -- "$t" "$p"
trap - EXIT`, Quote(p), uint32(mode.Perm()))
	if _, err := c.runInput(ctx, "write "+p, script, bytes.NewReader(data)); err != nil {
		return err
	}
	return nil
}

// ReadFile implements Runner; a missing file gives an error wrapping
// fs.ErrNotExist.
func (c *Client) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("%s: read file: %w", c.cfg.Host, err)
	}
	script := fmt.Sprintf(`p=%s; [ -e "$p" ] || exit %d; exec cat -- "$p"`, Quote(p), exitNotExist)
	res, err := c.runInput(ctx, "read "+p, script, nil)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) && ce.ExitCode == exitNotExist {
			return nil, fmt.Errorf("%s: read %s: %w", c.cfg.Host, p, fs.ErrNotExist)
		}
		return nil, err
	}
	return res.Stdout, nil
}
