// Package bench holds what labctl's experiments measure with: Plan expands
// an experiment into its variations (active real servers × scheduler, with
// the service's forwarding mode and persistence) and a Driver measures one
// sample of load (the built-in generator, ab or siege). bench/testbed is
// the one experiment runner: it puts each variation in force on a running
// lab, measures it, runs the faults and writes the run directory once. The
// other subpackages do the work: load (built-in generator), tool (ab,
// siege), fault (prober, analyzer), stats, result and report.
package bench
