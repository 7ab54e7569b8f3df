package guestout

import (
	"bufio"
	"net/netip"
	"strconv"
	"strings"
)

// MdadmDetail is the part of `mdadm --detail <dev>` labctl checks.
type MdadmDetail struct {
	Level          string // "raid6"
	RaidDevices    int
	TotalDevices   int
	ActiveDevices  int
	WorkingDevices int
	FailedDevices  int
	SpareDevices   int
	State          string // "clean, resyncing"
	// SyncAction is "resync", "recovery", "reshape" or "check" while one
	// runs (from "Resync Status"/"Rebuild Status"/…), "" otherwise.
	SyncAction  string
	SyncPercent int
	Name, UUID  string
}

// ParseMdadmDetail parses `mdadm --detail` (mdadm 4.x "Key : value" lines).
func ParseMdadmDetail(out string) MdadmDetail {
	var d MdadmDetail
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " : ")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		num := func() int { n, _ := strconv.Atoi(strings.Fields(v + " 0")[0]); return n }
		switch k {
		case "Raid Level":
			d.Level = v
		case "Raid Devices":
			d.RaidDevices = num()
		case "Total Devices":
			d.TotalDevices = num()
		case "Active Devices":
			d.ActiveDevices = num()
		case "Working Devices":
			d.WorkingDevices = num()
		case "Failed Devices":
			d.FailedDevices = num()
		case "Spare Devices":
			d.SpareDevices = num()
		case "State":
			d.State = v
		case "Resync Status", "Rebuild Status", "Reshape Status", "Check Status":
			d.SyncAction = map[string]string{"Resync Status": "resync", "Rebuild Status": "recovery", "Reshape Status": "reshape", "Check Status": "check"}[k]
			d.SyncPercent, _ = strconv.Atoi(strings.TrimSuffix(strings.Fields(v + " 0")[0], "%"))
		case "Name":
			d.Name = strings.Fields(v + " ")[0]
		case "UUID":
			d.UUID = v
		}
	}
	return d
}

// MdstatArray is one array of /proc/mdstat.
type MdstatArray struct {
	Name     string // "md127"
	Active   bool   // "active" (vs "inactive")
	Level    string // "raid6"
	Members  []MdstatMember
	Want     int    // [5/4]: devices the array should have …
	Have     int    // … and devices working
	Map      string // "UUUU_"
	Action   string // resync | recovery | reshape | check | "" (also "resync=DELAYED" → "resync")
	Progress float64
}

// MdstatMember is one component, e.g. "vdb[0]", "vdg[5](S)".
type MdstatMember struct {
	Dev    string
	Slot   int
	Spare  bool
	Faulty bool
}

// ParseMdstat parses /proc/mdstat.
func ParseMdstat(out string) []MdstatArray {
	var arrays []MdstatArray
	var cur *MdstatArray
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == ":" && strings.HasPrefix(f[0], "md"):
			arrays = append(arrays, MdstatArray{Name: f[0]})
			cur = &arrays[len(arrays)-1]
			rest := f[2:]
			cur.Active = rest[0] == "active"
			rest = rest[1:]
			for len(rest) > 0 && strings.HasPrefix(rest[0], "(") { // (read-only), (auto-read-only)
				rest = rest[1:]
			}
			if len(rest) > 0 && strings.HasPrefix(rest[0], "raid") || len(rest) > 0 && rest[0] == "linear" {
				cur.Level = rest[0]
				rest = rest[1:]
			}
			for _, m := range rest {
				cur.Members = append(cur.Members, parseMember(m))
			}
		case cur != nil && len(f) > 0 && strings.Contains(line, "blocks"):
			for _, t := range f {
				if strings.HasPrefix(t, "[") && strings.Contains(t, "/") {
					w, h, _ := strings.Cut(strings.Trim(t, "[]"), "/")
					cur.Want, _ = strconv.Atoi(w)
					cur.Have, _ = strconv.Atoi(h)
				} else if strings.HasPrefix(t, "[") && strings.Trim(t, "[]U_") == "" {
					cur.Map = strings.Trim(t, "[]")
				}
			}
		case cur != nil && strings.Contains(line, "=") && (strings.Contains(line, "resync") || strings.Contains(line, "recovery") || strings.Contains(line, "reshape") || strings.Contains(line, "check")):
			for i, t := range f {
				for _, a := range []string{"resync", "recovery", "reshape", "check"} {
					if t == a && i+2 < len(f) && f[i+1] == "=" {
						cur.Action = a
						cur.Progress, _ = strconv.ParseFloat(strings.TrimSuffix(f[i+2], "%"), 64)
					} else if strings.HasPrefix(t, a+"=") { // resync=DELAYED, resync=PENDING
						cur.Action = a
					}
				}
			}
		case len(f) == 0:
			cur = nil
		}
	}
	return arrays
}

func parseMember(s string) MdstatMember {
	m := MdstatMember{}
	for strings.HasSuffix(s, ")") {
		i := strings.LastIndex(s, "(")
		if i < 0 {
			break
		}
		switch s[i+1 : len(s)-1] {
		case "S":
			m.Spare = true
		case "F":
			m.Faulty = true
		}
		s = s[:i]
	}
	dev, slot, _ := strings.Cut(s, "[")
	m.Dev = dev
	m.Slot, _ = strconv.Atoi(strings.TrimSuffix(slot, "]"))
	return m
}

// IPVSService is one virtual service of `ipvsadm -Ln`.
type IPVSService struct {
	Protocol     string // TCP | UDP | FWM
	Addr         string // "192.168.100.200:80"
	Scheduler    string
	Persistent   int    // seconds, 0 = not persistent
	Mask         string // persistence netmask
	Flags        string // e.g. "sh-fallback"
	Destinations []IPVSDest
}

// IPVSDest is one real server of a service.
type IPVSDest struct {
	Addr       string // "10.0.10.11:80"
	Forward    string // Masq | Route | Tunnel | Local
	Weight     int
	ActiveConn int
	InActConn  int
}

// ParseIPVS parses `ipvsadm -Ln` (ipvsadm 1.31).
func ParseIPVS(out string) []IPVSService {
	var svcs []IPVSService
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "TCP", "UDP", "FWM", "SCTP":
			if len(f) < 3 {
				continue
			}
			s := IPVSService{Protocol: f[0], Addr: f[1], Scheduler: f[2]}
			for i := 3; i < len(f); i++ {
				switch {
				case f[i] == "persistent" && i+1 < len(f):
					s.Persistent, _ = strconv.Atoi(f[i+1])
					i++
				case f[i] == "mask" && i+1 < len(f):
					s.Mask = f[i+1]
					i++
				case strings.HasPrefix(f[i], "("):
					s.Flags = strings.Trim(f[i], "()")
				}
			}
			svcs = append(svcs, s)
		case "->":
			if len(svcs) == 0 || len(f) < 6 {
				continue
			}
			if _, err := netip.ParseAddrPort(f[1]); err != nil {
				continue // the "-> RemoteAddress:Port" header line
			}
			d := IPVSDest{Addr: f[1], Forward: f[2]}
			d.Weight, _ = strconv.Atoi(f[3])
			d.ActiveConn, _ = strconv.Atoi(f[4])
			d.InActConn, _ = strconv.Atoi(f[5])
			s := &svcs[len(svcs)-1]
			s.Destinations = append(s.Destinations, d)
		}
	}
	return svcs
}

// HoldsAddr reports whether `ip -o addr show` output lists addr on any
// interface (as a prefix such as 192.168.1.200/24).
func HoldsAddr(out string, addr netip.Addr) bool {
	for _, f := range strings.Fields(out) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Addr() == addr {
			return true
		}
	}
	return false
}
