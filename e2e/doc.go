// Package e2e holds labctl's end-to-end tests (build tag e2e): they drive
// the real labctl binary against real libvirt and QEMU inside the sandbox
// network namespace and assert the outcome through libvirt. See
// docs/lifecycle.md:
//
//	sandbox/setup.sh
//	sandbox/run.sh go test -tags e2e -v -timeout 50m ./e2e/...
package e2e
