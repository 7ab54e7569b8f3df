package roles

import (
	"context"
	"fmt"
	"strings"

	"github.com/labctl/labctl/topology"
)

// clientTools are the load and check tools verify and bench run on a client VM.
var clientTools = []string{"curl", "ab", "siege"}

func clientRole() *role {
	return &role{
		name:     topology.RoleClient,
		packages: []string{"curl", "apache2-utils", "siege"},
		files:    func(*topology.Lab, *topology.VM) ([]file, error) { return nil, nil },
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			return []step{{name: "tools", run: clientToolsStep}}
		},
	}
}

func clientToolsStep(ctx context.Context, h *host) (bool, error) {
	checks := make([]string, len(clientTools))
	for i, t := range clientTools {
		checks[i] = "command -v " + t
	}
	ok, err := h.tests(ctx, checks...)
	if err != nil {
		return false, err
	}
	var missing []string
	for i, t := range clientTools {
		if !ok[i] {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return false, fmt.Errorf("client tools missing: %s (the image must include curl, apache2-utils and siege)", strings.Join(missing, ", "))
	}
	return false, nil
}
