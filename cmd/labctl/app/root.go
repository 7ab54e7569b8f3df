package app

import (
	"github.com/spf13/cobra"
)

func newRootCmd(a *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "labctl",
		Short: "Turn one HCL file into a working virtual lab on KVM/libvirt",
		Long: `labctl builds virtual labs from a declarative HCL file: networks, disks,
VMs cloned from a base image, and guests configured over SSH into a working
LVS + NFS + Apache cluster. It then verifies and benchmarks the cluster.`,
		Example: `  labctl validate labs/lvs-nat-ha
  labctl plan labs/lvs-nat-ha
  labctl up labs/lvs-nat-ha && labctl verify labs/lvs-nat-ha
  labctl down labs/lvs-nat-ha`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&a.Quiet, "quiet", "q", false, "print only errors and requested output")
	root.PersistentFlags().CountVarP(&a.Verbose, "verbose", "v", "more detail (repeatable)")
	root.AddCommand(
		newVersionCmd(a),
		newValidateCmd(a),
		newPlanCmd(a),
		newImageCmd(a),
		newUpCmd(a),
		newDownCmd(a),
		newStatusCmd(a),
		newSSHCmd(a),
		newConsoleCmd(a),
		newDoctorCmd(a),
		newProvisionCmd(a),
		newVerifyCmd(a),
		newReportCmd(a),
		newBenchCmd(a), newGradeCmd(a), newLoadAgentCmd(a), // load-agent: hidden, run by bench on the client VM
		newClassCmd(a),
		newAccessCmd(a),
		newSnapshotCmd(a),
		newResetCmd(a),
	// new commands are added here, one per line
	)
	return root
}
