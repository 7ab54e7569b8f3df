// Package guestout parses the output of commands labctl runs in guests
// (`mdadm --detail`, /proc/mdstat, `ipvsadm -Ln`, `ip -o addr`). It sits
// below both the guest roles and the checks of verify and bench, which read
// the same outputs, so none of them imports another for a parser.
package guestout
