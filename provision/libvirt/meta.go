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
	// Owner is who holds the lab (--owner, else the Unix user); "" on
	// objects made before labctl recorded owners: anyone holds those.
	Owner string `xml:"owner,attr,omitempty" json:"owner,omitempty"`
	// Class and Copy are set on the objects of one copy of a classroom lab
	// (up --copies): Class is the lab file's own name and Copy the copy's
	// (Lab is then "<class>-<copy>"), so any host lists a class's copies.
	Class string `xml:"class,attr,omitempty" json:"class,omitempty"`
	Copy  string `xml:"copy,attr,omitempty" json:"copy,omitempty"`
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

// metaAttrs is Meta without a namespace: DomainGetMetadata returns the
// element stripped of it, and DomainSetMetadata wants it that way (libvirt
// adds the namespace with the key as prefix).
type metaAttrs struct {
	XMLName  xml.Name `xml:"lab"`
	Lab      string   `xml:"name,attr"`
	Object   string   `xml:"object,attr"`
	Kind     string   `xml:"kind,attr"`
	Version  string   `xml:"version,attr"`
	SpecHash string   `xml:"spec,attr"`
	Owner    string   `xml:"owner,attr,omitempty"`
	Class    string   `xml:"class,attr,omitempty"`
	Copy     string   `xml:"copy,attr,omitempty"`
	Started  string   `xml:"started,attr,omitempty"`
}

// parseMetaElement parses the element DomainGetMetadata returns.
func parseMetaElement(s string) *Meta {
	var m metaAttrs
	if err := xml.Unmarshal([]byte(s), &m); err != nil || m.Lab == "" {
		return nil
	}
	return &Meta{Lab: m.Lab, Object: m.Object, Kind: m.Kind, Version: m.Version, SpecHash: m.SpecHash, Owner: m.Owner, Class: m.Class, Copy: m.Copy, Started: m.Started}
}

// marshalMetaElement renders m for DomainSetMetadata.
func marshalMetaElement(m *Meta) (string, error) {
	b, err := xml.Marshal(metaAttrs{Lab: m.Lab, Object: m.Object, Kind: m.Kind, Version: m.Version, SpecHash: m.SpecHash, Owner: m.Owner, Class: m.Class, Copy: m.Copy, Started: m.Started})
	return string(b), err
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
