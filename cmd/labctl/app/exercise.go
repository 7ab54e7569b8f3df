package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/labctl/labctl/topology"
)

// writeStudentWork tells what an exercise lab leaves to the student, after
// up or provision configured the rest.
func writeStudentWork(w io.Writer, lab *topology.Lab, solution bool) {
	work := lab.StudentWork()
	if len(work) == 0 {
		return
	}
	if solution {
		fmt.Fprintf(w, "exercise %s: the model answer is configured (provision --solution); labctl grade scores it\n", lab.Exercise.Name)
		return
	}
	fmt.Fprintf(w, "exercise %s: left to the student (labctl grade scores it; labctl provision --solution configures it):\n", lab.Exercise.Name)
	for _, v := range work {
		roles := make([]string, len(v.Roles))
		for i, r := range v.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(w, "  %-16s %s\n", v.VM, strings.Join(roles, ", "))
	}
}
