// Package testbed connects the bench library to a running lab: it applies
// experiment variations to the cluster (active real servers, IPVS
// scheduler), injects and reverts real faults (libvirt destroy, stopped
// services, failed RAID members, downed links), runs the load generator
// and the fault prober on the lab's client VM, observes the cluster during
// a fault (VIP holder, IPVS pool, RAID state) and records provenance.
//
// Everything that talks to the lab goes through two narrow interfaces,
// Hosts (SSH runners per VM) and Power (libvirt domains), so tests use
// fakes and labctl wires ssh.Pool and provision/libvirt.
package testbed
