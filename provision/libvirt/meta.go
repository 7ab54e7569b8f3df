package libvirt

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// Namespace is the XML namespace of labctl's metadata element.
const Namespace = "https://labctl.dev/xmlns/labctl/1"

// MetaKey is the prefix libvirt uses for the namespace in its XML.
const MetaKey = "labctl"

// Meta is labctl's ownership record, kept in the metadata element of every
// domain and network it creates: libvirt itself says which lab owns what
// and from which spec it was built.
type Meta struct {
	XMLName  xml.Name `xml:"https://labctl.dev/xmlns/labctl/1 lab" json:"-"`
	Lab      string   `xml:"name,attr" json:"lab"`
	Object   string   `xml:"object,attr" json:"object"`   // VM or network name inside the lab
	Kind     string   `xml:"kind,attr" json:"kind"`       // "domain" | "network"
	Version  string   `xml:"version,attr" json:"version"` // labctl version that created it
	SpecHash string   `xml:"spec,attr" json:"spec_hash"`
	// Started is the RFC 3339 time the domain was last started (live XML only).
	Started string `xml:"started,attr,omitempty" json:"started,omitempty"`
}

// MarshalMeta renders m as the inner XML of a metadata element.
func MarshalMeta(m *Meta) (string, error) {
	b, err := xml.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("marshal labctl metadata: %w", err)
	}
	return string(b), nil
}

// ParseMeta finds labctl's element in the inner XML of a metadata element
// (which may hold other applications' elements too). It returns nil when
// there is none.
func ParseMeta(inner string) *Meta {
	if !strings.Contains(inner, Namespace) {
		return nil
	}
	dec := xml.NewDecoder(strings.NewReader(inner))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != Namespace || se.Name.Local != "lab" {
			continue
		}
		var m Meta
		if err := dec.DecodeElement(&m, &se); err != nil {
			return nil
		}
		return &m
	}
}

// StartedAt parses Started, zero when absent or malformed.
func (m *Meta) StartedAt() time.Time {
	if m == nil || m.Started == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, m.Started)
	if err != nil {
		return time.Time{}
	}
	return t
}
