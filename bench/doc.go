// Package bench runs labctl's experiments: for every variation of an
// experiment (active real servers × scheduler, with the service's
// forwarding mode and persistence) it configures the cluster, measures
// Repeat samples with a load driver, then runs the declared faults, and
// writes one result directory (see bench/result). The subpackages do the
// work: load (built-in generator), tool (ab, siege), fault (prober,
// analyzer, injector runner), stats, result and report.
//
// The lab-facing parts are interfaces wired by the caller: Cluster
// (ipvsadm/keepalived changes per variation), Driver (where the load runs)
// and fault.Injector (virsh destroy, …).
package bench
