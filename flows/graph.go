package flows

import (
	"fmt"
	"slices"
	"strings"
)

// Mermaid renders the flow as a Mermaid `flowchart TD`, for
// `cardflow flows graph` and the console: approval steps are rectangles,
// tasks rounded, notifications flags, alerts hexagons, conditions diamonds
// with one labelled edge per branch, parallel steps a fork and a join
// around one subgraph per branch, and a step with when: has a dashed
// "skip" edge to where it goes when skipped. Node ids are the step ids
// (step ids are lower case, so the generated START, END, *_FORK and *_JOIN
// cannot clash with them).
func (f *Flow) Mermaid() string {
	g := &mermaid{f: f}
	g.line(0, "flowchart TD")
	start := "start"
	if f.Trigger.Event != "" {
		start += " · on " + f.Trigger.Event
	}
	g.line(1, `START(["%s"])`, esc(start))
	g.list(f.Steps, 1, nil)
	g.line(1, `END(["end"])`)
	if len(f.Steps) > 0 {
		g.edges = slices.Insert(g.edges, 0, "START --> "+g.node(f.Steps[0]))
	}
	for _, e := range g.edges {
		g.line(1, "%s", e)
	}
	return g.b.String()
}

// mermaid accumulates node declarations (written as met, so subgraphs
// nest) and edges (written after every node is declared, so that no edge
// pulls a node into the wrong subgraph).
type mermaid struct {
	f     *Flow
	b     strings.Builder
	edges []string
}

func (g *mermaid) line(indent int, format string, args ...any) {
	g.b.WriteString(strings.Repeat("    ", indent))
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *mermaid) edge(format string, args ...any) {
	g.edges = append(g.edges, fmt.Sprintf(format, args...))
}

// mermaidWords are Mermaid keywords a step id may not be used as verbatim.
var mermaidWords = []string{"graph", "flowchart", "subgraph", "style", "class", "classdef", "click", "linkstyle", "direction", "default", "call", "href"}

// node is the id of the node a step is entered by.
func (g *mermaid) node(s *Step) string {
	id := s.ID
	if slices.Contains(mermaidWords, id) {
		id += "_STEP"
	}
	if s.Type == StepParallel {
		return id + "_FORK"
	}
	return id
}

// target is the node of a next/goto target inside a list whose end is the
// parallel step parent's join (nil at the top level, where it is END).
func (g *mermaid) target(id string, parent *Step) string {
	if id == End {
		if parent == nil {
			return "END"
		}
		return strings.TrimSuffix(g.node(parent), "_FORK") + "_JOIN"
	}
	if s := g.f.Step(id); s != nil {
		return g.node(s)
	}
	return "END"
}

func (g *mermaid) list(list []*Step, indent int, parent *Step) {
	for _, s := range list {
		succ := g.target(g.f.Successor(s), parent)
		g.declare(s, indent)
		switch s.Type {
		case StepCondition:
			for _, c := range s.Cases {
				g.edge(`%s -->|"%s"| %s`, g.node(s), esc(c.When.String()), g.target(c.Goto, parent))
			}
			def := succ
			if s.Default != "" {
				def = g.target(s.Default, parent)
			}
			g.edge("%s -->|default| %s", g.node(s), def)
		case StepParallel:
			join := strings.TrimSuffix(g.node(s), "_FORK") + "_JOIN"
			for i, b := range s.Parallel {
				g.edge("%s --> %s", g.node(s), g.node(b.Steps[0]))
				g.line(indent, `subgraph %s_B%d ["%s"]`, strings.TrimSuffix(g.node(s), "_FORK"), i+1, esc(b.Name))
				g.list(b.Steps, indent+1, s)
				g.line(indent, "end")
			}
			g.edge("%s --> %s", join, succ)
		default:
			g.edge("%s --> %s", g.node(s), succ)
		}
		if s.When != nil {
			g.edge("%s -.->|skip| %s", g.node(s), succ)
		}
	}
}

// declare writes a step's node with its shape and a summary label.
func (g *mermaid) declare(s *Step, indent int) {
	parts := []string{esc(s.Name), esc(summary(s))}
	if s.When != nil {
		parts = append(parts, "when "+esc(s.When.String()))
	}
	label := strings.Join(parts, "<br/>")
	id := g.node(s)
	switch s.Type {
	case StepApproval:
		g.line(indent, `%s["%s"]`, id, label)
	case StepTask:
		g.line(indent, `%s("%s")`, id, label)
	case StepNotify:
		g.line(indent, `%s>"%s"]`, id, label)
	case StepAlert:
		g.line(indent, `%s{{"%s"}}`, id, label)
	case StepCondition:
		g.line(indent, `%s{"%s"}`, id, label)
	case StepParallel:
		g.line(indent, `%s[["%s"]]`, id, label)
		g.line(indent, `%s_JOIN[["join: all branches done"]]`, strings.TrimSuffix(id, "_FORK"))
	}
}

// summary is the second line of a node: type, sign, assignees, SLA, CC.
func summary(s *Step) string {
	parts := []string{string(s.Type)}
	if s.Type == StepApproval {
		sign := "sign " + s.Sign.String()
		if s.Sequential {
			sign += ", in order"
		}
		parts = append(parts, sign)
	}
	if len(s.Assignees) > 0 {
		parts = append(parts, s.Assignees.String())
	}
	if s.SLA > 0 {
		parts = append(parts, "SLA "+FormatDuration(s.SLA))
	}
	if len(s.CC) > 0 {
		parts = append(parts, "cc "+s.CC.String())
	}
	if s.Type == StepParallel {
		parts = append(parts, fmt.Sprintf("%d branches", len(s.Parallel)))
	}
	return strings.Join(parts, " · ")
}

// esc makes text safe inside a quoted Mermaid label.
var esc = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace
