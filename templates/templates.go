// Package templates holds the text/template files labctl renders into
// guest configuration (keepalived, Apache, NFS exports, mdadm, sysctl …).
// Templates are strict: a missing key is an error, never "<no value>".
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

var parsed = sync.OnceValues(func() (*template.Template, error) {
	return template.New("").
		Option("missingkey=error").
		Funcs(template.FuncMap{"join": strings.Join}).
		ParseFS(files, "*.tmpl")
})

// Render executes the template file name (e.g. "keepalived.conf.tmpl")
// with data.
func Render(name string, data any) ([]byte, error) {
	t, err := parsed()
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	tt := t.Lookup(name)
	if tt == nil {
		return nil, fmt.Errorf("template %q does not exist", name)
	}
	var b bytes.Buffer
	if err := tt.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// Names lists the embedded templates.
func Names() ([]string, error) {
	t, err := parsed()
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	var out []string
	for _, tt := range t.Templates() {
		if strings.HasSuffix(tt.Name(), ".tmpl") {
			out = append(out, tt.Name())
		}
	}
	return out, nil
}
