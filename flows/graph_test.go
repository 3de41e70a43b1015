package flows

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ with the current output")

// TestMermaidGolden renders every example flow and good fixture and
// compares with testdata/mermaid/<name>.mmd; run `go test ./flows/ -run
// Mermaid -update` after an intended change and review the diff.
func TestMermaidGolden(t *testing.T) {
	t.Parallel()
	examples, err := LoadDir("../configs/flows")
	require.NoError(t, err)
	cases := map[string]*Flow{
		"full":          mustFixture(t, "full"),
		"design_sketch": mustFixture(t, "design_sketch"),
	}
	for _, f := range examples {
		cases[f.ID] = f
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := f.Mermaid()
			golden := filepath.Join("testdata", "mermaid", name+".mmd")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}

func TestMermaidShapes(t *testing.T) {
	t.Parallel()
	got := mustFixture(t, "full").Mermaid()
	for _, want := range []string{
		"flowchart TD\n",
		`START(["start · on order.created"])`,
		`route{"金额路由<br/>condition<br/>when form.level != #quot;low#quot;"}`, // a condition is a diamond
		`route -->|"form.amount #gt; 5000"| finance`,                         // one labelled edge per branch
		"route -->|default| prep_FORK",
		"prep_FORK --> pick", "prep_FORK --> buy", "prep_JOIN --> page", // fork and join
		`subgraph prep_B1 ["仓库"]`,
		"recheck -->|default| prep_JOIN", // End inside a branch joins
		"prep_FORK -.->|skip| page",      // when: skips are dashed
		"tell -.->|skip| END",
		`END(["end"])`,
	} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "-->|skip|", "skips are never solid edges")
	// Every node is declared before the first edge, so no edge can pull a
	// node into the wrong subgraph.
	lines := strings.Split(got, "\n")
	firstEdge := -1
	for i, l := range lines {
		if strings.Contains(l, "-->") || strings.Contains(l, "-.->") {
			if firstEdge < 0 {
				firstEdge = i
			}
			continue
		}
		if firstEdge >= 0 && strings.TrimSpace(l) != "" {
			t.Fatalf("line %d declares after the edges: %q", i+1, l)
		}
	}
}

func TestMermaidKeywordIDs(t *testing.T) {
	t.Parallel()
	f, err := ParseFlow("kw.yaml", []byte(`id: kw
name: kw
steps:
  - {id: style, type: task, assignees: {role: cs}}
  - {id: graph, type: parallel, branches: [[{id: class, type: task, assignees: {role: cs}}], [{id: click, type: notify, assignees: {role: cs}}]]}
`))
	require.NoError(t, err)
	got := f.Mermaid()
	require.Contains(t, got, "START --> style_STEP\n")
	require.Contains(t, got, "style_STEP --> graph_STEP_FORK\n")
	require.Contains(t, got, "class_STEP --> graph_STEP_JOIN\n")
	require.Contains(t, got, "graph_STEP_JOIN --> END\n")
}
