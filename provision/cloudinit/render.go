package cloudinit

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/labctl/labctl/provision/keys"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// templates is parsed once; it is read-only after package init.
var templates = template.Must(template.New("").
	Option("missingkey=error").
	Funcs(template.FuncMap{"q": quote}).
	ParseFS(templateFS, "templates/*.tmpl"))

// quote renders s as a YAML double-quoted scalar. Go's escapes
// (\n \t \" \\ \xNN \uNNNN \UNNNNNNNN) are all valid YAML escapes and mean
// the same for valid UTF-8, which is why invalid UTF-8 is refused.
func quote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("value %q is not valid UTF-8", s)
	}
	return strconv.Quote(s), nil
}

type userData struct {
	Hostname, FQDN, User      string
	HostKeyPEM, HostKeyPublic string
	AuthorizedKeys            []string
	Files                     []fileData
}

type fileData struct{ Path, Owner, Mode, Content string }

type nicData struct {
	Name, MAC, Address, Gateway, DefaultRoute string
	DHCP                                      bool
	MTU                                       int
	Nameservers, Search                       []string
}

// Render validates s and renders its three seed files. The same Seed
// always renders to the same bytes.
func Render(s Seed) (Files, error) {
	if err := s.validate(); err != nil {
		return Files{}, fmt.Errorf("cloud-init seed for %q: %w", s.Hostname, err)
	}
	ud := userData{
		Hostname:       s.Hostname,
		FQDN:           s.FQDN,
		User:           s.User,
		HostKeyPEM:     string(s.HostKeyPEM),
		HostKeyPublic:  keys.AuthorizedKey(s.HostKey),
		AuthorizedKeys: s.AuthorizedKeys,
	}
	for _, f := range s.Files {
		mode, owner := f.modeOwner()
		ud.Files = append(ud.Files, fileData{
			Path:    f.Path,
			Owner:   owner,
			Mode:    mode,
			Content: base64.StdEncoding.EncodeToString(f.Content),
		})
	}
	var nics []nicData
	for _, n := range s.NICs {
		d := nicData{Name: n.Name, MAC: strings.ToLower(n.MAC), DHCP: n.DHCP && !n.Address.IsValid(), MTU: n.MTU, Search: n.Search}
		if n.Address.IsValid() {
			d.Address = n.Address.String()
		}
		if n.Gateway.IsValid() {
			d.Gateway = n.Gateway.String()
			d.DefaultRoute = "0.0.0.0/0" // "default" is not understood by every cloud-init renderer
			if n.Gateway.Is6() {
				d.DefaultRoute = "::/0"
			}
		}
		for _, ns := range n.Nameservers {
			d.Nameservers = append(d.Nameservers, ns.String())
		}
		nics = append(nics, d)
	}

	var out Files
	var err error
	if out.UserData, err = execute("user-data.tmpl", ud); err != nil {
		return Files{}, err
	}
	if out.NetworkConfig, err = execute("network-config.tmpl", struct{ NICs []nicData }{nics}); err != nil {
		return Files{}, err
	}
	id := s.InstanceID
	if id == "" {
		sum := sha256.Sum256(append(append([]byte{}, out.UserData...), out.NetworkConfig...))
		id = "labctl-" + s.Hostname + "-" + hex.EncodeToString(sum[:6])
	}
	if out.MetaData, err = execute("meta-data.tmpl", struct{ InstanceID, Hostname string }{id, s.Hostname}); err != nil {
		return Files{}, err
	}
	out.Labctl = labctlFiles(s, id)
	return out, nil
}

func execute(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", strings.TrimSuffix(name, ".tmpl"), err)
	}
	return b.Bytes(), nil
}
