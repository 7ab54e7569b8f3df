// Package verify checks a running lab from inside: HTTP through the VIP
// from a client VM, backend spread, the IPVS table on the active director,
// VRRP ownership, NFS mounts and RAID health. It only reads; it never
// changes a VM.
package verify
