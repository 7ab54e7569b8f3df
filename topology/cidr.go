package topology

import (
	"fmt"
	"math/big"
	"net/netip"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The longest prefixes that still hold the host, VMs and VIPs (a lab
// network) or every VM (the management network).
const (
	maxNetworkBits    = 29
	maxManagementBits = 24
)

// parseCIDR accepts only IPv4 network prefixes whose host bits are zero.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix such as \"10.0.10.0/24\"", s)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is not IPv4; labctl networks are IPv4", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; the network address is %s", s, p.Masked())
	}
	return p, nil
}

// hostAddr returns the n-th address of p (negative counts from the end, like
// Terraform's cidrhost).
func hostAddr(p netip.Prefix, n int64) (netip.Addr, error) {
	size := int64(1) << (32 - p.Bits())
	if n < 0 {
		n += size
	}
	if n < 0 || n >= size {
		return netip.Addr{}, fmt.Errorf("prefix %s has no host number %d (it has %d addresses)", p, n, size)
	}
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

func broadcast(p netip.Prefix) netip.Addr {
	a, _ := hostAddr(p, -1)
	return a
}

func netmask(bits int) string {
	m := uint32(0xffffffff) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

func numArg(v cty.Value, what string) (int64, error) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, fmt.Errorf("%s must be a whole number", what)
	}
	i, acc := bf.Int64()
	if acc != big.Exact || i > 1<<32 || i < -(1<<32) {
		return 0, fmt.Errorf("%s is out of range", what)
	}
	return i, nil
}

var cidrHostFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "hostnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := parseCIDR(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(0, err)
		}
		n, err := numArg(args[1], "hostnum")
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(1, err)
		}
		a, err := hostAddr(p, n)
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(1, err)
		}
		return cty.StringVal(a.String()), nil
	},
})

var cidrSubnetFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "prefix", Type: cty.String},
		{Name: "newbits", Type: cty.Number},
		{Name: "netnum", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := parseCIDR(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(0, err)
		}
		nb, err := numArg(args[1], "newbits")
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(1, err)
		}
		if nb < 0 || int64(p.Bits())+nb > 32 {
			return cty.UnknownVal(cty.String), function.NewArgError(1, fmt.Errorf("%s extended by %d bits is longer than /32", p, nb))
		}
		nn, err := numArg(args[2], "netnum")
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(2, err)
		}
		if nn < 0 || nn >= int64(1)<<nb {
			return cty.UnknownVal(cty.String), function.NewArgError(2, fmt.Errorf("netnum %d does not fit in %d new bits", nn, nb))
		}
		bits := p.Bits() + int(nb)
		base, _ := hostAddr(p, 0)
		b := base.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if bits < 32 {
			v |= uint32(nn) << (32 - bits)
		} else {
			v |= uint32(nn)
		}
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		return cty.StringVal(netip.PrefixFrom(a, bits).String()), nil
	},
})

var cidrNetmaskFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "prefix", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := parseCIDR(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.String), function.NewArgError(0, err)
		}
		return cty.StringVal(netmask(p.Bits())), nil
	},
})
