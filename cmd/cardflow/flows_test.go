package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	exampleFlows = "../../configs/flows"
	exampleOrg   = "../../configs/org.example.yaml"
)

func TestFlowsCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"validate examples against the org", []string{"flows", "validate", "--org", exampleOrg, exampleFlows}, 0, "ok  order_fulfilment"},
		{"validate one file", []string{"flows", "validate", exampleFlows + "/purchase_request.yaml"}, 0, "ok  purchase_request"},
		{"validate bad fixtures", []string{"flows", "validate", "../../flows/testdata/flows/bad"}, 1, "bad/alert.yaml:9: step page: dedupe_key is required"},
		{"validate missing path", []string{"flows", "validate", "no/such/dir"}, 1, "no such file or directory"},
		{"graph", []string{"flows", "graph", "--dir", exampleFlows, "order_fulfilment"}, 0, "flowchart TD"},
		{"graph unknown flow", []string{"flows", "graph", "--dir", exampleFlows, "nope"}, 1, `no flow "nope"`},
		{"graph without id", []string{"flows", "graph", "--dir", exampleFlows}, 2, "exactly one flow id"},
		{"no subcommand", []string{"flows"}, 2, "Usage: cardflow flows validate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(tt.args...)
			require.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", out, errOut)
			require.Contains(t, out+errOut, tt.contains)
		})
	}
}
