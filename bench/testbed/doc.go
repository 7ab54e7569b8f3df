// Package testbed is labctl's one experiment runner, on a running lab:
// Bench.Run applies each variation to the cluster (Variations: active real
// servers, IPVS scheduler), measures it from the lab's client VM (the load
// agent, ab or siege), then runs each fault Repeat times (FaultRunner:
// Injector for libvirt destroy, stopped services, failed RAID members,
// downed links; the prober on the client VM; an Observer watching VIP
// holder, IPVS pool and RAID state), and writes the run directory once,
// with provenance.
//
// Everything that talks to the lab goes through two narrow interfaces,
// Hosts (SSH runners per VM) and Power (libvirt domains), so the unit
// tests run this same path on testbedtest's simulated lab and labctl wires
// the Hosts of the lab's provision.Session and provision/libvirt.
package testbed
