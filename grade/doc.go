// Package grade scores a lab by what its cluster does: the behaviour
// `labctl verify` proves (the VIP answers, every real server serves, the
// RAID is clean, NFS is mounted) and drills that inject a fault, watch the
// service from the lab's client and revert it (the active director's
// keepalived dies, a real server's web server stops, a RAID member fails).
// Each line of the rubric has points and a hint shown when it fails. It is
// how a teacher checks an exercise lab (topology.Exercise) a student built.
package grade
